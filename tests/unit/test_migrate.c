// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pure migration builder (lib/migrate.c), on hand-built snapshots:
 * the writes uptrkv_mig__build returns are applied to a copy of the
 * snapshot, the way the admin write program applies them to a live store,
 * and the result is read back with uptrkv_snapshot__value.
 *   - unchanged and renamed keys share the very same meta entry;
 *   - added keys get their default bytes;
 *   - resized keys are copied, zero-extended or truncated (a truncated
 *     string keeps a NUL);
 *   - removed keys are absent from the new meta; keys no manifest names
 *     are kept; a key deleted in the store stays deleted;
 *   - nothing the live meta references is ever written;
 *   - -ENOSPC when both layouts do not fit;
 *   - resized keys are forwarded (their value is moved after the switch),
 *     and a reader of the new slot reads the old version's last write;
 *   - write order: data, then meta, then header with layout_hash last;
 *   - a kept value of up to 8 bytes outside page 0 goes home to page 0.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit/helpers.h"
#include "convert.h"
#include "migrate.h"

#define TID 4242
#define GEN 7

/* ---- a hand-built store ---- */

struct store {
	struct uptrkv_snapshot s;
	struct uptrkv_alloc a;		/* what slot `slot` uses */
	__u32 slot;
};

static struct store *store_new(__u32 page_mask, __u32 slot, __u32 hash)
{
	struct store *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	st->slot = slot;
	st->s.tid = TID;
	st->s.hdr.magic = UPTRKV_MAGIC;
	st->s.hdr.format = UPTRKV_FORMAT;
	st->s.hdr.flags = UPTRKV_HDR_F_MANAGED;
	st->s.hdr.owner_tid = TID;
	st->s.hdr.page_mask = page_mask;
	st->s.hdr.layout_hash[slot] = hash;
	st->s.hdr.meta_gen[slot] = GEN - 1;
	st->s.present = UPTRKV_R_BIT(UPTRKV_R_HDR) | UPTRKV_R_BIT(UPTRKV_R_META0) |
			UPTRKV_R_BIT(UPTRKV_R_META1);
	for (__u32 i = 0; i < UPTRKV_MAX_PAGES; i++)
		if (page_mask & (1u << i))
			st->s.present |= UPTRKV_R_BIT(UPTRKV_R_DATA(i));
	uptrkv_alloc__init(&st->a, page_mask);
	return st;
}

/* Puts key id with the given bytes in the live slot. */
static void store_put(struct store *st, __u32 id, const void *val, __u32 size)
{
	__u32 ent;

	assert_int_equal(uptrkv_alloc__alloc(&st->a, size, &ent), 0);
	memcpy(st->s.data[UPTRKV_ENT_PAGE(ent)].bytes + UPTRKV_ENT_OFF(ent), val, size);
	st->s.meta[st->slot].ent[id] = ent;
}

static void store_put_u64(struct store *st, __u32 id, __u64 v)
{
	store_put(st, id, &v, 8);
}

/* Every key of m at its default. */
static void store_fill(struct store *st, const struct uptrkv_manifest *m)
{
	for (size_t i = 0; i < m->nr_keys; i++)
		store_put(st, m->keys[i].id, m->keys[i].def, m->keys[i].size);
}

/* What a reader of slot gets for id: a forwarded value through the other
 * slot, converted. Valid until the next call. */
static const __u8 *value(const struct uptrkv_snapshot *s, __u32 slot, __u32 id, __u32 *size)
{
	static __u8 buf[UPTRKV_MAX_VALUE];
	__u32 sz = 0;
	int err = uptrkv_snapshot__read(s, slot, id, buf, &sz);

	if (err)
		fail_msg("key %u in slot %u: %d", id, slot, err);
	if (size)
		*size = sz;
	return buf;
}

/* Where key id's bytes are in slot (a plain entry's extent). */
static __u8 *value_ptr(struct uptrkv_snapshot *s, __u32 slot, __u32 id)
{
	__u32 ent = s->meta[slot].ent[id];

	return s->data[UPTRKV_ENT_PAGE(ent)].bytes + UPTRKV_ENT_OFF(ent);
}

static __u8 *region_base(struct uptrkv_snapshot *s, __u8 region)
{
	if (region == UPTRKV_R_HDR)
		return (__u8 *)&s->hdr;
	if (region == UPTRKV_R_META0 || region == UPTRKV_R_META1)
		return (__u8 *)&s->meta[region - UPTRKV_R_META0];
	return s->data[region - UPTRKV_R_DATA0].bytes;
}

/* What the admin write program does with a batch, on a snapshot. */
/* s as a new snapshot of the store it stands for would show it: the seq
 * words read after the copy equal the ones before. */
static void resnap(struct uptrkv_snapshot *s)
{
	memcpy(s->seq_after, s->hdr.seq, sizeof(s->seq_after));
	s->struct_seq_after = s->hdr.struct_seq;
}

/* What the admin write program does with w, on a snapshot. Returns the
 * number of groups skipped (UPTRKV_W_LOCK). */
static size_t apply(struct uptrkv_snapshot *s, const struct uptrkv_write *w, size_t n)
{
	__u32 *locked = NULL;
	size_t skipped = 0;
	bool skip = false;

	for (size_t i = 0; i < n; i++) {
		__u8 *base;

		assert_true(w[i].region < __UPTRKV_R_MAX);
		assert_true(s->present & UPTRKV_R_BIT(w[i].region));
		assert_true((size_t)w[i].off + w[i].len <= uptrkv_region__size(w[i].region));
		base = region_base(s, w[i].region);
		if (skip && w[i].op != UPTRKV_W_UNLOCK)
			continue;
		switch (w[i].op) {
		case UPTRKV_W_LOCK:
			assert_null(locked);
			assert_int_equal(w[i].region, UPTRKV_R_HDR);
			if (*(__u32 *)(base + w[i].off) & 1) {
				skip = true;
			} else {
				locked = (__u32 *)(base + w[i].off);
				++*locked;
			}
			break;
		case UPTRKV_W_CMP:
			skip = memcmp(base + w[i].off, (const void *)(unsigned long)w[i].src, w[i].len);
			break;
		case UPTRKV_W_UNLOCK:
			if (locked)
				++*locked;
			skipped += skip;
			locked = NULL;
			skip = false;
			break;
		case UPTRKV_W_COPY:
			memcpy(base + w[i].off, (const void *)(unsigned long)w[i].src, w[i].len);
			break;
		case UPTRKV_W_STORE32:
			assert_int_equal(w[i].off % 4, 0);
			*(__u32 *)(base + w[i].off) = w[i].val;
			break;
		case UPTRKV_W_ADD32:
			assert_int_equal(w[i].off % 4, 0);
			*(__u32 *)(base + w[i].off) += w[i].val;
			break;
		default:
			fail_msg("write %zu: bad op %u", i, w[i].op);
		}
	}
	assert_null(locked);
	resnap(s);
	return skipped;
}

static struct uptrkv_snapshot *applied(const struct store *st, const struct uptrkv_mig *m)
{
	struct uptrkv_snapshot *s = malloc(sizeof(*s));

	assert_non_null(s);
	memcpy(s, &st->s, sizeof(*s));
	apply(s, m->w, m->nr_w);
	return s;
}

/* No data write touches an extent that the live meta references. */
static void check_live_untouched(const struct store *st, const struct uptrkv_mig *m)
{
	const struct uptrkv_meta *live = &st->s.meta[m->from];

	for (size_t i = 0; i < m->nr_w; i++) {
		const struct uptrkv_write *w = &m->w[i];

		if (w->region < UPTRKV_R_DATA0)
			continue;
		for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
			__u32 e = live->ent[k];
			__u32 lo, hi;

			if (!UPTRKV_ENT_IS_VALID(e) || UPTRKV_R_DATA(UPTRKV_ENT_PAGE(e)) != w->region)
				continue;
			lo = UPTRKV_ENT_OFF(e);
			hi = lo + UPTRKV_ENT_SIZE(e);
			if (w->off < hi && lo < (__u32)w->off + w->len)
				fail_msg("write %zu (page %u, %u+%u) overlaps live key %u (%u..%u)", i,
					 w->region - UPTRKV_R_DATA0, w->off, w->len, k, lo, hi);
		}
	}
}

/* Data copies, then the whole new meta, then meta_gen, then layout_hash. */
static void check_order(const struct uptrkv_mig *m, __u32 hash)
{
	size_t n = m->nr_w;

	assert_true(n >= 3);
	for (size_t i = 0; i + 3 < n; i++) {
		assert_int_equal(m->w[i].op, UPTRKV_W_COPY);
		assert_true(m->w[i].region >= UPTRKV_R_DATA0);
	}
	assert_int_equal(m->w[n - 3].op, UPTRKV_W_COPY);
	assert_int_equal(m->w[n - 3].region, UPTRKV_R_META(m->to));
	assert_int_equal(m->w[n - 3].off, 0);
	assert_int_equal(m->w[n - 3].len, UPTRKV_PAGE_SIZE);
	assert_memory_equal((void *)(unsigned long)m->w[n - 3].src, &m->meta, sizeof(m->meta));
	assert_int_equal(m->w[n - 2].op, UPTRKV_W_STORE32);
	assert_int_equal(m->w[n - 2].region, UPTRKV_R_HDR);
	assert_int_equal(m->w[n - 2].off, offsetof(struct uptrkv_hdr, meta_gen[m->to]));
	assert_int_equal(m->w[n - 2].val, GEN);
	assert_int_equal(m->w[n - 1].op, UPTRKV_W_STORE32);
	assert_int_equal(m->w[n - 1].region, UPTRKV_R_HDR);
	assert_int_equal(m->w[n - 1].off, offsetof(struct uptrkv_hdr, layout_hash[m->to]));
	assert_int_equal(m->w[n - 1].val, hash);
}

/* ---- every change kind at once, both directions ---- */

#define OLD_KEYS								\
	"{id: 0, name: a, size: 8, type: u64},"				\
	"{id: 1, name: b, size: 8, type: u64},"				\
	"{id: 2, name: s, size: 16, type: string},"			\
	"{id: 3, name: blob, size: 64},"					\
	"{id: 4, name: gone, size: 4, type: u32},"			\
	"{id: 8, name: wide, size: 8}"
#define NEW_KEYS								\
	"{id: 0, name: a, size: 8, type: u64},"				\
	"{id: 1, name: b_renamed, size: 8, type: u64},"			\
	"{id: 2, name: s, size: 8, type: string, resize: truncate},"	\
	"{id: 3, name: blob, size: 100},"					\
	"{id: 5, name: added, size: 4, type: u32, default: 77},"		\
	"{id: 6, name: hi, size: 8, type: string, default: hi},"		\
	"{id: 8, name: wide, size: 4, resize: truncate}"

static void every_change(__u32 from)
{
	struct uptrkv_manifest *o = ut_manifest(1, OLD_KEYS), *n = ut_manifest(2, NEW_KEYS);
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x3, from, p->old_hash);
	struct uptrkv_snapshot *after;
	struct uptrkv_error e = {};
	struct uptrkv_mig m;
	__u8 blob[64], want[100] = {};
	const __u8 *v;
	__u32 to = from ^ 1, sz, used;
	__u64 wide = 0x1122334455667788ull;

	for (int i = 0; i < 64; i++)
		blob[i] = (__u8)(i * 7 + 1);
	store_put_u64(st, 0, 0x1111);
	store_put_u64(st, 1, 0x2222);
	store_put(st, 2, "hello world!!!!", 16);
	store_put(st, 3, blob, 64);
	store_put(st, 4, "\5\0\0\0", 4);
	store_put(st, 8, &wide, 8);
	store_put_u64(st, 900, 0x9999);		/* the app's own key */

	assert_int_equal(uptrkv_mig__build(p, &st->s, from, to, GEN, &m, &e), 0);
	assert_int_equal(m.tid, TID);
	assert_int_equal(m.from, from);
	assert_int_equal(m.to, to);

	/* Shared entries: the very same extent, never copied. */
	assert_int_equal(m.meta.ent[0], st->s.meta[from].ent[0]);
	assert_int_equal(m.meta.ent[1], st->s.meta[from].ent[1]);
	assert_int_equal(m.meta.ent[900], st->s.meta[from].ent[900]);
	/* Removed, and ids nobody has: absent. */
	assert_false(UPTRKV_ENT_IS_VALID(m.meta.ent[4]));
	assert_false(UPTRKV_ENT_IS_VALID(m.meta.ent[7]));
	/* Added and resized: new extents. */
	for (__u32 id = 2; id <= 6; id++) {
		if (id == 4)
			continue;
		assert_true(UPTRKV_ENT_IS_VALID(m.meta.ent[id]));
		assert_int_not_equal(m.meta.ent[id], st->s.meta[from].ent[id]);
	}
	assert_int_equal(m.nr_keep, 3);
	assert_int_equal(m.nr_copy, 3);
	assert_int_equal(m.nr_init, 2);
	assert_int_equal(m.nr_drop, 1);
	assert_int_equal(m.nr_missing, 0);
	/* Resized keys are forwarded: their value stays where the old
	 * version writes it until the first access after the switch. */
	assert_int_equal(m.nr_moves, 3);
	for (size_t i = 0; i < m.nr_moves; i++) {
		__u32 ent = m.meta.ent[m.moves[i]];

		assert_true(UPTRKV_ENT_IS_FWD(ent));
		assert_int_equal(UPTRKV_ENT_CONV(ent), m.moves[i] == 2 ? UPTRKV_ENT_CONV_STRING
								       : UPTRKV_ENT_CONV_PREFIX);
	}
	assert_false(UPTRKV_ENT_IS_FWD(m.meta.ent[5]));	/* added: no old value */

	check_order(&m, p->new_hash);
	check_live_untouched(st, &m);

	after = applied(st, &m);
	assert_int_equal(after->hdr.layout_hash[to], p->new_hash);
	assert_int_equal(after->hdr.meta_gen[to], GEN);
	assert_int_equal(after->hdr.layout_hash[from], p->old_hash);
	assert_memory_equal(&after->meta[from], &st->s.meta[from], sizeof(struct uptrkv_meta));
	/* The live slot reads exactly what it read before. */
	for (__u32 id = 0; id < UPTRKV_MAX_KEYS; id++) {
		const void *a, *b;
		__u32 sa, sb;

		if (uptrkv_snapshot__value(&st->s, from, id, &a, &sa))
			continue;
		assert_int_equal(uptrkv_snapshot__value(after, from, id, &b, &sb), 0);
		assert_int_equal(sa, sb);
		assert_memory_equal(a, b, sa);
	}
	/* The new slot. */
	v = value(after, to, 0, &sz);
	assert_int_equal(sz, 8);
	assert_int_equal(*(const __u64 *)v, 0x1111);
	v = value(after, to, 1, &sz);
	assert_int_equal(*(const __u64 *)v, 0x2222);
	v = value(after, to, 2, &sz);
	assert_int_equal(sz, 8);
	assert_memory_equal(v, "hello w\0", 8);		/* truncated, NUL kept */
	v = value(after, to, 3, &sz);
	assert_int_equal(sz, 100);
	memcpy(want, blob, 64);
	assert_memory_equal(v, want, 100);		/* zero-extended */
	v = value(after, to, 5, &sz);
	assert_int_equal(sz, 4);
	assert_int_equal(*(const __u32 *)v, 77);
	v = value(after, to, 6, &sz);
	assert_int_equal(sz, 8);
	assert_memory_equal(v, "hi\0\0\0\0\0\0", 8);
	v = value(after, to, 8, &sz);
	assert_int_equal(sz, 4);
	assert_memory_equal(v, &wide, 4);		/* bytes: truncated, no NUL */
	v = value(after, to, 900, &sz);
	assert_int_equal(*(const __u64 *)v, 0x9999);
	assert_int_equal(uptrkv_snapshot__value(after, to, 4, (const void **)&v, &sz), -ENOENT);

	/* Free once `from` is gone: pages minus the new layout's extents. */
	used = 8 + 8 + 8 + 104 + 8 + 8 + 8 + 8;
	assert_int_equal(m.bytes_free_after, 2 * UPTRKV_PAGE_SIZE - used);

	free(after);
	uptrkv_mig__free(&m);
	assert_null(m.w);
	assert_int_equal(m.nr_w, 0);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

static void test_every_change_0_to_1(void **state)
{
	(void)state;
	every_change(0);
}

static void test_every_change_1_to_0(void **state)
{
	(void)state;
	every_change(1);
}

/* A key the plan keeps or copies but this store deleted. */
static void test_missing_keys(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, "{id: 0, name: a, size: 8}, {id: 1, name: b, size: 16},"
					  "{id: 2, name: c, size: 8}");
	struct uptrkv_manifest *n = ut_manifest(2, "{id: 0, name: a, size: 8}, {id: 1, name: b, size: 32, default: \"0x0102\"},"
					  "{id: 2, name: c, size: 8}");
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x1, 0, p->old_hash);
	struct uptrkv_snapshot *after;
	struct uptrkv_error e = {};
	struct uptrkv_mig m;
	__u8 want[32] = { 1, 2 };
	const __u8 *v;
	__u32 sz;

	(void)state;
	store_put_u64(st, 2, 5);	/* 0 and 1 were deleted by the app */
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), 0);
	assert_false(UPTRKV_ENT_IS_VALID(m.meta.ent[0]));	/* stays deleted */
	assert_int_equal(m.nr_missing, 1);
	assert_int_equal(m.nr_keep, 1);
	assert_int_equal(m.nr_moves, 0);		/* nothing to move later */
	after = applied(st, &m);
	v = value(after, 1, 1, &sz);			/* resized but absent: its default */
	assert_int_equal(sz, 32);
	assert_memory_equal(v, want, 32);
	assert_int_equal(*(const __u64 *)value(after, 1, 2, NULL), 5);
	free(after);
	uptrkv_mig__free(&m);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* ---- no space ---- */

static int build_in_one_page(const char *old_keys, const char *new_keys, __u32 fill,
			     struct uptrkv_mig *m, struct uptrkv_error *e)
{
	struct uptrkv_manifest *o = ut_manifest(1, old_keys), *n = ut_manifest(2, new_keys);
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x1, 0, p->old_hash);
	__u8 *big = calloc(1, UPTRKV_MAX_VALUE);
	int err;

	assert_non_null(big);
	memset(big, 0xab, fill);
	store_put(st, 0, big, fill);
	err = uptrkv_mig__build(p, &st->s, 0, 1, GEN, m, e);
	free(big);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
	return err;
}

static void check_nothing_returned(const struct uptrkv_mig *m)
{
	/* A failed build hands back no half-built migration. */
	print_message("  after the failure: %zu writes, %zu buffer bytes, %zu copies\n",
		      m->nr_w, m->buf_len, m->nr_moves);
	assert_int_equal(m->nr_w, 0);
	assert_null(m->w);
	assert_null(m->buf);
	assert_int_equal(m->nr_moves, 0);
}

static void test_enospc(void **state)
{
	struct uptrkv_error e = {};
	struct uptrkv_mig m;

	(void)state;
	/* 4000 bytes used in the only page: 96 are left. */
	assert_int_equal(build_in_one_page("{id: 0, name: big, size: 4000}",
					   "{id: 0, name: big, size: 4000}, {id: 1, name: x, size: 96}",
					   4000, &m, &e), 0);
	assert_int_equal(m.bytes_free_after, 0);
	uptrkv_mig__free(&m);

	assert_int_equal(build_in_one_page("{id: 0, name: big, size: 4000}",
					   "{id: 0, name: big, size: 4000}, {id: 1, name: x, size: 97}",
					   4000, &m, &e), -ENOSPC);
	print_message("  %s\n", e.msg);
	assert_non_null(strstr(e.msg, "thread 4242"));
	assert_non_null(strstr(e.msg, "key 1"));
	assert_non_null(strstr(e.msg, "no space"));
	check_nothing_returned(&m);
	uptrkv_mig__free(&m);

	/* Growing needs both extents at once: the old one stays live. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(build_in_one_page("{id: 0, name: big, size: 2048}",
					   "{id: 0, name: big, size: 2056}", 2048, &m, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "key 0"));
	check_nothing_returned(&m);
	uptrkv_mig__free(&m);

	/* Several keys: the first few fit, a later one does not. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(build_in_one_page("{id: 0, name: big, size: 2048}",
					   "{id: 0, name: big, size: 2048}, {id: 1, name: a, size: 1000},"
					   "{id: 2, name: b, size: 1000}, {id: 3, name: c, size: 100}",
					   2048, &m, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "key 3"));
	check_nothing_returned(&m);
	uptrkv_mig__free(&m);
}

/* ---- a resized value being written during the snapshot ---- */

/* No retry: what the snapshot caught is only the extent's first fill, and
 * the move after the switch copies the value again under its seqcount. */
static void test_unstable_copy(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, "{id: 0, name: a, size: 16}, {id: 1, name: k, size: 16}");
	struct uptrkv_manifest *n = ut_manifest(2, "{id: 0, name: a, size: 24}, {id: 1, name: k, size: 16}");
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x1, 0, p->old_hash);
	struct uptrkv_error e = {};
	struct uptrkv_mig m;

	(void)state;
	store_fill(st, o);
	/* A writer holds key 0's seqcount, and the meta changed meanwhile. */
	st->s.hdr.seq[0] = st->s.seq_after[0] = 3;
	st->s.struct_seq_after = st->s.hdr.struct_seq + 1;
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), 0);
	assert_int_equal(m.nr_moves, 1);
	assert_int_equal(m.moves[0], 0);
	assert_true(UPTRKV_ENT_IS_FWD(m.meta.ent[0]));
	uptrkv_mig__free(&m);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* ---- moving resized values ---- */

/* The old version writes after the migration: a reader of the new slot
 * sees that write (forwarding), not the migration's copy. */
static void test_forward_reads_last_write(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, "{id: 0, name: a, size: 4, type: s32},"
					  "{id: 1, name: b, size: 16}, {id: 2, name: c, size: 4, type: u32}");
	struct uptrkv_manifest *n = ut_manifest(2, "{id: 0, name: a, size: 8, type: s64},"
					  "{id: 1, name: b, size: 24}, {id: 2, name: c, size: 8, type: u64}");
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x1, 0, p->old_hash);
	struct uptrkv_snapshot *after;
	struct uptrkv_error e = {};
	struct uptrkv_mig m;
	__s32 neg = -5;
	__u32 big = 0xfffffff0u, sz, ids[UPTRKV_MAX_KEYS];
	__u8 want[24] = {};

	(void)state;
	store_put(st, 0, &neg, 4);
	store_put(st, 1, "0123456789abcdef", 16);
	store_put(st, 2, &big, 4);
	/* Integer widenings are carried over, not reset. */
	assert_true(p->compatible);
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(p->v[i].action, UPTRKV_ACT_COPY);
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), 0);
	assert_int_equal(UPTRKV_ENT_CONV(m.meta.ent[0]), UPTRKV_ENT_CONV_SEXT);
	assert_int_equal(UPTRKV_ENT_CONV(m.meta.ent[2]), UPTRKV_ENT_CONV_UINT);
	after = applied(st, &m);
	assert_int_equal(*(const __s64 *)value(after, 1, 0, &sz), -5);
	assert_int_equal(sz, 8);
	assert_int_equal(*(const __u64 *)value(after, 1, 2, NULL), 0xfffffff0ull);
	/* the old version writes all three after the copy */
	neg = 7;
	memcpy((void *)value_ptr(after, 0, 0), &neg, 4);
	memcpy((void *)value_ptr(after, 0, 1), "ZYXWVUTSRQPONMLK", 16);
	assert_int_equal(*(const __s64 *)value(after, 1, 0, NULL), 7);
	memcpy(want, "ZYXWVUTSRQPONMLK", 16);
	assert_memory_equal(value(after, 1, 1, &sz), want, 24);
	assert_int_equal(sz, 24);
	/* what is left to move, and the writes that move it */
	assert_int_equal(uptrkv_mig__pending_moves(after, 1, ids), 3);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[2], 2);
	assert_int_equal(uptrkv_mig__pending_moves(after, 0, ids), 0);
	free(after);
	uptrkv_mig__free(&m);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* The conversion a move makes, the same as the BPF and app movers. */
static void test_forward_convert(void **state)
{
	__u8 dst[16], src[16];
	__s8 s8 = -2;
	__s16 s16 = -300;
	__s64 v;

	(void)state;
	memset(dst, 0x77, sizeof(dst));
	assert_int_equal(uptrkv_convert_over(dst, 8, (const __u8 *)&s8, 1, UPTRKV_ENT_CONV_SEXT), 0);
	memcpy(&v, dst, 8);
	assert_int_equal(v, -2);
	assert_int_equal(uptrkv_convert_over(dst, 4, (const __u8 *)&s16, 2, UPTRKV_ENT_CONV_SEXT), 0);
	assert_int_equal(*(__s32 *)dst, -300);
	assert_int_equal(uptrkv_convert_over(dst, 8, (const __u8 *)&s16, 2, UPTRKV_ENT_CONV_UINT), 0);
	memcpy(&v, dst, 8);
	assert_int_equal(v, 0xfed4);	/* -300 as a u16, widened by value */
	/* not a widening: refused, dst unchanged */
	memset(dst, 0x77, sizeof(dst));
	assert_int_equal(uptrkv_convert_over(dst, 4, (const __u8 *)&s16, 4, UPTRKV_ENT_CONV_SEXT), -EINVAL);
	assert_int_equal(uptrkv_convert_over(dst, 3, (const __u8 *)&s16, 2, UPTRKV_ENT_CONV_SEXT), -EINVAL);
	assert_int_equal(dst[0], 0x77);
	/* prefix: the rest is what the extent held */
	memcpy(src, "abcdefgh", 8);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(uptrkv_convert_over(dst, 16, src, 8, UPTRKV_ENT_CONV_PREFIX), 0);
	assert_memory_equal(dst, "abcdefgh\0\0\0\0\0\0\0\0", 16);
	/* a truncated string keeps its NUL, bytes do not */
	assert_int_equal(uptrkv_convert_over(dst, 4, src, 8, UPTRKV_ENT_CONV_STRING), 0);
	assert_memory_equal(dst, "abc\0", 4);
	assert_int_equal(uptrkv_convert_over(dst, 4, src, 8, UPTRKV_ENT_CONV_PREFIX), 0);
	assert_memory_equal(dst, "abcd", 4);
}

static void test_retire_writes(void **state)
{
	struct uptrkv_write w[1];

	(void)state;
	for (__u32 slot = 0; slot < UPTRKV_NR_SLOTS; slot++) {
		memset(w, 0xff, sizeof(w));
		assert_int_equal(uptrkv_mig__retire_writes(slot, w), 1);
		assert_int_equal(w[0].op, UPTRKV_W_STORE32);
		assert_int_equal(w[0].region, UPTRKV_R_HDR);
		assert_int_equal(w[0].off, offsetof(struct uptrkv_hdr, layout_hash[slot]));
		assert_int_equal(w[0].val, 0);
	}
}

/*
 * Values placed side by side go in one copy: 128 keys resized 8 -> 32 bytes
 * fill the last page exactly, so their new extents are one 4 KiB write,
 * then the meta and the header as always. The extents are zero, what the
 * move leaves past the 8 bytes it copies; the value is read through the
 * forwarded entry.
 */
static void test_copies_merged(void **state)
{
	char ok[4608], nk[4608];
	size_t lo = 0, ln = 0;

	(void)state;
	for (int i = 0; i < 128; i++) {
		lo += snprintf(ok + lo, sizeof(ok) - lo, "%s{id: %d, name: k%d, size: 8}", i ? "," : "", i, i);
		ln += snprintf(nk + ln, sizeof(nk) - ln, "%s{id: %d, name: k%d, size: 32}", i ? "," : "", i, i);
	}
	struct uptrkv_manifest *o = ut_manifest(1, ok), *n = ut_manifest(2, nk);
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0xff, 0, p->old_hash);
	struct uptrkv_snapshot *after;
	struct uptrkv_error e = {};
	struct uptrkv_mig m;

	for (__u32 i = 0; i < 128; i++)
		store_put_u64(st, i, 0x1000 + i);
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), 0);
	assert_int_equal(m.nr_copy, 128);
	assert_int_equal(m.nr_w, 1 + 3);
	assert_int_equal(m.w[0].op, UPTRKV_W_COPY);
	assert_int_equal(m.w[0].len, UPTRKV_PAGE_SIZE);
	check_order(&m, p->new_hash);
	check_live_untouched(st, &m);
	after = applied(st, &m);
	for (__u32 i = 0; i < 128; i++) {
		__u64 v[4];
		__u32 sz;

		memcpy(v, value_ptr(after, 1, i), sizeof(v));
		assert_int_equal(v[0] | v[1] | v[2] | v[3], 0);
		memcpy(v, value(after, 1, i, &sz), sizeof(v));
		assert_int_equal(sz, 32);
		assert_int_equal(v[0], 0x1000 + i);
		assert_int_equal(v[1] | v[2] | v[3], 0);
	}
	free(after);
	uptrkv_mig__free(&m);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* A kept small value outside page 0 goes home when page 0 has room, as a
 * forwarded move; a larger one, or one with no room at home, stays. */
static void test_small_goes_home(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, "{id: 0, name: a, size: 8, type: u64},"
					  "{id: 1, name: far, size: 8, type: u64}, {id: 2, name: big, size: 16}");
	struct uptrkv_manifest *n = ut_manifest(2, "{id: 0, name: a, size: 8, type: u64},"
					  "{id: 1, name: far, size: 8, type: u64}, {id: 2, name: big, size: 16},"
					  "{id: 3, name: added, size: 16}");
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x3, 0, p->old_hash);
	__u32 far = UPTRKV_ENT(1, 0, 8), big, ent;
	struct uptrkv_snapshot *after;
	struct uptrkv_error e = {};
	struct uptrkv_mig m;
	__u64 v = 0x1122334455667788ull;

	(void)state;
	store_put_u64(st, 0, 1);
	store_put(st, 2, "0123456789abcdef", 16);
	big = st->s.meta[0].ent[2];
	assert_int_equal(UPTRKV_ENT_PAGE(big), 1);
	/* where an earlier rollout or a full page 0 left it */
	memcpy(st->s.data[1].bytes, &v, 8);
	st->s.meta[0].ent[1] = far;
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), 0);
	ent = m.meta.ent[1];
	assert_true(UPTRKV_ENT_IS_FWD(ent));
	assert_int_equal(UPTRKV_ENT_PAGE(ent), 0);
	assert_int_equal(UPTRKV_ENT_SIZE(ent), 8);
	assert_int_equal(UPTRKV_ENT_CONV(ent), UPTRKV_ENT_CONV_PREFIX);
	assert_int_equal(m.nr_home, 1);
	assert_int_equal(m.nr_moves, 1);	/* far: the added key is written, not moved */
	assert_int_equal(m.meta.ent[2], big);
	assert_int_equal(m.meta.ent[0], st->s.meta[0].ent[0]);
	check_live_untouched(st, &m);
	after = applied(st, &m);
	assert_int_equal(*(const __u64 *)value(after, 1, 1, NULL), v);
	/* the old version writes it before the switch: the new one reads that */
	v = 42;
	memcpy(value_ptr(after, 0, 1), &v, 8);
	assert_int_equal(*(const __u64 *)value(after, 1, 1, NULL), 42);
	free(after);
	uptrkv_mig__free(&m);

	/* Page 0 full (keys of the app's own): far stays where it is. */
	for (__u32 id = 100; id < 100 + UPTRKV_PAGE_SIZE / 8 - 1; id++)
		store_put_u64(st, id, id);
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), 0);
	assert_int_equal(m.meta.ent[1], far);
	assert_int_equal(m.nr_home, 0);
	uptrkv_mig__free(&m);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* ---- builds shared between stores laid out alike ---- */

/* a and b write the same bytes to the same places, in the same order. */
static void check_same_build(const struct uptrkv_mig *a, const struct uptrkv_mig *b)
{
	assert_int_equal(a->from, b->from);
	assert_int_equal(a->to, b->to);
	assert_memory_equal(&a->meta, &b->meta, sizeof(a->meta));
	assert_int_equal(a->nr_w, b->nr_w);
	for (size_t i = 0; i < a->nr_w; i++) {
		const struct uptrkv_write *x = &a->w[i], *y = &b->w[i];

		assert_int_equal(x->op, y->op);
		assert_int_equal(x->region, y->region);
		assert_int_equal(x->off, y->off);
		assert_int_equal(x->len, y->len);
		assert_int_equal(x->val, y->val);
		if (x->op == UPTRKV_W_COPY)
			assert_memory_equal((const void *)(unsigned long)x->src,
					    (const void *)(unsigned long)y->src, x->len);
	}
	assert_int_equal(a->nr_moves, b->nr_moves);
	if (a->nr_moves)
		assert_memory_equal(a->moves, b->moves, a->nr_moves * sizeof(*a->moves));
	assert_int_equal(a->nr_keep, b->nr_keep);
	assert_int_equal(a->nr_init, b->nr_init);
	assert_int_equal(a->nr_copy, b->nr_copy);
	assert_int_equal(a->nr_drop, b->nr_drop);
	assert_int_equal(a->nr_missing, b->nr_missing);
	assert_int_equal(a->bytes_free_after, b->bytes_free_after);
}

/* The OLD_KEYS store of every_change, with values that depend on seed. */
static struct store *layout_store(const struct uptrkv_plan *p, __u32 tid, __u32 page_mask, int seed)
{
	struct store *st = store_new(page_mask, 0, p->old_hash);
	__u8 blob[64];
	char str[16];

	for (int i = 0; i < 64; i++)
		blob[i] = (__u8)(i * 7 + seed);
	snprintf(str, sizeof(str), "thread %d......", seed);
	st->s.tid = tid;
	st->s.hdr.owner_tid = tid;
	store_put_u64(st, 0, 0x1000 + seed);
	store_put_u64(st, 1, 0x2000 + seed);
	store_put(st, 2, str, 16);
	store_put(st, 3, blob, 64);
	store_put(st, 4, "\5\0\0\0", 4);
	store_put_u64(st, 8, 0x3000 + seed);
	return st;
}

/*
 * What a reader of the new slot gets from st once m is applied and every
 * forwarded value moved: st's own values, whichever store m was built
 * from.
 */
static void check_applied(const struct store *st, const struct uptrkv_mig *m, int seed)
{
	struct uptrkv_snapshot *after = applied(st, m);
	__u8 want[100] = {};
	char str[16];
	__u32 sz;

	snprintf(str, sizeof(str), "thread %d......", seed);
	assert_int_equal(*(const __u64 *)value(after, 1, 0, NULL), 0x1000 + seed);
	assert_int_equal(*(const __u64 *)value(after, 1, 1, NULL), 0x2000 + seed);
	memcpy(want, str, 7);
	assert_memory_equal(value(after, 1, 2, &sz), want, 8);	/* truncated, NUL kept */
	memset(want, 0, sizeof(want));
	for (int i = 0; i < 64; i++)
		want[i] = (__u8)(i * 7 + seed);
	assert_memory_equal(value(after, 1, 3, &sz), want, 100);
	assert_int_equal(sz, 100);
	assert_int_equal(*(const __u32 *)value(after, 1, 8, &sz), (__u32)(0x3000 + seed));
	assert_int_equal(sz, 4);
	assert_int_equal(*(const __u32 *)value(after, 1, 5, NULL), 77);
	free(after);
}

/* A build from the cache equals a fresh build of the same store. */
static void check_cached(struct uptrkv_mig_cache *mc, const struct uptrkv_plan *p,
			 const struct store *st, const struct uptrkv_mig **out)
{
	struct uptrkv_error e = {};
	struct uptrkv_mig fresh;

	assert_int_equal(uptrkv_mig_cache__get(mc, &st->s, out, &e), 0);
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &fresh, &e), 0);
	check_same_build(*out, &fresh);
	uptrkv_mig__free(&fresh);
}

static void test_cache_shared(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, OLD_KEYS), *n = ut_manifest(2, NEW_KEYS);
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *a = layout_store(p, 100, 0x3, 1), *b = layout_store(p, 200, 0x3, 2);
	const struct uptrkv_mig *ma, *mb;
	struct uptrkv_mig_cache *mc;

	(void)state;
	assert_int_equal(uptrkv_mig_cache__new(p, 0, 1, GEN, &mc), 0);
	check_cached(mc, p, a, &ma);
	assert_int_equal(uptrkv_mig_cache__count(mc), 1);
	/* Same keys in the same places, other values, another thread. */
	check_cached(mc, p, b, &mb);
	assert_ptr_equal(ma, mb);
	assert_int_equal(uptrkv_mig_cache__count(mc), 1);
	/* The build names no value: each store gets its own. */
	check_applied(a, ma, 1);
	check_applied(b, mb, 2);
	uptrkv_mig_cache__free(mc);
	free(a);
	free(b);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* Each way a store can differ from another gets its own build. */
static void test_cache_distinct(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, OLD_KEYS), *n = ut_manifest(2, NEW_KEYS);
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *base = layout_store(p, 100, 0x3, 1), *v[4];
	const struct uptrkv_mig *mb, *m[4];
	struct uptrkv_mig_cache *mc;

	(void)state;
	v[0] = layout_store(p, 101, 0x3, 3);
	store_put_u64(v[0], 900, 0x9999);		/* the app's own key */
	v[1] = layout_store(p, 102, 0x7, 4);		/* one page more */
	v[2] = layout_store(p, 103, 0x3, 5);
	v[2]->s.meta[0].ent[1] = 0;			/* deleted by the app */
	v[3] = layout_store(p, 104, 0x3, 6);
	v[3]->s.present &= ~UPTRKV_R_BIT(UPTRKV_R_DATA(1));	/* its page 1 unregistered */
	assert_int_equal(uptrkv_mig_cache__new(p, 0, 1, GEN, &mc), 0);
	check_cached(mc, p, base, &mb);
	for (int i = 0; i < 4; i++) {
		check_cached(mc, p, v[i], &m[i]);
		assert_ptr_not_equal(m[i], mb);
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(m[i], m[j]);
		assert_int_equal(uptrkv_mig_cache__count(mc), 2 + i);
	}
	assert_int_equal(m[0]->meta.ent[900], v[0]->s.meta[0].ent[900]);
	check_applied(v[0], m[0], 3);
	check_applied(v[1], m[1], 4);
	assert_false(UPTRKV_ENT_IS_VALID(m[2]->meta.ent[1]));	/* stays deleted */
	/* Asked again, each finds its own. */
	for (int i = 0; i < 4; i++) {
		const struct uptrkv_mig *again;

		check_cached(mc, p, v[i], &again);
		assert_ptr_equal(again, m[i]);
	}
	assert_int_equal(uptrkv_mig_cache__count(mc), 5);
	uptrkv_mig_cache__free(mc);
	free(base);
	for (int i = 0; i < 4; i++)
		free(v[i]);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* A store that fails fails on its own build, naming its own thread, and
 * leaves nothing in the cache. */
static void test_cache_failures(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, "{id: 0, name: big, size: 2048}");
	struct uptrkv_manifest *n = ut_manifest(2, "{id: 0, name: big, size: 2056}");
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *fits = store_new(0x3, 0, p->old_hash), *full = store_new(0x1, 0, p->old_hash);
	struct store *bad = store_new(0x3, 0, p->old_hash);
	__u8 *big = calloc(1, UPTRKV_MAX_VALUE);
	const struct uptrkv_mig *m, *m2;
	struct uptrkv_mig_cache *mc;
	struct uptrkv_error e = {};

	(void)state;
	assert_non_null(big);
	store_put(fits, 0, big, 2048);
	store_put(full, 0, big, 2048);
	full->s.tid = 5151;
	store_put(bad, 0, big, 2048);
	bad->s.hdr.magic = 0x12345678;
	assert_int_equal(uptrkv_mig_cache__new(p, 0, 1, GEN, &mc), 0);
	assert_int_equal(uptrkv_mig_cache__get(mc, &full->s, &m, &e), -ENOSPC);
	assert_null(m);
	assert_non_null(strstr(e.msg, "thread 5151"));
	assert_int_equal(uptrkv_mig_cache__count(mc), 0);
	/* The same store again: built again, fails again, same thread. */
	memset(&e, 0, sizeof(e));
	full->s.tid = 5252;
	assert_int_equal(uptrkv_mig_cache__get(mc, &full->s, &m, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "thread 5252"));
	assert_int_equal(uptrkv_mig_cache__get(mc, &fits->s, &m, &e), 0);
	assert_int_equal(uptrkv_mig_cache__count(mc), 1);
	/* Equal to a cached store but for its magic: refused. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(uptrkv_mig_cache__get(mc, &bad->s, &m2, &e), -EPROTO);
	assert_int_equal(uptrkv_mig_cache__count(mc), 1);
	uptrkv_mig_cache__free(mc);
	free(big);
	free(fits);
	free(full);
	free(bad);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

/* A store that is not ours is refused, and a corrupt live meta too. */
static void test_bad_store(void **state)
{
	struct uptrkv_manifest *o = ut_manifest(1, "{id: 0, name: a, size: 8}");
	struct uptrkv_manifest *n = ut_manifest(2, "{id: 0, name: a, size: 16}");
	struct uptrkv_plan *p = ut_plan(o, n);
	struct store *st = store_new(0x1, 0, p->old_hash);
	struct uptrkv_error e = {};
	struct uptrkv_mig m;

	(void)state;
	store_put_u64(st, 0, 1);
	st->s.hdr.magic = 0x12345678;
	assert_int_equal(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e), -EPROTO);
	uptrkv_mig__free(&m);
	st->s.hdr.magic = UPTRKV_MAGIC;
	st->s.meta[0].ent[5] = UPTRKV_ENT(3, 0, 8);	/* on a page it does not have */
	assert_true(uptrkv_mig__build(p, &st->s, 0, 1, GEN, &m, &e) < 0);
	uptrkv_mig__free(&m);
	free(st);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(o);
	uptrkv_manifest__free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_change_0_to_1),
		cmocka_unit_test(test_every_change_1_to_0),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_unstable_copy),
		cmocka_unit_test(test_forward_reads_last_write),
		cmocka_unit_test(test_forward_convert),
		cmocka_unit_test(test_retire_writes),
		cmocka_unit_test(test_copies_merged),
		cmocka_unit_test(test_bad_store),
		cmocka_unit_test(test_small_goes_home),
		cmocka_unit_test(test_cache_shared),
		cmocka_unit_test(test_cache_distinct),
		cmocka_unit_test(test_cache_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
