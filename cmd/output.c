// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Everything uptrkv says besides a command's own result: the one error path
 * (with the one map from a failure to its stable code), notes, debug lines,
 * rollout progress and the lock-wait message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>
#include "cmd.h"

/*
 * The one map from a failure to the code scripts match on (docs/commands.md,
 * "Error codes"). r, when given, is a rollout's result: what it says beats
 * the errno, which is -EINVAL for a refused plan and a refused object alike.
 */
const char *error_code(const struct uptrkv_error *e, const struct uptrkv_rollout_result *r)
{
	if (r && r->binding.mismatch)
		return CODE_OBJECT_MISMATCH;
	if (r && r->plan && !r->plan->compatible)
		return CODE_INCOMPATIBLE;
	switch (e->err) {
	case -EACCES:
		/* lib/version.c turns BPF_PROG_LOAD's EACCES into this message;
		 * an EACCES from anywhere else is a file or bpffs permission. */
		if (strstr(e->msg, "the verifier rejected"))
			return CODE_VERIFIER;
		return CODE_PERMISSION;
	case -EPERM: return CODE_PERMISSION;
	case -EBUSY:
	case -EWOULDBLOCK: return CODE_LOCK_TIMEOUT;
	case -ENOSPC:
	case -E2BIG: return CODE_NO_SPACE;
	case -ENOENT:
	case -ESRCH: return CODE_NOT_FOUND;
	case -ECANCELED:
	case -EINTR: return CODE_INTERRUPTED;
	case -ENOEXEC: return CODE_OBJECT_MISMATCH;
	case -EINVAL: return CODE_INVALID;
	}
	return CODE_FAILED;
}

/* The tail of the verifier log (cmd/uptrkv.c, print_log_tail), one string
 * per line, and how many lines came before it. */
static void verifier_log_fields(struct jw *w)
{
	const char *p = env.verifier_log, *nl;

	jw_name(w, "verifier_log");
	jw_start_array(w);
	for (; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		jw_string_len(w, p, nl - p);
		if (!*nl)
			break;
	}
	jw_end_array(w);
	jw_uint_field(w, "verifier_log_left_out", env.verifier_log_left_out);
}

/* A JSON error replaces the document, so it is written only when no
 * document was started (returns false if it was not written). */
bool p_err_json(const char *code, const char *msg, err_extra_fn extra, const void *ctx)
{
	struct jw *w;

	if (!env.json || env.jw || env.error_written)
		return false;
	w = jw_new(stdout, env.pretty);
	if (!w)
		return false;
	jw_start_object(w);
	jw_string_field(w, "error", msg);
	jw_string_field(w, "code", code);
	/* Any failed program load, not only code "verifier": the log is the
	 * only place that says why, and it went nowhere else. */
	if (env.verifier_log)
		verifier_log_fields(w);
	if (extra)
		extra(w, ctx);
	jw_end_object(w);
	jw_destroy(w);
	env.error_written = true;
	return true;
}

/* The text goes to stderr in JSON mode too, for the log of a script that
 * keeps stdout for the document. */
void p_err_doc(const char *code, const char *msg, err_extra_fn extra, const void *ctx)
{
	p_err_json(code, msg, extra, ctx);
	fprintf(stderr, "uptrkv: %s\n", msg);
}

void p_err(const char *code, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p_err_doc(code, buf, NULL, NULL);
}

void p_lib_err(const struct uptrkv_error *e)
{
	p_err(error_code(e, NULL), "%s", e->msg[0] ? e->msg : strerror(e->err < 0 ? -e->err : e->err));
}

/* One line on stderr: prefix, the message, a newline. */
static void note(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (env.quiet)
		return;
	va_start(ap, fmt);
	note("uptrkv: ", fmt, ap);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (!env.verbose)
		return;
	va_start(ap, fmt);
	note("uptrkv: debug: ", fmt, ap);
	va_end(ap);
}

struct jw *json_begin(void)
{
	if (env.json && !env.jw && !env.error_written)
		env.jw = jw_new(stdout, env.pretty);
	return env.jw;
}

void json_end(void)
{
	if (env.jw) {
		jw_destroy(env.jw);
		env.jw = NULL;
	}
}

void print_diags(const struct uptrkv_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct uptrkv_diag *g = &d->v[i];

		if (g->line)
			fprintf(stderr, "%s:%d:%d: %s\n", g->file ? g->file : "-",
				g->line, g->col, g->msg);
		else
			fprintf(stderr, "%s: %s\n", g->file ? g->file : "-", g->msg);
	}
}

void json_diags(struct jw *w, const struct uptrkv_diags *d)
{
	jw_name(w, "errors");
	jw_start_array(w);
	for (size_t i = 0; i < d->n; i++) {
		jw_start_object(w);
		jw_int_field(w, "line", d->v[i].line);
		jw_int_field(w, "col", d->v[i].col);
		jw_string_field(w, "message", d->v[i].msg);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* A load that failed: every problem on stderr, unless they go in the
 * caller's JSON document. One with no diagnostic (no memory) still gets a
 * line. */
static void report_diags(const char *path, int err, const struct uptrkv_diags *d, bool kept)
{
	if (kept && env.json)
		return;
	print_diags(d);
	if (!d->n)
		fprintf(stderr, "%s: %s\n", path, strerror(-err));
}

int cmd_manifest_load(const char *cmd, const char *path, struct uptrkv_manifest **m,
		      struct uptrkv_diags *keep)
{
	struct uptrkv_diags own = {}, *d = keep ? keep : &own;
	int err;

	err = uptrkv_manifest__load(path, NULL, m, d);
	if (!err)
		return 0;
	report_diags(path, err, d, keep);
	if (keep)
		return err;
	/* The one-line error (the JSON document too) names the file. */
	if (err == -EINVAL && d->n)
		p_err(CODE_INVALID_MANIFEST, "%s: %s: invalid manifest (%zu error%s)", cmd, path,
		      d->n, d->n == 1 ? "" : "s");
	else
		p_err(CODE_INVALID_MANIFEST, "%s: %s: %s", cmd, path,
		      d->n ? d->v[0].msg : strerror(-err));
	uptrkv_diags__free(&own);
	return err;
}

/*
 * Every command but rollout reads a bpffs that must be there: a typo in
 * --bpffs must not read as "no deployments" (exit 2). Only rollout mounts
 * one. No right to look is a failure to run (exit 1), not a bad argument.
 */
int need_bpffs(void)
{
	struct statfs st;

	if (statfs(env.bpffs, &st)) {
		if (errno == EACCES || errno == EPERM) {
			p_err(CODE_PERMISSION, "bpffs %s: %s (uptrkv needs root: CAP_BPF, and access "
			      "to bpffs)", env.bpffs, strerror(errno));
			return EXIT_FAIL;
		}
		p_err(CODE_NOT_FOUND, "bpffs %s: %s", env.bpffs, strerror(errno));
		return EXIT_USAGE;
	}
	if (st.f_type != BPF_FS_MAGIC) {
		p_err(CODE_NOT_BPFFS, "bpffs %s: not a bpf filesystem (only 'uptrkv rollout' mounts one)",
		      env.bpffs);
		return EXIT_USAGE;
	}
	return 0;
}

/* ---- rollout progress (--progress) ---- */

/* "migrate: building ..." is phase "migrate", detail "building ...". */
static void split_step(const char *step, char *phase, size_t sz, const char **detail)
{
	const char *colon = strchr(step, ':');
	size_t n = colon ? (size_t)(colon - step) : strlen(step);

	snprintf(phase, sz, "%.*s", (int)n, step);
	*detail = colon ? colon + 1 + strspn(colon + 1, " ") : NULL;
}

/* On a terminal: each step as it starts, and a store count while it runs. */
static void progress_tty(const char *step, size_t done, size_t total)
{
	if (!total) {
		fprintf(stderr, "uptrkv: %s\n", step);
		return;
	}
	fprintf(stderr, "\ruptrkv:   %s: %zu/%zu stores", step, done + 1, total);
	if (done + 1 == total)
		fputc('\n', stderr);
}

/* For CI logs: one line per phase, counted ones once, when they end. */
static void progress_plain(const char *step, size_t done, size_t total)
{
	if (!total)
		fprintf(stderr, "uptrkv: %s\n", step);
	else if (done + 1 == total)
		fprintf(stderr, "uptrkv: %s: %zu/%zu stores\n", step, total, total);
}

/* For tools: one JSON object per line, the same phases as plain. */
static void progress_json(const char *step, size_t done, size_t total)
{
	const char *detail;
	char phase[64];
	struct jw *w;

	if (total && done + 1 != total)
		return;
	w = jw_new(stderr, false);
	if (!w)
		return;
	split_step(step, phase, sizeof(phase), &detail);
	jw_start_object(w);
	jw_string_field(w, "phase", phase);
	jw_name(w, "message");
	jw_string(w, detail);
	if (total) {
		jw_uint_field(w, "done", total);
		jw_uint_field(w, "total", total);
	}
	jw_end_object(w);
	jw_destroy(w);
}

static void on_progress(void *ctx, const char *step, size_t done, size_t total)
{
	(void)ctx;
	switch (env.progress) {
	case PROGRESS_PLAIN: progress_plain(step, done, total); break;
	case PROGRESS_JSON: progress_json(step, done, total); break;
	case PROGRESS_AUTO: progress_tty(step, done, total); break;
	case PROGRESS_NONE: break;
	}
}

/* auto: on a terminal, unless the output is JSON or -q asked for quiet. */
static bool progress_wanted(void)
{
	if (env.progress == PROGRESS_NONE)
		return false;
	if (env.progress != PROGRESS_AUTO)
		return true;
	return isatty(STDERR_FILENO) && !env.json && !env.quiet;
}

/* ---- the lock wait ---- */

/* The pid holding a flock on dir, from /proc/locks (0 if none is found). */
static pid_t lock_holder(const char *dir)
{
	unsigned int maj, min;
	unsigned long ino;
	char line[256], kind[16];
	struct stat st;
	pid_t pid = 0;
	int p;
	FILE *f;

	if (stat(dir, &st) || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		/* "1: FLOCK  ADVISORY  WRITE 4242 00:2f:1234 0 EOF" */
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &p, &maj, &min, &ino) == 5 &&
		    !strcmp(kind, "FLOCK") && ino == st.st_ino &&
		    makedev(maj, min) == st.st_dev)
			pid = p;
	}
	fclose(f);
	return pid;
}

/* The holder's command line, words joined by spaces. */
static void proc_cmdline(pid_t pid, char *buf, size_t sz)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sz - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; n && i < n - 1; i++)
		if (!buf[i])
			buf[i] = ' ';
}

static void on_lock_wait(void *ctx, const char *name, const char *dir)
{
	char cmdline[512];
	pid_t pid = lock_holder(dir);

	(void)ctx;
	if (!pid) {
		fprintf(stderr, "uptrkv: waiting for the lock on deployment %s held by another command\n",
			name);
		return;
	}
	proc_cmdline(pid, cmdline, sizeof(cmdline));
	fprintf(stderr, "uptrkv: waiting for the lock on deployment %s held by pid %d (%s)\n",
		name, (int)pid, cmdline[0] ? cmdline : "?");
}

/* What the global options ask of a rollout, rollback or undeploy. */
void global_rollout_opts(struct uptrkv_rollout_opts *o)
{
	o->bpffs = env.bpffs;
	o->command = env.cmdline;
	/* --timeout 0 means no wait: the library's "< 0" (its 0 is the default). */
	if (env.timeout_ms >= 0)
		o->lock_timeout_ms = env.timeout_ms ? env.timeout_ms : -1;
	o->lock_wait = on_lock_wait;
	if (progress_wanted())
		o->progress = on_progress;
}
