/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The revision history of a deployment, in two pinned maps beside its other
 * state (docs/design.md, "History"): bpffs holds no regular files, and a
 * deployment's state lives nowhere else.
 *   history  HASH, key __u64 revision (0: the header), value one 4 KiB
 *            record. BPF_F_NO_PREALLOC: only kept revisions cost memory.
 *   blobs    HASH, key {sha256, chunk}, value a 16 KiB chunk: manifest
 *            texts and objects, content-addressed, so one object that
 *            several revisions share is kept once.
 */
#ifndef __UPTRKV_HISTORY_H
#define __UPTRKV_HISTORY_H

#include "deploy_internal.h"
#include "sha256.h"

#define UPTRKV_HIST_MAGIC	0x54534855u	/* "UHST" */
#define UPTRKV_HIST_FORMAT	1u
#define UPTRKV_HIST_VALUE	4096u
/* Kept: the last `limit` revisions that succeeded, and the failed ones
 * since the oldest of those, at most `limit` too: 2 x max, and the header. */
#define UPTRKV_HIST_ENTRIES	(2 * UPTRKV_HISTORY_MAX + 8)
/*
 * 16 KiB chunks: a hash element is the value plus ~100 bytes of key and
 * header, and 16 KiB + 100 still fits an order-3 (32 KiB) allocation, the
 * largest the page allocator tries hard to satisfy (PAGE_ALLOC_COSTLY_ORDER).
 * Measured here (tests/e2e/probe_map_value_size.c): a NO_PREALLOC hash value
 * may be up to ~4 MiB, so this is a choice, not a limit.
 */
#define UPTRKV_BLOB_CHUNK	16384u
#define UPTRKV_BLOB_ENTRIES	16384u		/* 256 MiB of chunks at most */

struct uptrkv_hist_value {
	__u32 magic;
	__u32 format;			/* refused when newer than ours */
	union {
		struct {		/* key 0 */
			__u32 limit;
			__u32 pad;
			__u64 next_revision;
		} hdr;
		struct uptrkv_revision rev;
	};
};

struct uptrkv_blob_key {
	__u8 sha256[UPTRKV_SHA256_LEN];
	__u32 chunk;
	__u32 pad;
};

/* The two maps of one deployment; fds -1 when it has none (made by an
 * uptrkv from before history). */
struct uptrkv_hist {
	int hist_fd;
	int blobs_fd;
};

/* Opens the maps; with create, creates and pins those missing. Without,
 * a deployment that has none gives 0 and fds of -1. */
int uptrkv_hist__open(struct uptrkv_hist *h, struct uptrkv_deploy *d, bool create,
		      struct uptrkv_error *e);
void uptrkv_hist__close(struct uptrkv_hist *h);
/* Every revision kept, oldest first, and the limit. */
int uptrkv_hist__read(struct uptrkv_hist *h, struct uptrkv_history *out, struct uptrkv_error *e);
int uptrkv_hist__set_limit(struct uptrkv_hist *h, __u32 limit, struct uptrkv_error *e);
/*
 * Records r as the next revision (r->revision is set): the manifest text and
 * the object bytes first (either may be NULL), the record last, so a record
 * never names a blob that is not there; then the revisions past the limit
 * and the blobs no kept revision names are removed. r->manifest_sha256 and
 * r->object_sha256, when not all zero, must be those of text and obj: they
 * name the blobs and are not computed again.
 */
int uptrkv_hist__append(struct uptrkv_hist *h, struct uptrkv_revision *r, const void *text,
			size_t text_len, const void *obj, size_t obj_len, struct uptrkv_error *e);
/* Which revisions stay (v sorted oldest first; keep gets n flags): the last
 * `limit` that succeeded, and the failed ones newer than the oldest of
 * those, at most `limit`. Pure, for the unit test. */
void uptrkv_hist__mark_kept(const struct uptrkv_revision *v, size_t n, __u32 limit, bool *keep);
/* Reads a blob back and checks it against its sha256 (-EBADMSG if it does
 * not match: the copy was changed). *buf is malloc'ed, with a NUL after it. */
int uptrkv_hist__blob(struct uptrkv_hist *h, const __u8 sha[UPTRKV_SHA256_LEN], __u64 size,
		      void **buf, struct uptrkv_error *e);
/* Marks and returns the revision that runs now: the newest that succeeded,
 * if its version is live_version (NULL if none). */
const struct uptrkv_revision *uptrkv_hist__live(struct uptrkv_history *h, __u32 live_version);
/* The newest revision that succeeded with version, or NULL. */
const struct uptrkv_revision *uptrkv_hist__find(const struct uptrkv_history *h, __u32 version);
/* The newest revision that succeeded with a version other than live. */
const struct uptrkv_revision *uptrkv_hist__previous(const struct uptrkv_history *h, __u32 live);
/* Fills who, where and when of r (uid, user, host, time). */
void uptrkv_revision__stamp(struct uptrkv_revision *r);

#endif
