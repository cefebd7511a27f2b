// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Allocator over one store's data pages. Pure: no kernel, no shared state.
 *
 * Space is counted in 8-byte units, UPTRKV_UNITS_PER_PAGE (512) per page. A
 * value takes ceil(size / 8) units and never crosses a page. The bitmap is
 * derived from the meta entries (uptrkv_alloc__mark_store); nothing of it is
 * stored in shared memory.
 */
#include <string.h>
#include "internal.h"

#define WORDS (UPTRKV_UNITS_PER_PAGE / 64)

static inline __u32 units_of(__u32 size)
{
	return (size + UPTRKV_ALIGN - 1) / UPTRKV_ALIGN;
}

static inline bool test_unit(const struct uptrkv_alloc *a, __u32 pg, __u32 u)
{
	return (a->used[pg][u / 64] >> (u % 64)) & 1;
}

/* A word at a time: a rollout marks and places thousands of values per
 * store, in thousands of stores. */
static void set_range(struct uptrkv_alloc *a, __u32 pg, __u32 u, __u32 n, bool on)
{
	while (n) {
		__u32 b = u % 64, k = 64 - b < n ? 64 - b : n;
		__u64 bits = (k == 64 ? ~0ull : (1ull << k) - 1) << b;

		if (on)
			a->used[pg][u / 64] |= bits;
		else
			a->used[pg][u / 64] &= ~bits;
		u += k;
		n -= k;
	}
}

/* Checks the shape of an entry; -EINVAL if it is not a possible value. */
static int check_ent(__u32 ent)
{
	__u32 size = UPTRKV_ENT_SIZE(ent);

	if (!UPTRKV_ENT_IS_VALID(ent) || (ent & UPTRKV_ENT_RSVD_MASK))
		return -EINVAL;
	if (size < 1 || size > UPTRKV_MAX_VALUE)
		return -EINVAL;
	if (UPTRKV_ENT_OFF(ent) + size > UPTRKV_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

void uptrkv_alloc__init(struct uptrkv_alloc *a, __u32 page_mask)
{
	memset(a, 0, sizeof(*a));
	a->page_mask = page_mask & ((1u << UPTRKV_MAX_PAGES) - 1);
}

int uptrkv_alloc__mark(struct uptrkv_alloc *a, __u32 ent)
{
	__u32 pg = UPTRKV_ENT_PAGE(ent);

	if (check_ent(ent))
		return -EINVAL;
	if (!(a->page_mask & (1u << pg)))
		return -EINVAL;
	set_range(a, pg, UPTRKV_ENT_OFF(ent) / UPTRKV_ALIGN, units_of(UPTRKV_ENT_SIZE(ent)), true);
	return 0;
}

int uptrkv_alloc__mark_meta(struct uptrkv_alloc *a, const struct uptrkv_meta *m)
{
	int ret = 0;

	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
		__u32 ent = __atomic_load_n(&m->ent[k], __ATOMIC_ACQUIRE);

		if (!UPTRKV_ENT_IS_VALID(ent))
			continue;
		if (uptrkv_alloc__mark(a, ent) && !ret)
			ret = -EINVAL;
	}
	return ret;
}

int uptrkv_alloc__mark_store(struct uptrkv_alloc *a, const struct uptrkv_hdr *h,
			     const struct uptrkv_meta *const meta[UPTRKV_NR_SLOTS])
{
	int ret = 0;

	for (__u32 s = 0; s < UPTRKV_NR_SLOTS; s++) {
		if (!meta[s] || !uptrkv_slot_live(h, s))
			continue;
		if (uptrkv_alloc__mark_meta(a, meta[s]) && !ret)
			ret = -EINVAL;
	}
	return ret;
}

/*
 * First free run of n units in page pg that ends at or before unit `limit`.
 * Returns its first unit or -1. Runs of used and of free units are crossed
 * with one count of trailing bits each, not unit by unit: a rollout places
 * up to 1024 values in each of thousands of stores.
 */
static int find_run(const struct uptrkv_alloc *a, __u32 pg, __u32 n, __u32 limit)
{
	__u32 u = 0, start = 0, run = 0;

	while (u < limit) {
		__u32 b = u % 64, left = 64 - b, k;
		/* bit i is unit u + i, for i < left; the bits above are 0 */
		__u64 w = a->used[pg][u / 64] >> b;

		if (left > limit - u)
			left = limit - u;
		if (w & 1) {
			k = ~w ? (__u32)__builtin_ctzll(~w) : 64;	/* used units from u */
			run = 0;
		} else {
			k = w ? (__u32)__builtin_ctzll(w) : 64;	/* free units from u */
			if (!run)
				start = u;
			run += k < left ? k : left;
			if (run >= n)
				return (int)start;
		}
		u += k < left ? k : left;
	}
	return -1;
}

int uptrkv_alloc__alloc(struct uptrkv_alloc *a, __u32 size, __u32 *ent)
{
	return uptrkv_alloc__alloc_avoid(a, size, 0, ent);
}

__u32 uptrkv_alloc__page_used(const struct uptrkv_alloc *a, __u32 pg)
{
	__u32 units = 0;

	if (pg >= UPTRKV_MAX_PAGES)
		return 0;
	for (__u32 w = 0; w < WORDS; w++)
		units += (__u32)__builtin_popcountll(a->used[pg][w]);
	return units * UPTRKV_ALIGN;
}

/*
 * The i-th page to try for a value of size bytes. Small values fill the
 * pages from 0 up, where a BPF get finds them without choosing a page;
 * larger ones fill from the last page down and so leave page 0 to them.
 */
__u32 uptrkv_alloc__page_order(__u32 size, __u32 i)
{
	return size <= UPTRKV_SMALL_MAX ? i : UPTRKV_MAX_PAGES - 1 - i;
}

int uptrkv_alloc__next_page(__u32 page_mask, __u32 size)
{
	for (__u32 i = 0; i < UPTRKV_MAX_PAGES; i++) {
		__u32 pg = uptrkv_alloc__page_order(size, i);

		if (!(page_mask & (1u << pg)))
			return (int)pg;
	}
	return -ENOSPC;
}

int uptrkv_alloc__alloc_avoid(struct uptrkv_alloc *a, __u32 size, __u32 avoid_mask, __u32 *ent)
{
	__u32 n;

	if (size < 1 || size > UPTRKV_MAX_VALUE)
		return -EINVAL;
	n = units_of(size);
	for (__u32 i = 0; i < UPTRKV_MAX_PAGES; i++) {
		__u32 pg = uptrkv_alloc__page_order(size, i);
		int u;

		if (!(a->page_mask & (1u << pg)) || (avoid_mask & (1u << pg)))
			continue;
		u = find_run(a, pg, n, UPTRKV_UNITS_PER_PAGE);
		if (u < 0)
			continue;
		set_range(a, pg, (__u32)u, n, true);
		*ent = UPTRKV_ENT(pg, (__u32)u * UPTRKV_ALIGN, size);
		return 0;
	}
	return -ENOSPC;
}

void uptrkv_alloc__free(struct uptrkv_alloc *a, __u32 ent)
{
	__u32 pg = UPTRKV_ENT_PAGE(ent);

	if (check_ent(ent) || !(a->page_mask & (1u << pg)))
		return;
	set_range(a, pg, UPTRKV_ENT_OFF(ent) / UPTRKV_ALIGN, units_of(UPTRKV_ENT_SIZE(ent)), false);
}

__u32 uptrkv_alloc__free_bytes(const struct uptrkv_alloc *a)
{
	__u32 units = 0;

	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++) {
		if (!(a->page_mask & (1u << pg)))
			continue;
		for (__u32 w = 0; w < WORDS; w++)
			units += 64 - (__u32)__builtin_popcountll(a->used[pg][w]);
	}
	return units * UPTRKV_ALIGN;
}

__u32 uptrkv_alloc__largest(const struct uptrkv_alloc *a)
{
	__u32 best = 0;

	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++) {
		__u32 run = 0;

		if (!(a->page_mask & (1u << pg)))
			continue;
		for (__u32 u = 0; u < UPTRKV_UNITS_PER_PAGE; u++) {
			run = test_unit(a, pg, u) ? 0 : run + 1;
			if (run > best)
				best = run;
		}
	}
	return best * UPTRKV_ALIGN;
}

void uptrkv_alloc__merge(struct uptrkv_alloc *a, const struct uptrkv_alloc *b)
{
	a->page_mask |= b->page_mask;
	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++)
		for (__u32 w = 0; w < WORDS; w++)
			a->used[pg][w] |= b->used[pg][w];
}

bool uptrkv_alloc__empty(const struct uptrkv_alloc *a)
{
	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++)
		for (__u32 w = 0; w < WORDS; w++)
			if (a->used[pg][w])
				return false;
	return true;
}

int uptrkv_alloc__compact_step(struct uptrkv_alloc *a, __u32 ent, __u32 *new_ent)
{
	__u32 pg = UPTRKV_ENT_PAGE(ent), size = UPTRKV_ENT_SIZE(ent), n;

	if (check_ent(ent) || !(a->page_mask & (1u << pg)))
		return -EINVAL;
	n = units_of(size);
	/* Lower pages first, then lower offsets in the value's own page.
	 * The value's extent is still marked, so the new place never
	 * overlaps it. */
	for (__u32 p = 0; p <= pg; p++) {
		__u32 limit = p < pg ? UPTRKV_UNITS_PER_PAGE : UPTRKV_ENT_OFF(ent) / UPTRKV_ALIGN;
		int u;

		if (!(a->page_mask & (1u << p)))
			continue;
		u = find_run(a, p, n, limit);
		if (u < 0)
			continue;
		set_range(a, p, (__u32)u, n, true);
		*new_ent = UPTRKV_ENT(p, (__u32)u * UPTRKV_ALIGN, size);
		return 1;
	}
	return 0;
}
