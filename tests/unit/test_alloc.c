// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of the allocator (lib/alloc.c): every error path, then
 * randomised alloc/free/compact sequences (fixed seed) checked after every
 * step against a simple reference model that owns each 8-byte unit, plus
 * a data pattern per value that must survive every compaction move.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "uptrkv.h"
#include "alloc.h"

#define PAGES UPTRKV_MAX_PAGES
#define UNITS UPTRKV_UNITS_PER_PAGE

static void test_errors(void **state)
{
	struct uptrkv_alloc a;
	struct uptrkv_meta m;
	struct uptrkv_hdr h;
	const struct uptrkv_meta *metas[2] = { &m, NULL };
	__u32 e = 0, ne;

	(void)state;
	uptrkv_alloc__init(&a, 0);
	assert_int_equal(uptrkv_alloc__alloc(&a, 8, &e), -ENOSPC);	/* no pages */
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 0);
	assert_int_equal(uptrkv_alloc__largest(&a), 0);
	uptrkv_alloc__init(&a, 0xffffffffu);				/* clamped */
	assert_int_equal(a.page_mask, 0xff);
	uptrkv_alloc__init(&a, 1);
	assert_int_equal(uptrkv_alloc__alloc(&a, 0, &e), -EINVAL);
	assert_int_equal(uptrkv_alloc__alloc(&a, 4097, &e), -EINVAL);
	/* mark: every malformed entry */
	assert_int_equal(uptrkv_alloc__mark(&a, 0), -EINVAL);			/* not valid */
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT(0, 0, 8) | (1u << 25)), -EINVAL); /* rsvd */
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT_VALID), -EINVAL);	/* size 0 */
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT_VALID | 4097), -EINVAL); /* size 4097 */
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT(0, 8, 4096)), -EINVAL); /* past page end */
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT(1, 0, 8)), -EINVAL);	/* page not registered */
	assert_true(uptrkv_alloc__empty(&a));
	/* marking the same entry twice (shared by two slots) is fine */
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT(0, 0, 8)), 0);
	assert_int_equal(uptrkv_alloc__mark(&a, UPTRKV_ENT(0, 0, 8)), 0);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096 - 8);
	/* free of a malformed entry changes nothing */
	uptrkv_alloc__free(&a, UPTRKV_ENT(3, 0, 8));
	uptrkv_alloc__free(&a, 0);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096 - 8);
	/* compact_step of a bad entry */
	assert_int_equal(uptrkv_alloc__compact_step(&a, 0, &ne), -EINVAL);
	assert_int_equal(uptrkv_alloc__compact_step(&a, UPTRKV_ENT(0, 0, 8), &ne), 0); /* nothing lower */

	/* mark_meta: bad entries reported, good ones still marked */
	memset(&m, 0, sizeof(m));
	m.ent[3] = UPTRKV_ENT(0, 64, 16);
	m.ent[4] = UPTRKV_ENT(5, 0, 16);	/* page 5 not registered */
	m.ent[5] = UPTRKV_ENT(0, 128, 8);
	uptrkv_alloc__init(&a, 1);
	assert_int_equal(uptrkv_alloc__mark_meta(&a, &m), -EINVAL);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096 - 24);

	/* mark_store: standalone slot 0 counts even with hash 0 */
	memset(&h, 0, sizeof(h));
	m.ent[4] = 0;
	uptrkv_alloc__init(&a, 1);
	assert_int_equal(uptrkv_alloc__mark_store(&a, &h, metas), 0);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096 - 24);
	/* managed with hash 0: the slot owns nothing */
	h.flags = UPTRKV_HDR_F_MANAGED;
	uptrkv_alloc__init(&a, 1);
	assert_int_equal(uptrkv_alloc__mark_store(&a, &h, metas), 0);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096);
	h.layout_hash[0] = 1;
	uptrkv_alloc__init(&a, 1);
	assert_int_equal(uptrkv_alloc__mark_store(&a, &h, metas), 0);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096 - 24);
}

static void test_shapes(void **state)
{
	struct uptrkv_alloc a;
	__u32 e, e2;

	(void)state;
	uptrkv_alloc__init(&a, 0x3);
	/* 4096 takes a whole page: the last one, as values over 8 bytes
	 * fill from the top and leave page 0 to small values */
	assert_int_equal(uptrkv_alloc__alloc(&a, 4096, &e), 0);
	assert_int_equal(e, UPTRKV_ENT(1, 0, 4096));
	/* 1-byte value takes one 8-byte unit, 8-byte aligned, in page 0 */
	assert_int_equal(uptrkv_alloc__alloc(&a, 1, &e), 0);
	assert_int_equal(e, UPTRKV_ENT(0, 0, 1));
	/* 9 bytes is large: page 1 is full, so page 0 after all */
	assert_int_equal(uptrkv_alloc__alloc(&a, 9, &e), 0);
	assert_int_equal(e, UPTRKV_ENT(0, 8, 9));
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 4096 - 24);
	/* never crosses a page: 4073 does not fit in the rest of page 0 */
	assert_int_equal(uptrkv_alloc__largest(&a), 4096 - 24);
	assert_int_equal(uptrkv_alloc__alloc(&a, 4096 - 23, &e2), -ENOSPC);
	assert_int_equal(uptrkv_alloc__alloc(&a, 4096 - 24, &e2), 0);
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 0);
	assert_int_equal(uptrkv_alloc__alloc(&a, 1, &e2), -ENOSPC);
	/* free + reuse at the same place */
	uptrkv_alloc__free(&a, e);
	assert_int_equal(uptrkv_alloc__largest(&a), 16);
	assert_int_equal(uptrkv_alloc__alloc(&a, 16, &e2), 0);
	assert_int_equal(UPTRKV_ENT_OFF(e2), 8);
	/* page_used, alloc_avoid */
	uptrkv_alloc__init(&a, 0x3);
	assert_int_equal(uptrkv_alloc__alloc_avoid(&a, 16, 0x2, &e), 0);
	assert_int_equal(UPTRKV_ENT_PAGE(e), 0);	/* large, but page 1 avoided */
	uptrkv_alloc__free(&a, e);
	assert_int_equal(uptrkv_alloc__alloc_avoid(&a, 8, 0x1, &e), 0);
	assert_int_equal(UPTRKV_ENT_PAGE(e), 1);
	assert_int_equal(uptrkv_alloc__page_used(&a, 1), 8);
	assert_int_equal(uptrkv_alloc__page_used(&a, 0), 0);
	assert_int_equal(uptrkv_alloc__alloc_avoid(&a, 8, 0x3, &e), -ENOSPC);
	/* compact_step: moves to a lower place, old extent stays marked */
	assert_int_equal(uptrkv_alloc__compact_step(&a, e, &e2), 1);
	assert_int_equal(e2, UPTRKV_ENT(0, 0, 8));
	assert_int_equal(uptrkv_alloc__free_bytes(&a), 8192 - 16);
	/* merge */
	{
		struct uptrkv_alloc b;

		uptrkv_alloc__init(&b, 0x4);
		uptrkv_alloc__mark(&b, UPTRKV_ENT(2, 0, 4096));
		uptrkv_alloc__merge(&a, &b);
		assert_int_equal(a.page_mask, 0x7);
		assert_int_equal(uptrkv_alloc__page_used(&a, 2), 4096);
	}
}

/* ---------------------------------------------------------------- */
/* randomised, against a reference model                            */
/* ---------------------------------------------------------------- */

#define KEYS 256

struct model {
	__u32 page_mask;
	int owner[PAGES][UNITS];		/* key or -1 */
	__u32 ent[KEYS];			/* 0 = no key */
	unsigned char bytes[PAGES][UPTRKV_PAGE_SIZE];
};

static unsigned int rng = 12345;

static unsigned int rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) & 0xffffff;
}

static __u32 rnd_size(void)
{
	switch (rnd() % 4) {
	case 0: return 1 + rnd() % 8;
	case 1: return 1 + rnd() % 64;
	case 2: return 1 + rnd() % 1024;
	default: return 1 + rnd() % 4096;
	}
}

static unsigned char pattern(int key, __u32 i)
{
	return (unsigned char)(key * 131 + i * 7 + 1);
}

/* The model's first fit: lowest unit, in the pages from 0 up for values
 * of up to 8 bytes and from the last page down for larger ones. */
static int model_first_fit(const struct model *m, __u32 size, __u32 avoid, __u32 *pg_out, __u32 *u_out)
{
	__u32 n = (size + 7) / 8;

	for (__u32 i = 0; i < PAGES; i++) {
		__u32 pg = size <= 8 ? i : PAGES - 1 - i, run = 0;

		if (!(m->page_mask & (1u << pg)) || (avoid & (1u << pg)))
			continue;
		for (__u32 u = 0; u < UNITS; u++) {
			run = m->owner[pg][u] < 0 ? run + 1 : 0;
			if (run == n) {
				*pg_out = pg;
				*u_out = u + 1 - n;
				return 0;
			}
		}
	}
	return -ENOSPC;
}

static void model_set(struct model *m, __u32 ent, int key)
{
	__u32 pg = UPTRKV_ENT_PAGE(ent), u = UPTRKV_ENT_OFF(ent) / 8, n = (UPTRKV_ENT_SIZE(ent) + 7) / 8;

	for (__u32 i = 0; i < n; i++) {
		if (key >= 0)
			assert_int_equal(m->owner[pg][u + i], -1);	/* no overlap */
		m->owner[pg][u + i] = key;
	}
}

static void check(const struct model *m, const struct uptrkv_alloc *a)
{
	__u32 free_units = 0, largest = 0;

	assert_int_equal(a->page_mask, m->page_mask);
	for (__u32 pg = 0; pg < PAGES; pg++) {
		__u32 run = 0;

		if (!(m->page_mask & (1u << pg)))
			continue;
		for (__u32 u = 0; u < UNITS; u++) {
			bool used = (a->used[pg][u / 64] >> (u % 64)) & 1;

			assert_int_equal(used, m->owner[pg][u] >= 0);
			run = used ? 0 : run + 1;
			free_units += !used;
			if (run > largest)
				largest = run;
		}
	}
	assert_int_equal(uptrkv_alloc__free_bytes(a), free_units * 8);
	assert_int_equal(uptrkv_alloc__largest(a), largest * 8);
	/* every value still holds its bytes */
	for (int k = 0; k < KEYS; k++) {
		__u32 e = m->ent[k];

		if (!e)
			continue;
		for (__u32 i = 0; i < UPTRKV_ENT_SIZE(e); i++)
			assert_int_equal(m->bytes[UPTRKV_ENT_PAGE(e)][UPTRKV_ENT_OFF(e) + i], pattern(k, i));
	}
	/* the allocator rebuilt from the entries equals the live one */
	{
		struct uptrkv_alloc b;

		uptrkv_alloc__init(&b, m->page_mask);
		for (int k = 0; k < KEYS; k++)
			if (m->ent[k])
				assert_int_equal(uptrkv_alloc__mark(&b, m->ent[k]), 0);
		assert_memory_equal(&b, a, sizeof(b));
	}
}

static void do_alloc(struct model *m, struct uptrkv_alloc *a, int key)
{
	__u32 size = rnd_size(), e, pg, u;
	int want = model_first_fit(m, size, 0, &pg, &u);
	int r = uptrkv_alloc__alloc(a, size, &e);

	assert_int_equal(r, want);
	if (r)
		return;
	assert_int_equal(e, UPTRKV_ENT(pg, u * 8, size));
	assert_true(UPTRKV_ENT_OFF(e) + size <= UPTRKV_PAGE_SIZE);
	model_set(m, e, key);
	m->ent[key] = e;
	for (__u32 i = 0; i < size; i++)
		m->bytes[pg][u * 8 + i] = pattern(key, i);
}

static void do_free(struct model *m, struct uptrkv_alloc *a, int key)
{
	uptrkv_alloc__free(a, m->ent[key]);
	model_set(m, m->ent[key], -1);
	memset(&m->bytes[UPTRKV_ENT_PAGE(m->ent[key])][UPTRKV_ENT_OFF(m->ent[key])], 0xee,
	       UPTRKV_ENT_SIZE(m->ent[key]));
	m->ent[key] = 0;
}

static void move(struct model *m, struct uptrkv_alloc *a, int key, __u32 ne)
{
	__u32 old = m->ent[key];

	model_set(m, ne, key);
	memcpy(&m->bytes[UPTRKV_ENT_PAGE(ne)][UPTRKV_ENT_OFF(ne)],
	       &m->bytes[UPTRKV_ENT_PAGE(old)][UPTRKV_ENT_OFF(old)], UPTRKV_ENT_SIZE(old));
	m->ent[key] = ne;
	/* the old extent is freed only after the new entry is published */
	model_set(m, old, -1);
	memset(&m->bytes[UPTRKV_ENT_PAGE(old)][UPTRKV_ENT_OFF(old)], 0xee, UPTRKV_ENT_SIZE(old));
	uptrkv_alloc__free(a, old);
	check(m, a);
}

/* Compaction as store.c does it: evacuate the least used page. */
static void do_evacuate(struct model *m, struct uptrkv_alloc *a)
{
	__u32 victim = PAGES, best = ~0u;

	for (__u32 pg = 0; pg < PAGES; pg++) {
		__u32 used = uptrkv_alloc__page_used(a, pg);

		if ((m->page_mask & (1u << pg)) && used && used < best) {
			best = used;
			victim = pg;
		}
	}
	if (victim == PAGES)
		return;
	for (int k = 0; k < KEYS; k++) {
		__u32 ne, pg, u;
		int want, r;

		if (!m->ent[k] || UPTRKV_ENT_PAGE(m->ent[k]) != victim)
			continue;
		want = model_first_fit(m, UPTRKV_ENT_SIZE(m->ent[k]), 1u << victim, &pg, &u);
		r = uptrkv_alloc__alloc_avoid(a, UPTRKV_ENT_SIZE(m->ent[k]), 1u << victim, &ne);
		assert_int_equal(r, want);
		if (r)
			continue;
		assert_int_equal(ne, UPTRKV_ENT(pg, u * 8, UPTRKV_ENT_SIZE(m->ent[k])));
		move(m, a, k, ne);
	}
}

/* Compaction by compact_step, in address order. */
static void do_slide(struct model *m, struct uptrkv_alloc *a)
{
	for (__u32 pg = 0; pg < PAGES; pg++)
		for (__u32 u = 0; u < UNITS; u++) {
			int k = m->owner[pg][u];
			__u32 ne;

			if (k < 0 || UPTRKV_ENT_OFF(m->ent[k]) / 8 != u || UPTRKV_ENT_PAGE(m->ent[k]) != pg)
				continue;
			if (uptrkv_alloc__compact_step(a, m->ent[k], &ne) == 1) {
				/* strictly lower, and never overlapping the old extent */
				assert_true((ne & ~UPTRKV_ENT_VALID) >> 13 < (m->ent[k] & ~UPTRKV_ENT_VALID) >> 13);
				move(m, a, k, ne);
			}
		}
}

/* Small values from page 0 up, larger ones from the last page down, and the
 * page a store registers next follows the same order. */
static void test_order(void **state)
{
	(void)state;
	assert_int_equal(uptrkv_alloc__page_order(1, 0), 0);
	assert_int_equal(uptrkv_alloc__page_order(UPTRKV_SMALL_MAX, 7), 7);
	assert_int_equal(uptrkv_alloc__page_order(UPTRKV_SMALL_MAX + 1, 0), 7);
	assert_int_equal(uptrkv_alloc__page_order(4096, 7), 0);
	assert_int_equal(uptrkv_alloc__next_page(0, 8), 0);
	assert_int_equal(uptrkv_alloc__next_page(0, 0), 0);	/* a reservation */
	assert_int_equal(uptrkv_alloc__next_page(0, 16), 7);
	assert_int_equal(uptrkv_alloc__next_page(0x81, 16), 6);
	assert_int_equal(uptrkv_alloc__next_page(0x81, 1), 1);
	assert_int_equal(uptrkv_alloc__next_page(0x7f, 1), 7);
	assert_int_equal(uptrkv_alloc__next_page(0xfe, 4096), 0);
	assert_int_equal(uptrkv_alloc__next_page(0xff, 1), -ENOSPC);
	assert_int_equal(uptrkv_alloc__next_page(0xff, 4096), -ENOSPC);
}

static void test_random(void **state)
{
	static struct model m;
	struct uptrkv_alloc a;
	unsigned long allocs = 0, enospc = 0, frees = 0, compactions = 0;

	(void)state;
	for (int round = 0; round < 20; round++) {
		memset(&m, 0, sizeof(m));
		memset(m.owner, 0xff, sizeof(m.owner));
		m.page_mask = round % 5 == 0 ? 0xff : (rnd() & 0xff) | 1;
		uptrkv_alloc__init(&a, m.page_mask);
		for (int step = 0; step < 1500; step++) {
			int key = (int)(rnd() % KEYS), op = (int)(rnd() % 100);

			if (op < 2) {
				if (op == 0)
					do_evacuate(&m, &a);
				else
					do_slide(&m, &a);
				compactions++;
			} else if (op < 55 && !m.ent[key]) {
				do_alloc(&m, &a, key);
				allocs++;
				enospc += !m.ent[key];
			} else if (m.ent[key]) {
				do_free(&m, &a, key);
				frees++;
			} else if (op % 7 == 0) {
				/* grow: register one more page */
				for (__u32 pg = 0; pg < PAGES; pg++)
					if (!(m.page_mask & (1u << pg))) {
						m.page_mask |= 1u << pg;
						a.page_mask |= 1u << pg;
						break;
					}
			}
			check(&m, &a);
		}
	}
	print_message("random: %lu allocs (%lu -ENOSPC), %lu frees, %lu compactions\n", allocs, enospc,
		      frees, compactions);
	assert_true(enospc > 0 && enospc < allocs);
	assert_true(frees > 1000 && compactions > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
