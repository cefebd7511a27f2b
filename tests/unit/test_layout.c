// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests of the shared layout (bpf/uptrkv_layout.h) and its macros. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "uptrkv.h"
#include "alloc.h"

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct uptrkv_hdr), 64 + 4 * UPTRKV_NR_SEQ);
	assert_true(sizeof(struct uptrkv_hdr) <= UPTRKV_PAGE_SIZE);
	assert_int_equal(offsetof(struct uptrkv_hdr, seq), 64);
	assert_int_equal(offsetof(struct uptrkv_hdr, magic), 0);
	assert_int_equal(sizeof(struct uptrkv_meta), UPTRKV_PAGE_SIZE);
	assert_int_equal(sizeof(((struct uptrkv_meta *)0)->ent) / 4, UPTRKV_MAX_KEYS);
	assert_int_equal(sizeof(struct uptrkv_page), UPTRKV_PAGE_SIZE);
	assert_int_equal(sizeof(struct uptrkv_task_store), 8 * (1 + UPTRKV_NR_SLOTS + UPTRKV_MAX_PAGES));
	assert_int_equal(sizeof(struct uptrkv_ctl), 64);
	/* 32 KiB of data per task at most, as the issue asks */
	assert_int_equal(UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE, 32768);
	/* the seq stripe index is key % NR_SEQ: a power of two */
	assert_int_equal(UPTRKV_NR_SEQ & (UPTRKV_NR_SEQ - 1), 0);
	assert_int_equal(UPTRKV_UNITS_PER_PAGE, 512);
}

static void test_entry_roundtrip(void **state)
{
	(void)state;
	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++)
		for (__u32 off = 0; off < UPTRKV_PAGE_SIZE; off += UPTRKV_ALIGN)
			for (__u32 size = 1; size <= UPTRKV_PAGE_SIZE - off; size += (size < 16 ? 1 : 61)) {
				__u32 e = UPTRKV_ENT(pg, off, size);

				assert_true(UPTRKV_ENT_IS_VALID(e));
				assert_int_equal(e & UPTRKV_ENT_RSVD_MASK, 0);
				assert_int_equal(UPTRKV_ENT_PAGE(e), pg);
				assert_int_equal(UPTRKV_ENT_OFF(e), off);
				assert_int_equal(UPTRKV_ENT_SIZE(e), size);
			}
	/* A 12-bit size could not hold 4096 (bpf/uptrkv_layout.h). */
	assert_int_equal(UPTRKV_ENT_SIZE(UPTRKV_ENT(7, 0, 4096)), 4096);
	assert_int_equal(UPTRKV_ENT_OFF(UPTRKV_ENT(7, 4088, 8)), 4088);
	/* Fields do not overlap: all masks together cover 32 bits once. */
	assert_int_equal(UPTRKV_ENT_VALID ^ UPTRKV_ENT_FWD ^
			 (UPTRKV_ENT_CONV_MASK << UPTRKV_ENT_CONV_SHIFT) ^ UPTRKV_ENT_RSVD_MASK ^
			 (UPTRKV_ENT_PAGE_MASK << UPTRKV_ENT_PAGE_SHIFT) ^
			 (UPTRKV_ENT_OFF_MASK << UPTRKV_ENT_OFF_SHIFT) ^ UPTRKV_ENT_SIZE_MASK, 0xffffffffu);
	assert_int_equal(UPTRKV_ENT_VALID & UPTRKV_ENT_RSVD_MASK, 0);
	/* The flags are what the BPF fast path's one test covers. */
	assert_int_equal(UPTRKV_ENT_FLAGS_MASK, UPTRKV_ENT_FWD | UPTRKV_ENT_RSVD_MASK |
			 (UPTRKV_ENT_CONV_MASK << UPTRKV_ENT_CONV_SHIFT));
	assert_false(UPTRKV_ENT_IS_VALID(0));
}

/* Forwarding keeps the extent: the plain entry is the one it was made from. */
static void test_forward_entry(void **state)
{
	(void)state;
	for (__u32 conv = 0; conv <= UPTRKV_ENT_CONV_STRING; conv++) {
		__u32 e = UPTRKV_ENT(5, 1024, 100), f = UPTRKV_ENT_FORWARD(e, conv);

		assert_true(UPTRKV_ENT_IS_VALID(f));
		assert_true(UPTRKV_ENT_IS_FWD(f));
		assert_false(UPTRKV_ENT_IS_FWD(e));
		assert_int_equal(UPTRKV_ENT_CONV(f), conv);
		assert_int_equal(UPTRKV_ENT_PLAIN(f), e);
		assert_int_equal(UPTRKV_ENT_PAGE(f), 5);
		assert_int_equal(UPTRKV_ENT_OFF(f), 1024);
		assert_int_equal(UPTRKV_ENT_SIZE(f), 100);
		assert_int_equal(f & UPTRKV_ENT_RSVD_MASK, 0);
		/* forwarding a forwarded entry again changes only its conversion */
		assert_int_equal(UPTRKV_ENT_PLAIN(UPTRKV_ENT_FORWARD(f, 0)), e);
	}
}

static void test_slot(void **state)
{
	struct uptrkv_hdr h;

	(void)state;
	assert_int_equal(UPTRKV_SLOT(0), 0);
	assert_int_equal(UPTRKV_SLOT(1), 1);
	assert_int_equal(UPTRKV_SLOT(0xffffffffu), 1);
	memset(&h, 0, sizeof(h));
	/* standalone: slot 0 always live, slot 1 only with a hash */
	assert_true(uptrkv_slot_live(&h, 0));
	assert_false(uptrkv_slot_live(&h, 1));
	assert_false(uptrkv_slot_live(&h, 2));
	h.layout_hash[1] = 5;
	assert_true(uptrkv_slot_live(&h, 1));
	/* managed: only slots with a layout hash */
	h.flags = UPTRKV_HDR_F_MANAGED;
	assert_false(uptrkv_slot_live(&h, 0));
	assert_true(uptrkv_slot_live(&h, 1));
	h.layout_hash[0] = 9;
	assert_true(uptrkv_slot_live(&h, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_entry_roundtrip),
		cmocka_unit_test(test_forward_entry),
		cmocka_unit_test(test_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
