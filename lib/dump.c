// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Dump: read a live process's stores through the admin programs and decode
 * them by the deployment's recorded manifest. Nothing here stops or slows
 * the target beyond the two snapshot program runs per thread and try.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "convert.h"
#include "deploy_internal.h"
#include "internal.h"

#define DUMP_TRIES_DEFAULT	8

/* ------------------------------------------------------------- threads */

static int read_tgid(__u32 pid, __u32 *tgid)
{
	char path[64], line[256];
	int err = -EIO;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Tgid: %u", tgid) == 1) {
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int list_tasks(__u32 pid, __u32 **tids, size_t *n)
{
	char path[64];
	struct dirent *de;
	size_t cap = 0;
	__u32 *v = NULL, *nv;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%u/task", pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	*n = 0;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dir);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = strtoul(de->d_name, NULL, 10);
	}
	closedir(dir);
	qsort(v, *n, sizeof(*v), cmp_u32);
	*tids = v;
	return 0;
}

int uptrkv_pid__threads(__u32 pid, __u32 **tids, size_t *n, struct uptrkv_error *e)
{
	__u32 tgid;
	int err;

	*tids = NULL;
	*n = 0;
	if (!pid || pid > INT32_MAX)
		return uptrkv_err(e, -ESRCH, "no such process or thread: PID %u", pid);
	err = read_tgid(pid, &tgid);
	if (err == -ESRCH)
		return uptrkv_err(e, err, "no such process or thread: PID %u", pid);
	if (err)
		return uptrkv_errno(e, err, "reading /proc/%u/status", pid);
	if (tgid != pid) {
		/* A thread id: that thread only. */
		*tids = malloc(sizeof(**tids));
		if (!*tids)
			return uptrkv_err(e, -ENOMEM, "out of memory");
		(*tids)[0] = pid;
		*n = 1;
		return 0;
	}
	err = list_tasks(pid, tids, n);
	if (err == -ESRCH)
		return uptrkv_err(e, err, "no such process or thread: PID %u", pid);
	if (err)
		return uptrkv_errno(e, err, "listing threads of PID %u", pid);
	return 0;
}

/* ------------------------------------------------------------ key sets */

struct keyset {
	bool all;
	bool want[UPTRKV_MAX_KEYS];
};

static bool parse_id(const char *s, __u32 *id)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v >= UPTRKV_MAX_KEYS)
		return false;
	*id = v;
	return true;
}

static const struct uptrkv_key *key_by_name(const struct uptrkv_manifest *m, const char *name)
{
	for (size_t i = 0; m && i < m->nr_keys; i++)
		if (!strcmp(m->keys[i].name, name))
			return &m->keys[i];
	return NULL;
}

/*
 * Fills ks from opts->keys as resolved against m. resolved[i] is set for
 * every filter entry m (or a plain id) resolves.
 */
static void keyset_build(struct keyset *ks, const struct uptrkv_dump_opts *opts,
			 const struct uptrkv_manifest *m, bool *resolved)
{
	const char *const *keys = UPTRKV_OPTS_GET(opts, keys, NULL);
	size_t nr = UPTRKV_OPTS_GET(opts, nr_keys, 0);
	const struct uptrkv_key *k;
	__u32 id;

	memset(ks, 0, sizeof(*ks));
	ks->all = !keys || !nr;
	for (size_t i = 0; !ks->all && i < nr; i++) {
		if (parse_id(keys[i], &id)) {
			ks->want[id] = true;
			resolved[i] = true;
		} else if ((k = key_by_name(m, keys[i]))) {
			ks->want[k->id] = true;
			resolved[i] = true;
		}
	}
}

static int check_resolved(const struct uptrkv_dump_opts *opts, const bool *resolved,
			  const char *where, struct uptrkv_error *e)
{
	const char *const *keys = UPTRKV_OPTS_GET(opts, keys, NULL);
	size_t nr = UPTRKV_OPTS_GET(opts, nr_keys, 0);

	for (size_t i = 0; keys && i < nr; i++)
		if (!resolved[i])
			return uptrkv_err(e, -EINVAL,
					  "--key %s: not a key id (0..1023) and no key of that name in %s",
					  keys[i], where);
	return 0;
}

/* --------------------------------------------------------- one thread */

struct key_state {
	bool done;		/* absent, or read stable */
	bool present;
	__u32 size;
};

static void decide_type(const struct uptrkv_manifest *m, struct uptrkv_dump_key *dk)
{
	const struct uptrkv_key *k = m ? uptrkv_manifest__key(m, dk->id) : NULL;

	dk->name = k ? k->name : NULL;
	/* A size that disagrees with the manifest (a store not migrated to
	 * this layout): show the bytes, do not guess. */
	dk->type = k && k->size == dk->size ? k->type : UPTRKV_T_BYTES;
}

/*
 * One pass over the wanted keys not yet done; returns how many are still
 * not done. Key k's bytes go to buf + k * UPTRKV_MAX_VALUE, so a corrupt
 * meta with overlapping extents cannot overflow anything.
 */
static int decode_pass(const struct uptrkv_snapshot *s, unsigned int slot,
		       const struct keyset *ks, struct key_state *st, __u8 *buf, int *bad_key)
{
	bool meta_stable = s->hdr.struct_seq == s->struct_seq_after;
	int left = 0, err;
	__u32 sz;

	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
		if ((!ks->all && !ks->want[k]) || st[k].done)
			continue;
		/* A forwarded value is read where it still is, converted. */
		err = uptrkv_snapshot__read(s, slot, k, buf + (size_t)k * UPTRKV_MAX_VALUE, &sz);
		if (err == -ENOENT) {
			st[k].present = false;
			st[k].done = meta_stable;
			left += !st[k].done;
			continue;
		}
		if (err) {
			/* Malformed or on a missing page: only trusted once the
			 * meta held still; otherwise read again. */
			if (meta_stable) {
				*bad_key = k;
				return -EUCLEAN;
			}
			left++;
			continue;
		}
		st[k].present = true;
		st[k].size = sz;
		st[k].done = uptrkv_snapshot__stable(s, k, sz);
		left += !st[k].done;
	}
	return left;
}

static int fill_thread(struct uptrkv_dump_thread *t, const struct uptrkv_snapshot *s,
		       const struct uptrkv_manifest *m, const struct key_state *st,
		       const __u8 *buf)
{
	size_t n = 0, bytes = 0, off = 0;

	t->flags = s->hdr.flags;
	t->page_mask = s->hdr.page_mask;
	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
		n += st[k].present;
		bytes += st[k].present ? st[k].size : 0;
	}
	t->keys = calloc(n ? n : 1, sizeof(*t->keys));
	t->values = malloc(bytes ? bytes : 1);
	if (!t->keys || !t->values)
		return -ENOMEM;
	for (__u32 k = 0, i = 0; k < UPTRKV_MAX_KEYS; k++) {
		struct uptrkv_dump_key *dk;

		if (!st[k].present)
			continue;
		dk = &t->keys[i++];
		dk->id = k;
		dk->size = st[k].size;
		dk->value = t->values + off;
		memcpy(dk->value, buf + (size_t)k * UPTRKV_MAX_VALUE, dk->size);
		off += dk->size;
		dk->changing = !st[k].done;
		/* Where its own extent is (a forwarded one's, not yet moved in). */
		dk->page = UPTRKV_ENT_PAGE(s->meta[t->slot & 1].ent[k]);
		decide_type(m, dk);
	}
	t->nr_keys = n;
	return 0;
}

struct dump_ctx {
	struct uptrkv_admin *admin;
	struct uptrkv_snapshot *snap;
	struct uptrkv_page_read *pr;
	struct key_state st[UPTRKV_MAX_KEYS];
	__u8 *buf;		/* UPTRKV_MAX_KEYS * UPTRKV_MAX_VALUE, touched sparsely */
};

/*
 * Re-reads the keys a snapshot caught changing, each from its page alone:
 * the window between the two seqcount reads shrinks from a whole snapshot
 * to one page copy. Returns the number still not done, or -EAGAIN when the
 * meta changed since the snapshot (its entries can no longer be trusted).
 */
static int reread_pass(struct dump_ctx *c, __u32 tid, unsigned int slot,
		       const struct keyset *ks, struct uptrkv_error *e)
{
	const struct uptrkv_snapshot *s = c->snap;
	struct uptrkv_page_read *r = c->pr;
	int left = 0, err;

	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
		__u32 ent = s->meta[slot].ent[k], off = UPTRKV_ENT_OFF(ent);

		if ((!ks->all && !ks->want[k]) || c->st[k].done)
			continue;
		/* A forwarded value is in another page: a whole snapshot again. */
		if (!c->st[k].present || UPTRKV_ENT_IS_FWD(ent))
			return -EAGAIN;
		err = uptrkv_admin__read_page(c->admin, tid, UPTRKV_R_DATA(UPTRKV_ENT_PAGE(ent)), k,
					      r, e);
		if (err)
			return err == -EFAULT ? -EAGAIN : err;
		if (r->struct_seq_before != s->struct_seq_after ||
		    r->struct_seq_after != r->struct_seq_before)
			return -EAGAIN;
		memcpy(c->buf + (size_t)k * UPTRKV_MAX_VALUE, r->page.bytes + off, c->st[k].size);
		c->st[k].done = !(r->seq_before & 1) && r->seq_before == r->seq_after;
		left += !c->st[k].done;
	}
	return left;
}

static int dump_thread(struct dump_ctx *c, __u32 tid, const struct uptrkv_manifest *m,
		       unsigned int slot, const struct keyset *ks, int tries,
		       struct uptrkv_dump_thread *t, struct uptrkv_error *e)
{
	int err, left = 0, bad_key = -1, snaps = 0, rereads = 0;
	bool full = true;

	memset(c->st, 0, sizeof(c->st));
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->slot = slot;
	/* tries whole snapshots; between them, cheap page re-reads (about
	 * 1 us each) get 8 times as many attempts. */
	while (snaps < tries) {
		if (!full) {
			if (rereads++ >= 8 * tries)
				break;
			left = reread_pass(c, tid, slot, ks, e);
			if (left == -EAGAIN)
				full = true;
			else if (left < 0)
				return left;
			else if (!left)
				break;
			continue;
		}
		snaps++;
		err = uptrkv_admin__snapshot(c->admin, tid, c->snap, e);
		if (err == -EAGAIN && snaps < tries)
			continue;
		if (err)
			return err;
		err = uptrkv_snapshot__check(c->snap, e);
		if (err)
			return err;
		left = decode_pass(c->snap, slot, ks, c->st, c->buf, &bad_key);
		if (left == -EUCLEAN)
			return uptrkv_err(e, -EUCLEAN,
					  "tid %u: key %d has a malformed meta entry 0x%08x in slot %u: store is corrupt",
					  tid, bad_key, c->snap->meta[slot].ent[bad_key], slot);
		if (!left)
			break;
		/* Only values moved: re-read just their pages. A meta
		 * that moved needs a whole new snapshot. */
		full = c->snap->hdr.struct_seq != c->snap->struct_seq_after;
	}
	err = fill_thread(t, c->snap, m, c->st, c->buf);
	return err ? uptrkv_err(e, err, "dump: out of memory") : 0;
}

static void thread_free(struct uptrkv_dump_thread *t)
{
	free(t->values);
	free(t->keys);
}

void uptrkv_dump__free(struct uptrkv_dump *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr_threads; i++)
		thread_free(&d->threads[i]);
	free(d->threads);
	free(d->deployment);
	if (d->manifest_owned)
		uptrkv_manifest__free(d->manifest);
	free(d);
}

void uptrkv_dumps__free(struct uptrkv_dump **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		uptrkv_dump__free(v[i]);
	free(v);
}

/* Dumps the given threads from one store; d is filled, its threads owned. */
static int dump_tids(int store_fd, const char *admin_dir, const struct uptrkv_manifest *m,
		     unsigned int slot, const __u32 *tids, size_t n, const struct keyset *ks, int tries,
		     struct uptrkv_dump *d, struct uptrkv_error *e)
{
	/* A deployment's admin programs, pinned by its last rollout. */
	UPTRKV_OPTS(uptrkv_admin_opts, ao, .pin_dir = admin_dir);
	struct dump_ctx *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return uptrkv_err(e, -ENOMEM, "dump: out of memory");
	c->snap = calloc(1, sizeof(*c->snap));
	c->pr = calloc(1, sizeof(*c->pr));
	c->buf = malloc((size_t)UPTRKV_MAX_KEYS * UPTRKV_MAX_VALUE);
	d->threads = calloc(n ? n : 1, sizeof(*d->threads));
	if (!c->snap || !c->pr || !c->buf || !d->threads) {
		err = uptrkv_err(e, -ENOMEM, "dump: out of memory");
		goto out;
	}
	err = uptrkv_admin__open(store_fd, &ao, &c->admin, e);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		err = dump_thread(c, tids[i], m, slot, ks, tries, &d->threads[d->nr_threads], e);
		/* Not registered, or gone since /proc was read. */
		if (err == -ENOENT || err == -ESRCH)
			continue;
		if (err) {
			thread_free(&d->threads[d->nr_threads]);
			goto out;
		}
		d->nr_threads++;
	}
	err = 0;
out:
	uptrkv_admin__close(c->admin);
	free(c->buf);
	free(c->pr);
	free(c->snap);
	free(c);
	return err;
}

static int tries_of(const struct uptrkv_dump_opts *opts)
{
	int t = UPTRKV_OPTS_GET(opts, tries, 0);

	return t > 0 ? t : DUMP_TRIES_DEFAULT;
}

int uptrkv_dump__store(int store_fd, const struct uptrkv_manifest *m, __u32 pid,
		       const struct uptrkv_dump_opts *opts, struct uptrkv_dump **out,
		       struct uptrkv_error *e)
{
	size_t nr_keys = UPTRKV_OPTS_GET(opts, nr_keys, 0), n = 0;
	unsigned int slot = UPTRKV_OPTS_GET(opts, slot, 0);
	struct uptrkv_dump *d = NULL;
	bool *resolved = NULL;
	struct keyset ks;
	__u32 *tids = NULL;
	int err;

	*out = NULL;
	if (slot >= UPTRKV_NR_SLOTS)
		return uptrkv_err(e, -EINVAL, "dump: bad meta slot %u", slot);
	err = uptrkv_pid__threads(pid, &tids, &n, e);
	if (err)
		return err;
	resolved = calloc(nr_keys + 1, sizeof(*resolved));
	d = calloc(1, sizeof(*d));
	if (!resolved || !d) {
		err = uptrkv_err(e, -ENOMEM, "dump: out of memory");
		goto out;
	}
	keyset_build(&ks, opts, m, resolved);
	err = check_resolved(opts, resolved, m ? "the manifest" : "a store without manifest", e);
	if (err)
		goto out;
	d->pid = pid;
	d->manifest = (struct uptrkv_manifest *)m;
	d->version = m ? m->version : 0;
	err = dump_tids(store_fd, NULL, m, slot, tids, n, &ks, tries_of(opts), d, e);
	if (err)
		goto out;
	if (!d->nr_threads) {
		err = uptrkv_err(e, -ENOENT, "no uptrkv store registered for PID %u", pid);
		goto out;
	}
	*out = d;
	d = NULL;
out:
	uptrkv_dump__free(d);
	free(resolved);
	free(tids);
	return err;
}

/* One deployment: *out NULL (and 0) when no thread of pid is registered. */
static int dump_deployment(const char *bpffs, const char *name, __u32 pid, const __u32 *tids,
			   size_t n, const struct uptrkv_dump_opts *opts, bool *resolved,
			   struct uptrkv_dump **out, struct uptrkv_error *e)
{
	struct uptrkv_deploy *dep = NULL;
	struct uptrkv_dump *d = NULL;
	char dir[PATH_MAX];
	struct keyset ks;
	int err, fd;

	*out = NULL;
	err = uptrkv_deploy__open(bpffs, name, &dep, e);
	if (err)
		return err;
	fd = uptrkv_deploy__store_fd(dep);
	if (fd < 0)	/* first rollout never got as far as the store */
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->deployment = strdup(name))) {
		err = uptrkv_err(e, -ENOMEM, "dump: out of memory");
		goto out;
	}
	d->pid = pid;
	d->gen = uptrkv_deploy__gen(dep);
	err = uptrkv_deploy__manifest(dep, -1, &d->manifest, e);
	if (err && err != -ENOENT)
		goto out;
	d->manifest_owned = true;
	d->version = d->manifest ? d->manifest->version : 0;
	keyset_build(&ks, opts, d->manifest, resolved);
	uptrkv_deploy_dir(dir, sizeof(dir), bpffs, name);
	err = dump_tids(fd, dir, d->manifest, UPTRKV_SLOT(d->gen), tids, n, &ks, tries_of(opts), d, e);
	if (err) {
		if (e && err != -ENOMEM) {
			char msg[UPTRKV_ERRMSG_MAX];

			snprintf(msg, sizeof(msg), "deployment %.32s: %.400s", name, e->msg);
			memcpy(e->msg, msg, sizeof(msg));
		}
		goto out;
	}
	if (d->nr_threads) {
		*out = d;
		d = NULL;
	}
out:
	uptrkv_dump__free(d);
	uptrkv_deploy__close(dep);
	return err;
}

int uptrkv_dump__pid(const char *bpffs, __u32 pid, const struct uptrkv_dump_opts *opts,
		     struct uptrkv_dump ***out, size_t *nr, struct uptrkv_error *e)
{
	const char *only = UPTRKV_OPTS_GET(opts, deployment, NULL);
	size_t nr_keys = UPTRKV_OPTS_GET(opts, nr_keys, 0);
	struct uptrkv_dump **v = NULL, *d;
	size_t n = 0, nr_names = 0;
	char **names = NULL;
	bool *resolved = NULL;
	__u32 *tids = NULL;
	size_t nr_tids = 0;
	int err;

	*out = NULL;
	*nr = 0;
	err = uptrkv_pid__threads(pid, &tids, &nr_tids, e);
	if (err)
		return err;
	if (only) {
		names = calloc(1, sizeof(*names));
		if (names && !(names[0] = strdup(only))) {
			free(names);
			names = NULL;
		}
		nr_names = names ? 1 : 0;
		err = names ? 0 : -ENOMEM;
	} else {
		err = uptrkv_deploy__list(bpffs, &names, &nr_names, e);
	}
	if (err) {
		if (err == -ENOMEM)
			uptrkv_err(e, err, "dump: out of memory");
		goto out;
	}
	resolved = calloc(nr_keys + 1, sizeof(*resolved));
	v = calloc(nr_names + 1, sizeof(*v));
	if (!resolved || !v) {
		err = uptrkv_err(e, -ENOMEM, "dump: out of memory");
		goto out;
	}
	for (size_t i = 0; i < nr_names; i++) {
		err = dump_deployment(bpffs, names[i], pid, tids, nr_tids, opts, resolved, &d, e);
		if (err)
			goto out;
		if (d)
			v[n++] = d;
	}
	if (!n) {
		if (only)
			err = uptrkv_err(e, -ENOENT,
					 "no uptrkv store registered for PID %u in deployment %s",
					 pid, only);
		else
			err = uptrkv_err(e, -ENOENT,
					 "no uptrkv store registered for PID %u (%zu deployment%s under %s)",
					 pid, nr_names, nr_names == 1 ? "" : "s", bpffs);
		goto out;
	}
	err = check_resolved(opts, resolved, only ? "the deployment's manifest" :
			     "the matching deployments' manifests", e);
	if (err)
		goto out;
	*out = v;
	*nr = n;
	v = NULL;
	n = 0;
out:
	uptrkv_dumps__free(v, n);
	uptrkv_strv__free(names, nr_names);
	free(resolved);
	free(tids);
	return err;
}

/* ---------------------------------------------------------- formatting */

/* The integer types' values, read as the conversions read them (lib/convert.c);
 * 0 for a type that is not an integer. */
__u64 uptrkv_value__u64(enum uptrkv_type t, const void *v)
{
	__u32 w = uptrkv_type__width(t);

	return uptrkv_int_size_ok(w) ? uptrkv_read_uint(v, w) : 0;
}

__s64 uptrkv_value__s64(enum uptrkv_type t, const void *v)
{
	__u32 w = uptrkv_type__width(t);

	return uptrkv_int_size_ok(w) ? uptrkv_read_sint(v, w) : 0;
}

/* snprintf that keeps counting past the end of buf. */
struct sbuf {
	char *p;
	size_t sz, len;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(b->len < b->sz ? b->p + b->len : NULL, b->len < b->sz ? b->sz - b->len : 0,
		      fmt, ap);
	va_end(ap);
	if (r > 0)
		b->len += r;
}

static void format_string(struct sbuf *b, const __u8 *v, __u32 size, __u32 max)
{
	__u32 n = strnlen((const char *)v, size);
	bool cut = max && n > max;

	if (cut)
		n = max;
	sb_printf(b, "\"");
	for (__u32 i = 0; i < n; i++) {
		switch (v[i]) {
		case '"': sb_printf(b, "\\\""); break;
		case '\\': sb_printf(b, "\\\\"); break;
		case '\n': sb_printf(b, "\\n"); break;
		case '\t': sb_printf(b, "\\t"); break;
		case '\r': sb_printf(b, "\\r"); break;
		default:
			if (v[i] < 0x20 || v[i] >= 0x7f)
				sb_printf(b, "\\x%02x", v[i]);
			else
				sb_printf(b, "%c", v[i]);
		}
	}
	sb_printf(b, cut ? "\"..." : "\"");
}

int uptrkv_value__format(char *buf, size_t sz, enum uptrkv_type t, const void *v,
			 __u32 size, __u32 max_bytes)
{
	struct sbuf b = { .p = buf, .sz = sz };
	const __u8 *p = v;
	__u32 n;

	if (sz)
		buf[0] = '\0';
	if (uptrkv_type__width(t) && uptrkv_type__width(t) != size)
		t = UPTRKV_T_BYTES;	/* never read past the value */
	switch (t) {
	case UPTRKV_T_BOOL:
		sb_printf(&b, "%s", p[0] ? "true" : "false");
		break;
	case UPTRKV_T_U8: case UPTRKV_T_U16: case UPTRKV_T_U32: case UPTRKV_T_U64:
		sb_printf(&b, "%llu", (unsigned long long)uptrkv_value__u64(t, v));
		break;
	case UPTRKV_T_S8: case UPTRKV_T_S16: case UPTRKV_T_S32: case UPTRKV_T_S64:
		sb_printf(&b, "%lld", (long long)uptrkv_value__s64(t, v));
		break;
	case UPTRKV_T_STRING:
		format_string(&b, p, size, max_bytes);
		break;
	default:
		n = max_bytes && size > max_bytes ? max_bytes : size;
		sb_printf(&b, "0x");
		for (__u32 i = 0; i < n; i++)
			sb_printf(&b, "%02x", p[i]);
		if (n < size)
			sb_printf(&b, "...");
	}
	return (int)b.len;
}
