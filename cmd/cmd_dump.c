// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uptrkv dump PID: every key of every registered thread of a live process,
 * read through the admin programs and decoded by the recorded manifest.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cmd.h"

/* Bytes and string values in text output are cut after this many bytes
 * (JSON always has them whole). */
#define TEXT_BYTES_MAX	32
#define TEXT_STRING_MAX	64

enum {
	OPT_DEPLOYMENT = 'd',
	OPT_KEY = 'k',
	OPT_STORE = 0x200,
	OPT_MANIFEST,
	OPT_SLOT,
	OPT_TRIES,
};

struct dump_args {
	const char *pid_arg;	/* the positional argument */
	const char *deployment;
	const char **keys;
	size_t nr_keys;
	const char *store;
	const char *manifest;
	int slot;
	int tries;
	bool bad;
};

static const struct argp_option dump_opts[] = {
	{ "deployment", OPT_DEPLOYMENT, "NAME", 0, "Only this deployment's store", 0 },
	{ "key", OPT_KEY, "ID|NAME", 0, "Only this key (repeatable)", 0 },
	{ "store", OPT_STORE, "PATH", 0,
	  "Read this pinned store map instead of the deployments (bare store)", 0 },
	{ "manifest", OPT_MANIFEST, "FILE", 0, "With --store: decode by this manifest", 0 },
	{ "slot", OPT_SLOT, "0|1", 0, "With --store: the meta slot to read (default 0)", 0 },
	{ "tries", OPT_TRIES, "N", 0,
	  "Snapshots per thread before a value that keeps changing is shown as changing (default 8)", 0 },
	{},
};

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static error_t dump_parse(int key, char *arg, struct argp_state *state)
{
	struct dump_args *a = state->input;
	const char **nk;

	switch (key) {
	case OPT_DEPLOYMENT:
		a->deployment = arg;
		return 0;
	case OPT_KEY:
		nk = realloc(a->keys, (a->nr_keys + 1) * sizeof(*nk));
		if (!nk)
			return ENOMEM;
		a->keys = nk;
		a->keys[a->nr_keys++] = arg;
		return 0;
	case OPT_STORE:
		a->store = arg;
		return 0;
	case OPT_MANIFEST:
		a->manifest = arg;
		return 0;
	case OPT_SLOT:
		if (parse_int(arg, 0, UPTRKV_NR_SLOTS - 1, &a->slot))
			return cmd_arg_error(state, "--slot: expected 0 or 1, got '%s'", arg);
		return 0;
	case OPT_TRIES:
		if (parse_int(arg, 1, 1000, &a->tries))
			return cmd_arg_error(state, "--tries: expected 1..1000, got '%s'", arg);
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp dump_argp = {
	.options = dump_opts,
	.parser = dump_parse,
	.doc = "Show every key of every registered thread of a live process (or only "
	       "that thread, if PID is a thread id): id, name, type, size and value, "
	       "read from every deployment whose store holds the process. Names and "
	       "types come from the deployment's recorded manifest; keys it does not "
	       "know are shown by id as bytes. The process is not stopped: a value "
	       "that keeps changing while it is copied is shown as changing.\v"
	       "Exit status: 0 dumped, 1 no uptrkv store registered for PID (or "
	       "a store that cannot be read), 2 bad argument or no such PID.\n\n"
	       "Examples:\n"
	       "  uptrkv dump $(pidof app)\n"
	       "  uptrkv dump 4242 --key rx_bytes --key 7 --json\n"
	       "  uptrkv dump 4243 --deployment demo     # one thread\n"
	       "  uptrkv dump 4242 --store /sys/fs/bpf/my_store --manifest app.yaml",
};

/* ---------------------------------------------------------------- text */

static const char *key_type(const struct uptrkv_dump_key *k)
{
	return uptrkv_type__str(k->type);
}

static void print_text_value(const struct uptrkv_dump_key *k)
{
	__u32 max = k->type == UPTRKV_T_STRING ? TEXT_STRING_MAX : TEXT_BYTES_MAX;
	char small[512], *buf = small;
	int len;

	len = uptrkv_value__format(small, sizeof(small), k->type, k->value, k->size, max);
	if (len >= (int)sizeof(small)) {
		buf = malloc(len + 1);
		if (!buf) {
			fputs("?", stdout);
			return;
		}
		uptrkv_value__format(buf, len + 1, k->type, k->value, k->size, max);
	}
	fputs(buf, stdout);
	if (buf != small)
		free(buf);
}

static void print_text(const struct uptrkv_dump *d, const char *store_path)
{
	int nw = 4;

	for (size_t i = 0; i < d->nr_threads; i++)
		for (size_t j = 0; j < d->threads[i].nr_keys; j++) {
			const char *n = d->threads[i].keys[j].name;
			int l = n ? (int)strlen(n) : 1;

			nw = l > nw ? l : nw;
		}
	if (d->deployment)
		printf("PID %u: deployment %s, version %u (generation %u, meta slot %u)\n", d->pid,
		       d->deployment, d->version, d->gen, UPTRKV_SLOT(d->gen));
	else if (d->manifest)
		printf("PID %u: store %s, manifest %s version %u (meta slot %u)\n", d->pid,
		       store_path, d->manifest->name, d->version, d->threads[0].slot);
	else
		printf("PID %u: store %s, no manifest (meta slot %u)\n", d->pid, store_path,
		       d->threads[0].slot);
	for (size_t i = 0; i < d->nr_threads; i++) {
		const struct uptrkv_dump_thread *t = &d->threads[i];

		printf("  tid %u: %zu key%s\n", t->tid, t->nr_keys, t->nr_keys == 1 ? "" : "s");
		if (!t->nr_keys)
			continue;
		printf("    %4s  %-*s  %-6s  %4s  %s\n", "ID", nw, "NAME", "TYPE", "SIZE", "VALUE");
		for (size_t j = 0; j < t->nr_keys; j++) {
			const struct uptrkv_dump_key *k = &t->keys[j];

			printf("    %4u  %-*s  %-6s  %4u  ", k->id, nw, k->name ? k->name : "-",
			       key_type(k), k->size);
			print_text_value(k);
			fputs(k->changing ? "  (changing)\n" : "\n", stdout);
		}
	}
}

/* ---------------------------------------------------------------- JSON */

static bool utf8_valid(const __u8 *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3 :
		      (s[i] & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || i + len > n)
			return false;
		for (size_t j = 1; j < len; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* A string value up to its NUL. Bytes that are not UTF-8 are given as the
 * code points U+0080..U+00FF, so the JSON stays valid and nothing is lost. */
static void json_string_value(struct jw *w, const __u8 *v, __u32 size)
{
	size_t n = strnlen((const char *)v, size), o = 0;
	char *buf;

	if (utf8_valid(v, n)) {
		jw_string_len(w, (const char *)v, n);
		return;
	}
	buf = malloc(2 * n + 1);
	if (!buf) {
		jw_null(w);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x80) {
			buf[o++] = v[i];
		} else {
			buf[o++] = 0xc0 | (v[i] >> 6);
			buf[o++] = 0x80 | (v[i] & 0x3f);
		}
	}
	jw_string_len(w, buf, o);
	free(buf);
}

static void json_value(struct jw *w, const struct uptrkv_dump_key *k)
{
	char *buf;
	int len;

	switch (k->type) {
	case UPTRKV_T_BOOL:
		jw_bool(w, k->value[0] != 0);
		return;
	case UPTRKV_T_U8: case UPTRKV_T_U16: case UPTRKV_T_U32: case UPTRKV_T_U64:
		jw_uint(w, uptrkv_value__u64(k->type, k->value));
		return;
	case UPTRKV_T_S8: case UPTRKV_T_S16: case UPTRKV_T_S32: case UPTRKV_T_S64:
		jw_int(w, uptrkv_value__s64(k->type, k->value));
		return;
	case UPTRKV_T_STRING:
		json_string_value(w, k->value, k->size);
		return;
	default:
		len = uptrkv_value__format(NULL, 0, k->type, k->value, k->size, 0);
		buf = malloc(len + 1);
		if (!buf) {
			jw_null(w);
			return;
		}
		uptrkv_value__format(buf, len + 1, k->type, k->value, k->size, 0);
		jw_string(w, buf);
		free(buf);
	}
}

/* One deployment's fields, inside an object the caller opened. */
static void json_dump_fields(struct jw *w, const struct uptrkv_dump *d)
{
	jw_name(w, "deployment");
	if (d->deployment)
		jw_string(w, d->deployment);
	else
		jw_null(w);
	jw_name(w, "version");
	if (d->manifest)
		jw_uint(w, d->version);
	else
		jw_null(w);
	if (d->deployment)
		jw_uint_field(w, "generation", d->gen);
	jw_uint_field(w, "slot", d->nr_threads ? d->threads[0].slot : 0);
	jw_name(w, "threads");
	jw_start_array(w);
	for (size_t i = 0; i < d->nr_threads; i++) {
		const struct uptrkv_dump_thread *t = &d->threads[i];

		jw_start_object(w);
		jw_uint_field(w, "tid", t->tid);
		jw_name(w, "keys");
		jw_start_array(w);
		for (size_t j = 0; j < t->nr_keys; j++) {
			const struct uptrkv_dump_key *k = &t->keys[j];

			jw_start_object(w);
			jw_uint_field(w, "id", k->id);
			jw_name(w, "name");
			if (k->name)
				jw_string(w, k->name);
			else
				jw_null(w);
			jw_string_field(w, "type", key_type(k));
			jw_uint_field(w, "size", k->size);
			jw_uint_field(w, "page", k->page);
			jw_name(w, "value");
			json_value(w, k);
			if (k->changing)
				jw_bool_field(w, "changing", true);
			jw_end_object(w);
		}
		jw_end_array(w);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/*
 * One matching deployment: the spec's document. Several: {"pid": N,
 * "deployments": [ {deployment, version, ..., threads}, ... ]}.
 */
static void print_json(struct uptrkv_dump *const *v, size_t n)
{
	struct jw *w = json_begin();

	if (!w)
		return;
	jw_start_object(w);
	jw_uint_field(w, "pid", v[0]->pid);
	if (n == 1) {
		json_dump_fields(w, v[0]);
	} else {
		jw_name(w, "deployments");
		jw_start_array(w);
		for (size_t i = 0; i < n; i++) {
			jw_start_object(w);
			json_dump_fields(w, v[i]);
			jw_end_object(w);
		}
		jw_end_array(w);
	}
	jw_end_object(w);
	json_end();
}

/* ---------------------------------------------------------------- main */

static int exit_status(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case -ESRCH: case -EINVAL: return EXIT_USAGE;
	default: return EXIT_FAIL;
	}
}

static int parse_pid(const char *s, __u32 *pid)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !v || v > 0x3fffffff)
		return -EINVAL;
	*pid = v;
	return 0;
}

/* Permission errors can come from bpffs, map access or program load: say
 * what dump needs whichever it was. */
static void report(const struct uptrkv_error *e)
{
	if ((e->err == -EPERM || e->err == -EACCES) && !strstr(e->msg, "CAP_BPF"))
		p_err(CODE_PERMISSION, "%s (dump needs CAP_BPF and CAP_PERFMON, and read access to bpffs: run as root)",
		      e->msg);
	else
		p_lib_err(e);
}

static int dump_bare(const struct dump_args *a, __u32 pid, const struct uptrkv_dump_opts *o)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_error e = {};
	struct uptrkv_dump *d = NULL;
	int fd, err;

	fd = bpf_obj_get(a->store);
	if (fd < 0) {
		err = -errno;
		if (err == -EPERM || err == -EACCES) {
			p_err(CODE_PERMISSION, "dump: --store %s: %s (dump needs CAP_BPF and CAP_PERFMON: run as root)",
			      a->store, strerror(-err));
			return EXIT_FAIL;
		}
		p_err(err == -ENOENT ? CODE_NOT_FOUND : CODE_USAGE, "dump: --store %s: %s", a->store,
		      strerror(-err));
		return EXIT_USAGE;
	}
	if (a->manifest && cmd_manifest_load("dump", a->manifest, &m, NULL)) {
		err = -EINVAL;
		goto out;
	}
	err = uptrkv_dump__store(fd, m, pid, o, &d, &e);
	if (err) {
		report(&e);
		goto out;
	}
	if (env.json)
		print_json(&d, 1);
	else
		print_text(d, a->store);
out:
	uptrkv_dump__free(d);
	uptrkv_manifest__free(m);
	close(fd);
	return exit_status(err);
}

static int dump_deployments(__u32 pid, const struct uptrkv_dump_opts *o)
{
	struct uptrkv_error e = {};
	struct uptrkv_dump **v = NULL;
	struct uptrkv_deploy *d = NULL;
	size_t n = 0;
	int err;

	/* A --deployment that is not deployed is a bad argument (2), not a
	 * process without a store (1). */
	if (o->deployment) {
		err = uptrkv_deploy__open(env.bpffs, o->deployment, &d, &e);
		uptrkv_deploy__close(d);
		if (err) {
			report(&e);
			return err == -ENOENT ? EXIT_USAGE : EXIT_FAIL;
		}
	}

	err = uptrkv_dump__pid(env.bpffs, pid, o, &v, &n, &e);
	if (err) {
		report(&e);
		return exit_status(err);
	}
	if (env.json) {
		print_json(v, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (i)
				putchar('\n');
			print_text(v[i], NULL);
		}
	}
	uptrkv_dumps__free(v, n);
	return EXIT_OK;
}

int do_dump(int argc, char **argv)
{
	struct dump_args a = {};
	struct cmd_args pos;
	UPTRKV_OPTS(uptrkv_dump_opts, o);
	__u32 pid;
	int ret;

	ret = cmd_parse(argc, argv, &a, &pos);
	if (ret)
		goto out;
	a.pid_arg = pos.v[0];
	if (parse_pid(a.pid_arg, &pid)) {
		p_err(CODE_USAGE, "dump: '%s' is not a PID", a.pid_arg);
		ret = EXIT_USAGE;
		goto out;
	}
	if ((a.manifest || a.slot) && !a.store) {
		p_err(CODE_USAGE, "dump: --manifest and --slot need --store");
		ret = EXIT_USAGE;
		goto out;
	}
	if (a.store && a.deployment) {
		p_err(CODE_USAGE, "dump: --store and --deployment exclude each other");
		ret = EXIT_USAGE;
		goto out;
	}
	o.deployment = a.deployment;
	o.keys = a.keys;
	o.nr_keys = a.nr_keys;
	o.tries = a.tries;
	o.slot = a.slot;
	if (a.store)
		ret = dump_bare(&a, pid, &o);
	else
		ret = need_bpffs() ?: dump_deployments(pid, &o);
out:
	free(a.keys);
	return ret;
}
