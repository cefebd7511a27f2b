/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The allocator and the app-side store API. Included through uptrkv.h. */
#ifndef __UPTRKV_STORE_H
#define __UPTRKV_STORE_H

#include "uptrkv_common.h"
#include "uptrkv_manifest.h"

/* ------------------------------------------------------------------ */
/* Allocator over one store's pages (lib/alloc.c, pure, no kernel)      */
/* ------------------------------------------------------------------ */

#define UPTRKV_UNITS_PER_PAGE (UPTRKV_PAGE_SIZE / UPTRKV_ALIGN)	/* 512 */

struct uptrkv_alloc {
	__u32 page_mask;			/* pages that may be used */
	__u64 used[UPTRKV_MAX_PAGES][UPTRKV_UNITS_PER_PAGE / 64];
};

void uptrkv_alloc__init(struct uptrkv_alloc *a, __u32 page_mask);
/* Marks an existing entry's extent used. -EINVAL if it is malformed, on an
 * unregistered page, or past the page end; sharing an extent between two
 * metas is allowed (the same entry marked twice). */
int uptrkv_alloc__mark(struct uptrkv_alloc *a, __u32 ent);
/* Marks every valid entry of a meta page. */
int uptrkv_alloc__mark_meta(struct uptrkv_alloc *a, const struct uptrkv_meta *m);
/* Finds room for size bytes, first fit in uptrkv_alloc__page_order's page order;
 * *ent gets a valid meta entry. -ENOSPC if none. */
int uptrkv_alloc__alloc(struct uptrkv_alloc *a, __u32 size, __u32 *ent);
void uptrkv_alloc__free(struct uptrkv_alloc *a, __u32 ent);
__u32 uptrkv_alloc__free_bytes(const struct uptrkv_alloc *a);
/* Largest value that can be allocated right now. */
__u32 uptrkv_alloc__largest(const struct uptrkv_alloc *a);
/* a |= b (bitwise union of used units; page masks are or-ed too). */
void uptrkv_alloc__merge(struct uptrkv_alloc *a, const struct uptrkv_alloc *b);
/* Is any unit marked in a? */
bool uptrkv_alloc__empty(const struct uptrkv_alloc *a);
/* Like uptrkv_alloc__alloc, but never in the pages of avoid_mask (used to
 * evacuate a page during compaction). */
int uptrkv_alloc__alloc_avoid(struct uptrkv_alloc *a, __u32 size, __u32 avoid_mask, __u32 *ent);
/* Bytes of page pg that are marked used. */
__u32 uptrkv_alloc__page_used(const struct uptrkv_alloc *a, __u32 pg);
/* Placement order: the i-th page tried for a value of size bytes (from page
 * 0 up for values of at most UPTRKV_SMALL_MAX bytes, from the last page down
 * for larger ones), and the page a store should register next for it (size
 * 0: a reservation, from page 0 up), or -ENOSPC when all are registered. */
__u32 uptrkv_alloc__page_order(__u32 size, __u32 i);
int uptrkv_alloc__next_page(__u32 page_mask, __u32 size);
/*
 * One compaction step: finds the lowest place (page, offset) strictly before
 * ent's extent where a value of ent's size fits, marks it used and stores it
 * in *new_ent. ent's own extent stays marked (it is still being read): the
 * caller copies the value, publishes *new_ent, and only then frees ent.
 * Returns 1 if a better place was found, 0 if not, -EINVAL if ent is bad.
 */
int uptrkv_alloc__compact_step(struct uptrkv_alloc *a, __u32 ent, __u32 *new_ent);

/*
 * Does meta slot `slot` of a store own space? A slot is live if its layout
 * hash is nonzero; slot 0 of a standalone store (no UPTRKV_HDR_F_MANAGED)
 * is always live, since standalone stores may record layout hash 0. Free
 * space of a store is derived from the live slots only: nothing else is
 * stored, so it is crash-safe and can be computed from a snapshot.
 */
static inline bool uptrkv_slot_live(const struct uptrkv_hdr *h, __u32 slot)
{
	if (slot >= UPTRKV_NR_SLOTS)
		return false;
	if (h->layout_hash[slot])
		return true;
	return slot == 0 && !(h->flags & UPTRKV_HDR_F_MANAGED);
}

/* mark_meta of every live slot (a must be initialised, usually with
 * h->page_mask). meta[i] may be NULL (not readable): it is then skipped.
 * -EINVAL if an entry is bad (the good ones are still marked). */
int uptrkv_alloc__mark_store(struct uptrkv_alloc *a, const struct uptrkv_hdr *h,
			     const struct uptrkv_meta *const meta[UPTRKV_NR_SLOTS]);

/* ------------------------------------------------------------------ */
/* App-side store API (lib/store.c)                                     */
/* ------------------------------------------------------------------ */

struct uptrkv_store;	/* an opened store map, shared by the app's threads */
struct uptrkv_thread;	/* the calling thread's registration */

struct uptrkv_store_opts {
	size_t sz;
	/* Deployment directory (<bpffs>/uptrkv/<name>); when set, the store
	 * follows the deployment's generation and layout. */
	const char *deploy_dir;
};

int uptrkv_store__open(const char *map_path, const struct uptrkv_store_opts *opts,
		       struct uptrkv_store **out, struct uptrkv_error *e);
int uptrkv_store__open_fd(int map_fd, const struct uptrkv_store_opts *opts,
			  struct uptrkv_store **out, struct uptrkv_error *e);
void uptrkv_store__close(struct uptrkv_store *s);

struct uptrkv_init_key {
	__u32 id;
	__u32 size;
	const void *def;		/* NULL: zero */
	/* The key's type in the layout the thread is built for (0, bytes:
	 * unknown); a later layout that gives it another type makes get and
	 * put return -EPROTO. */
	enum uptrkv_type type;
};

struct uptrkv_thread_opts {
	size_t sz;
	__u32 reserve_bytes;		/* data bytes to register up front */
	const struct uptrkv_init_key *keys;	/* keys created at register */
	size_t nr_keys;
	__u32 layout_hash;		/* recorded in the header for those keys */
	__u32 slot;			/* meta slot the keys are written to
					 * (standalone; a deployed store uses
					 * the deployment's active slot) */
	bool replace;			/* replace an existing element of this
					 * thread (e.g. one kept across exec) */
};

/* Registers the calling thread's store (pidfd with PIDFD_THREAD). */
int uptrkv_thread__register(struct uptrkv_store *s, const struct uptrkv_thread_opts *opts,
			    struct uptrkv_thread **out, struct uptrkv_error *e);
/* Deletes the thread's element and frees its pages. Call from the thread. */
void uptrkv_thread__unregister(struct uptrkv_thread *t);
/*
 * Reads key into buf (size bytes, the size the caller was built for).
 * Returns the number of bytes copied: the value's size if it fits in buf,
 * or size if the value is a bytes or string key that grew since (the
 * prefix: what the old bytes meant, they still mean). Errors:
 *  -ENOENT   no such key in the live layout (never created, deleted, or
 *            removed by a rollout);
 *  -EPROTO   the live layout gives the key another type than the layout
 *            the thread registered with (a retype: the bytes mean
 *            something else; see uptrkv_thread__size and docs/store.md);
 *  -EMSGSIZE the value is larger than buf and is an integer or bool, or
 *            the deployment has no type table (deployed by an older uptrkv);
 *  -EAGAIN   the value kept changing under 10000 tries; -EINVAL bad
 *            arguments or a corrupt entry.
 *
 * get, put and delete return -ESTALE when the last rollout left this
 * thread's store out (rollout --skip-corrupt): register it again.
 */
int uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);
/* The exact-size get: no type check, no prefix; -EMSGSIZE unless the value
 * fits in buf; returns the value's size. */
int uptrkv_thread__get_exact(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);
/*
 * Writes size bytes to key and returns 0. An existing bytes or string key
 * larger than size gets its prefix written and keeps the rest. A missing
 * key is created with this size, unless the thread's layout had it and the
 * live one removed it (-ENOENT). Errors: -EPROTO (retyped, as for get),
 * -EMSGSIZE (size larger than the key, or an integer of another size),
 * -ENOSPC (no room for a new key), -EAGAIN, -EINVAL.
 */
int uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);
/* The exact-size put: -EMSGSIZE if the key exists with another size; no
 * type check; a missing key is always created. Returns 0. */
int uptrkv_thread__put_exact(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);
/* The key's size in the live layout, or -ENOENT (or -EINVAL). */
int uptrkv_thread__size(struct uptrkv_thread *t, __u32 key);
/* Deletes key: 0, or -ENOENT if it does not exist. */
int uptrkv_thread__delete(struct uptrkv_thread *t, __u32 key);
/* Makes sure at least bytes of data space are registered: 0 or -ENOSPC. */
int uptrkv_thread__reserve(struct uptrkv_thread *t, __u32 bytes);
__u32 uptrkv_thread__free_bytes(struct uptrkv_thread *t);


#endif
