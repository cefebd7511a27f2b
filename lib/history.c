// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The revision history of a deployment: every rollout and rollback is
 * recorded with its inputs (manifest text, a copy of the object), who ran it
 * and how it went, in pinned maps beside the deployment's other state
 * (history.h has the layout, docs/design.md the reasons). A rollback to a
 * version no longer in a slot loads it from here, so it does not depend on
 * any file still being on disk.
 */
#include <bpf/bpf.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "history.h"

_Static_assert(sizeof(struct uptrkv_hist_value) <= UPTRKV_HIST_VALUE, "a record fits its value");

static const char *const outcome_names[] = {
	[UPTRKV_OUTCOME_DEPLOYED] = "deployed",
	[UPTRKV_OUTCOME_ROLLED_BACK] = "rolled_back",
	[UPTRKV_OUTCOME_FAILED] = "failed",
};

const char *uptrkv_outcome__str(__u32 outcome)
{
	if (outcome >= ARRAY_SIZE(outcome_names) || !outcome_names[outcome])
		return "unknown";
	return outcome_names[outcome];
}

static int check_hash_map(int fd, __u32 key_size, __u32 value_size, const char *path,
			  struct uptrkv_error *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return uptrkv_errno(e, -errno, "%s: cannot read map info", path);
	if (info.type != BPF_MAP_TYPE_HASH || info.key_size != key_size ||
	    info.value_size != value_size)
		return uptrkv_err(e, -EINVAL, "%s: not an uptrkv history map (type %u, key %u, value %u)",
				  path, info.type, info.key_size, info.value_size);
	return 0;
}

/* Opens the pinned map name, or (create) makes and pins it. -ENOENT when
 * missing and not asked to create it. */
static int open_map(struct uptrkv_deploy *d, const char *name, __u32 key_size, __u32 value_size,
		    __u32 max_entries, bool create, int *fd, struct uptrkv_error *e)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	char path[PATH_MAX];

	if (uptrkv_pin_path(path, sizeof(path), d->dir, "%s", name))
		return uptrkv_err(e, -ENAMETOOLONG, "%s: path too long", d->dir);
	*fd = bpf_obj_get(path);
	if (*fd >= 0)
		return check_hash_map(*fd, key_size, value_size, path, e);
	if (errno != ENOENT)
		return uptrkv_errno(e, -errno, "deployment %s: cannot open %s", d->name, path);
	if (!create)
		return -ENOENT;
	*fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, key_size, value_size, max_entries, &o);
	if (*fd < 0)
		return uptrkv_errno(e, -errno, "deployment %s: create map %s", d->name, name);
	if (bpf_obj_pin(*fd, path))
		return uptrkv_errno(e, -errno, "deployment %s: pin %s", d->name, path);
	return 0;
}

static int read_value(struct uptrkv_hist *h, __u64 key, struct uptrkv_hist_value *v,
		      struct uptrkv_error *e)
{
	char buf[UPTRKV_HIST_VALUE];

	if (bpf_map_lookup_elem(h->hist_fd, &key, buf))
		return errno == ENOENT ? -ENOENT : uptrkv_errno(e, -errno, "read history %llu",
								 (unsigned long long)key);
	memcpy(v, buf, sizeof(*v));
	if (v->magic != UPTRKV_HIST_MAGIC)
		return uptrkv_err(e, -EINVAL, "history entry %llu is corrupt (magic 0x%x)",
				  (unsigned long long)key, v->magic);
	if (v->format > UPTRKV_HIST_FORMAT)
		return uptrkv_err(e, -EPROTONOSUPPORT, "history format %u is newer than this uptrkv (%u); "
				  "upgrade uptrkv", v->format, UPTRKV_HIST_FORMAT);
	return 0;
}

static int write_value(struct uptrkv_hist *h, __u64 key, const struct uptrkv_hist_value *v,
		       struct uptrkv_error *e)
{
	char buf[UPTRKV_HIST_VALUE] = {};

	memcpy(buf, v, sizeof(*v));
	if (bpf_map_update_elem(h->hist_fd, &key, buf, 0))
		return uptrkv_errno(e, -errno, "write history %llu", (unsigned long long)key);
	return 0;
}

static int read_hdr(struct uptrkv_hist *h, struct uptrkv_hist_value *hdr, struct uptrkv_error *e)
{
	int err = read_value(h, 0, hdr, e);

	if (err != -ENOENT)
		return err;
	/* A history just created: revision 1 comes next. */
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = UPTRKV_HIST_MAGIC;
	hdr->format = UPTRKV_HIST_FORMAT;
	hdr->hdr.limit = UPTRKV_HISTORY_DEFAULT;
	hdr->hdr.next_revision = 1;
	return 0;
}

int uptrkv_hist__open(struct uptrkv_hist *h, struct uptrkv_deploy *d, bool create,
		      struct uptrkv_error *e)
{
	int err;

	h->hist_fd = h->blobs_fd = -1;
	err = open_map(d, UPTRKV_PIN_HISTORY, sizeof(__u64), UPTRKV_HIST_VALUE, UPTRKV_HIST_ENTRIES,
		       create, &h->hist_fd, e);
	err = err ?: open_map(d, UPTRKV_PIN_BLOBS, sizeof(struct uptrkv_blob_key), UPTRKV_BLOB_CHUNK,
			      UPTRKV_BLOB_ENTRIES, create, &h->blobs_fd, e);
	if (err == -ENOENT && !create)
		err = 0;
	if (err || h->hist_fd < 0 || h->blobs_fd < 0)
		uptrkv_hist__close(h);
	return err;
}

void uptrkv_hist__close(struct uptrkv_hist *h)
{
	if (h->hist_fd >= 0)
		close(h->hist_fd);
	if (h->blobs_fd >= 0)
		close(h->blobs_fd);
	h->hist_fd = h->blobs_fd = -1;
}

static int cmp_rev(const void *a, const void *b)
{
	const struct uptrkv_revision *x = a, *y = b;

	return x->revision < y->revision ? -1 : x->revision > y->revision;
}

/* Every key of the history map but the header. */
static int list_keys(struct uptrkv_hist *h, __u64 **keys, size_t *n, struct uptrkv_error *e)
{
	__u64 key, next, *v = calloc(UPTRKV_HIST_ENTRIES, sizeof(*v));
	void *prev = NULL;

	*keys = v;
	*n = 0;
	if (!v)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	while (*n < UPTRKV_HIST_ENTRIES && !bpf_map_get_next_key(h->hist_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (key)
			v[(*n)++] = key;
	}
	return 0;
}

int uptrkv_hist__read(struct uptrkv_hist *h, struct uptrkv_history *out, struct uptrkv_error *e)
{
	struct uptrkv_hist_value hdr, val;
	__u64 *keys = NULL;
	size_t n = 0;
	int err;

	memset(out, 0, sizeof(*out));
	out->limit = UPTRKV_HISTORY_DEFAULT;
	if (h->hist_fd < 0)
		return 0;
	out->present = true;
	err = read_hdr(h, &hdr, e);
	err = err ?: list_keys(h, &keys, &n, e);
	if (err)
		goto out;
	out->limit = hdr.hdr.limit;
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v) {
		err = uptrkv_err(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		err = read_value(h, keys[i], &val, e);
		if (err == -ENOENT)
			continue;	/* pruned meanwhile by a rollout */
		if (err)
			goto out;
		out->v[out->n++] = val.rev;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_rev);
out:
	free(keys);
	if (err)
		uptrkv_history__free(out);
	return err;
}

void uptrkv_history__free(struct uptrkv_history *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int uptrkv_hist__set_limit(struct uptrkv_hist *h, __u32 limit, struct uptrkv_error *e)
{
	struct uptrkv_hist_value hdr;
	int err;

	if (limit < 1 || limit > UPTRKV_HISTORY_MAX)
		return uptrkv_err(e, -EINVAL, "history limit %u: must be 1..%u", limit, UPTRKV_HISTORY_MAX);
	err = read_hdr(h, &hdr, e);
	if (err)
		return err;
	hdr.hdr.limit = limit;
	return write_value(h, 0, &hdr, e);
}

static bool succeeded(const struct uptrkv_revision *r)
{
	return r->outcome == UPTRKV_OUTCOME_DEPLOYED || r->outcome == UPTRKV_OUTCOME_ROLLED_BACK;
}

/* Failed attempts, however many, never push a version that can be rolled
 * back to out of the history (history.h has the rule). */
void uptrkv_hist__mark_kept(const struct uptrkv_revision *v, size_t n, __u32 limit, bool *keep)
{
	size_t ok = 0, bad = 0;
	__u64 oldest_ok = 0;

	for (size_t i = n; i-- > 0;) {
		keep[i] = succeeded(&v[i]) && ok < limit;
		if (keep[i]) {
			ok++;
			oldest_ok = v[i].revision;
		}
	}
	for (size_t i = n; i-- > 0;) {
		if (succeeded(&v[i]))
			continue;
		keep[i] = bad < limit && v[i].revision > oldest_ok;
		bad += keep[i];
	}
}

static int write_blob(struct uptrkv_hist *h, const void *data, size_t len, __u8 sha[32],
		      struct uptrkv_error *e)
{
	struct uptrkv_blob_key key = {};
	__u8 *chunk = malloc(UPTRKV_BLOB_CHUNK);
	int err = 0;

	if (!chunk)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	/* The caller's revision usually has it already (megabytes to hash). */
	if (!memcmp(sha, (const __u8[32]){ 0 }, 32))
		uptrkv_sha256(data, len, sha);
	memcpy(key.sha256, sha, sizeof(key.sha256));
	for (size_t off = 0; off < len; off += UPTRKV_BLOB_CHUNK, key.chunk++) {
		size_t n = len - off < UPTRKV_BLOB_CHUNK ? len - off : UPTRKV_BLOB_CHUNK;

		memset(chunk, 0, UPTRKV_BLOB_CHUNK);
		memcpy(chunk, (const __u8 *)data + off, n);
		if (bpf_map_update_elem(h->blobs_fd, &key, chunk, 0)) {
			err = uptrkv_errno(e, -errno, "history: keep a copy (%zu bytes)", len);
			break;
		}
	}
	free(chunk);
	return err;
}

static bool named(const struct uptrkv_revision *v, const bool *keep, size_t n, const __u8 *sha)
{
	for (size_t i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		if ((v[i].has_object && !memcmp(v[i].object_sha256, sha, UPTRKV_SHA256_LEN)) ||
		    (v[i].has_manifest && !memcmp(v[i].manifest_sha256, sha, UPTRKV_SHA256_LEN)))
			return true;
	}
	return false;
}

/* Removes the chunks of blobs no kept revision names. Keys are listed first
 * and deleted after: deleting while walking a hash map can restart the walk. */
static int collect_blobs(struct uptrkv_hist *h, const struct uptrkv_revision *v, const bool *keep,
			 size_t n, struct uptrkv_error *e)
{
	struct uptrkv_blob_key key, next, *dead = NULL;
	size_t nr_dead = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(h->blobs_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (named(v, keep, n, key.sha256))
			continue;
		if (nr_dead == cap) {
			struct uptrkv_blob_key *nd;

			cap = cap ? 2 * cap : 64;
			nd = realloc(dead, cap * sizeof(*dead));
			if (!nd) {
				err = uptrkv_err(e, -ENOMEM, "out of memory");
				goto out;
			}
			dead = nd;
		}
		dead[nr_dead++] = key;
	}
	for (size_t i = 0; i < nr_dead; i++)
		bpf_map_delete_elem(h->blobs_fd, &dead[i]);
out:
	free(dead);
	return err;
}

static int prune(struct uptrkv_hist *h, struct uptrkv_error *e)
{
	struct uptrkv_history all;
	bool *keep;
	int err;

	err = uptrkv_hist__read(h, &all, e);
	if (err)
		return err;
	keep = calloc(all.n ? all.n : 1, sizeof(*keep));
	if (!keep) {
		uptrkv_history__free(&all);
		return uptrkv_err(e, -ENOMEM, "out of memory");
	}
	uptrkv_hist__mark_kept(all.v, all.n, all.limit, keep);
	for (size_t i = 0; i < all.n; i++)
		if (!keep[i])
			bpf_map_delete_elem(h->hist_fd, &all.v[i].revision);
	err = collect_blobs(h, all.v, keep, all.n, e);
	free(keep);
	uptrkv_history__free(&all);
	return err;
}

int uptrkv_hist__append(struct uptrkv_hist *h, struct uptrkv_revision *r, const void *text,
			size_t text_len, const void *obj, size_t obj_len, struct uptrkv_error *e)
{
	struct uptrkv_hist_value hdr, val = { .magic = UPTRKV_HIST_MAGIC, .format = UPTRKV_HIST_FORMAT };
	int err;

	err = read_hdr(h, &hdr, e);
	if (err)
		return err;
	/* The number is taken first: a revision number is never reused,
	 * even by a run killed before its record. */
	r->revision = hdr.hdr.next_revision++;
	err = write_value(h, 0, &hdr, e);
	if (!err && text) {
		err = write_blob(h, text, text_len, r->manifest_sha256, e);
		r->has_manifest = !err;
		r->manifest_size = text_len;
	}
	if (!err && obj) {
		err = write_blob(h, obj, obj_len, r->object_sha256, e);
		r->has_object = !err;
		r->object_size = obj_len;
	}
	r->live = 0;
	val.rev = *r;
	err = err ?: write_value(h, r->revision, &val, e);
	return err ?: prune(h, e);
}

int uptrkv_hist__blob(struct uptrkv_hist *h, const __u8 sha[UPTRKV_SHA256_LEN], __u64 size,
		      void **buf, struct uptrkv_error *e)
{
	struct uptrkv_blob_key key = {};
	__u8 *data, *chunk, got[UPTRKV_SHA256_LEN];
	char hex[UPTRKV_SHA256_HEX];
	int err = 0;

	*buf = NULL;
	uptrkv_sha256_hex(sha, hex);
	if (size > UPTRKV_OBJECT_MAX)
		return uptrkv_err(e, -EINVAL, "history: copy %.12s is %llu bytes, more than kept",
				  hex, (unsigned long long)size);
	data = malloc(size + 1);
	chunk = malloc(UPTRKV_BLOB_CHUNK);
	if (!data || !chunk) {
		err = uptrkv_err(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(key.sha256, sha, sizeof(key.sha256));
	for (__u64 off = 0; off < size; off += UPTRKV_BLOB_CHUNK, key.chunk++) {
		__u64 n = size - off < UPTRKV_BLOB_CHUNK ? size - off : UPTRKV_BLOB_CHUNK;

		if (bpf_map_lookup_elem(h->blobs_fd, &key, chunk)) {
			err = uptrkv_errno(e, -errno, "history: copy %.12s: chunk %u is missing", hex,
					   key.chunk);
			goto out;
		}
		memcpy(data + off, chunk, n);
	}
	data[size] = '\0';
	/* What was kept is checked, not trusted: bpffs pins can be written by
	 * anyone with CAP_BPF, and a changed copy must not be rolled out. */
	uptrkv_sha256(data, size, got);
	if (memcmp(got, sha, sizeof(got))) {
		err = uptrkv_err(e, -EBADMSG, "history: the kept copy %.12s does not match its sha256 "
				 "(it was changed after it was recorded)", hex);
		goto out;
	}
	*buf = data;
	data = NULL;
out:
	free(chunk);
	free(data);
	return err;
}

void uptrkv_revision__stamp(struct uptrkv_revision *r)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	r->when = time(NULL);
	r->uid = getuid();
	if (!getpwuid_r(r->uid, &pw, buf, sizeof(buf), &res) && res)
		snprintf(r->user, sizeof(r->user), "%s", pw.pw_name);
	else
		snprintf(r->user, sizeof(r->user), "%u", r->uid);
	if (gethostname(r->host, sizeof(r->host)))
		snprintf(r->host, sizeof(r->host), "unknown");
	r->host[sizeof(r->host) - 1] = '\0';
}

/* The newest revision that succeeded is the one running, if its version is
 * the live one (a run killed before recording leaves none live). */
const struct uptrkv_revision *uptrkv_hist__live(struct uptrkv_history *h, __u32 live_version)
{
	for (size_t i = h->n; i-- > 0;) {
		if (!succeeded(&h->v[i]))
			continue;
		h->v[i].live = h->v[i].version == live_version;
		return h->v[i].live ? &h->v[i] : NULL;
	}
	return NULL;
}

const struct uptrkv_revision *uptrkv_hist__previous(const struct uptrkv_history *h, __u32 live)
{
	for (size_t i = h->n; i-- > 0;)
		if (succeeded(&h->v[i]) && h->v[i].version != live)
			return &h->v[i];
	return NULL;
}

const struct uptrkv_revision *uptrkv_hist__find(const struct uptrkv_history *h, __u32 version)
{
	for (size_t i = h->n; i-- > 0;)
		if (succeeded(&h->v[i]) && h->v[i].version == version)
			return &h->v[i];
	return NULL;
}

int uptrkv_deploy__history(const char *bpffs, const char *name, struct uptrkv_history *out,
			   struct uptrkv_error *e)
{
	struct uptrkv_hist h = { -1, -1 };
	struct uptrkv_deploy *d = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	err = uptrkv_deploy__open(bpffs ? bpffs : UPTRKV_DEFAULT_BPFFS, name, &d, e);
	err = err ?: uptrkv_hist__open(&h, d, false, e);
	err = err ?: uptrkv_hist__read(&h, out, e);
	if (!err)
		uptrkv_hist__live(out, d->ctl->version[UPTRKV_SLOT(d->ctl->gen)]);
	uptrkv_hist__close(&h);
	uptrkv_deploy__close(d);
	return err;
}
