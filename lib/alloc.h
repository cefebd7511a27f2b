/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The allocator over one store's pages: internal to the library (the store,
 * the rollout planner, status) and its unit tests, not part of the API. */
#ifndef __UPTRKV_ALLOC_H
#define __UPTRKV_ALLOC_H

#include "uptrkv_common.h"

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

#endif
