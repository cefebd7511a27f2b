// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The plan between two manifests: the demo v1 -> v2 -> v3 steps key by
 * key, and each compatibility rule on its own.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit/helpers.h"
#include "uptrkv_tool.h"

static char top[PATH_MAX];	/* source tree: examples/demo/ lives here */


static struct uptrkv_manifest *demo(int v)
{
	char path[PATH_MAX * 2];
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	snprintf(path, sizeof(path), "%s/examples/demo/demo_v%d.yaml", top, v);
	if (uptrkv_manifest__load(path, NULL, &m, &d))
		fail_msg("%s: %s", path, d.n ? d.v[0].msg : "load failed");
	uptrkv_diags__free(&d);
	return m;
}

struct want_entry {
	__u32 id;
	enum uptrkv_change change;
	bool renamed;
	enum uptrkv_action action;
	int old_size, new_size;		/* -1: that side has no key */
	bool refused;
};

static void check_plan(const struct uptrkv_plan *p, const struct want_entry *w, size_t n)
{
	assert_int_equal(p->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct uptrkv_plan_entry *e = &p->v[i];

		print_message("  id %u: %s%s action %d%s %s\n", e->id, uptrkv_change__str(e->change),
			      e->renamed ? "+renamed" : "", e->action, e->refused ? " refused:" : "",
			      e->why);
		assert_int_equal(e->id, w[i].id);
		assert_string_equal(uptrkv_change__str(e->change), uptrkv_change__str(w[i].change));
		assert_int_equal(e->renamed, w[i].renamed);
		assert_int_equal(e->action, w[i].action);
		assert_int_equal(e->refused, w[i].refused);
		assert_int_equal(e->refused, e->why[0] != '\0');
		if (w[i].old_size < 0)
			assert_null(e->old);
		else
			assert_int_equal(e->old->size, w[i].old_size);
		if (w[i].new_size < 0)
			assert_null(e->new);
		else
			assert_int_equal(e->new->size, w[i].new_size);
		if (e->old && e->new)
			assert_int_equal(e->old->id, e->new->id);
	}
}

#define U UPTRKV_CH_UNCHANGED
#define A UPTRKV_CH_ADDED
#define R UPTRKV_CH_REMOVED
#define RS UPTRKV_CH_RESIZED
#define RT UPTRKV_CH_RETYPED
#define RN UPTRKV_CH_RENAMED
#define KEEP UPTRKV_ACT_KEEP
#define INIT UPTRKV_ACT_INIT
#define COPY UPTRKV_ACT_COPY
#define DROP UPTRKV_ACT_DROP

static void test_demo_v1_v2(void **state)
{
	static const struct want_entry w[] = {
		{ 0, U, false, KEEP, 8, 8 },
		{ 1, RN, true, KEEP, 8, 8 },
		{ 2, U, false, KEEP, 4, 4 },
		{ 3, RS, false, COPY, 16, 32 },
		{ 4, RT, false, INIT, 2, 4 },
		{ 5, R, false, DROP, 4, -1 },
		{ 6, RS, false, COPY, 64, 4096 },
		{ 7, A, false, INIT, -1, 8 },
		{ 8, A, false, INIT, -1, 32 },
		{ 9, U, false, KEEP, 4, 4 },
	};
	struct uptrkv_manifest *a = demo(1), *b = demo(2);
	struct uptrkv_plan *p = ut_plan(a, b);

	(void)state;
	check_plan(p, w, 10);
	assert_int_equal(p->old_version, 1);
	assert_int_equal(p->new_version, 2);
	assert_true(p->version_increases);
	assert_true(p->compatible);
	assert_int_equal(p->nr_changes, 7);
	assert_int_equal(p->nr_refused, 0);
	assert_int_equal(p->bytes_before, 8 + 8 + 8 + 16 + 8 + 8 + 64 + 8);
	assert_int_equal(p->bytes_after, 8 + 8 + 8 + 32 + 8 + 4096 + 8 + 32 + 8);
	assert_int_equal(p->old_hash, a->layout_hash);
	assert_int_equal(p->new_hash, b->layout_hash);
	assert_int_not_equal(p->old_hash, p->new_hash);
	assert_string_equal(p->v[1].old->name, "events");
	assert_string_equal(p->v[1].new->name, "syscalls");
	/* the retyped key's default is what the rollout writes */
	assert_int_equal(p->v[4].new->def[0], 1);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(a);
	uptrkv_manifest__free(b);
}

static void test_demo_v2_v3(void **state)
{
	static const struct want_entry w[] = {
		{ 0, U, false, KEEP, 8, 8 },
		{ 1, U, false, KEEP, 8, 8 },
		{ 2, U, false, KEEP, 4, 4 },
		{ 3, U, false, KEEP, 32, 32 },
		{ 4, U, false, KEEP, 4, 4 },	/* resize: reset ignored: no change */
		{ 6, RS, false, COPY, 4096, 128 },
		{ 7, U, false, KEEP, 8, 8 },
		{ 8, R, false, DROP, 32, -1 },
		{ 9, U, false, KEEP, 4, 4 },
		{ 10, A, false, INIT, -1, 4096 },
		{ 11, A, false, INIT, -1, 4 },
	};
	struct uptrkv_manifest *a = demo(2), *b = demo(3);
	struct uptrkv_plan *p = ut_plan(a, b);

	(void)state;
	check_plan(p, w, 11);
	assert_true(p->compatible);
	assert_true(p->version_increases);
	assert_int_equal(p->nr_changes, 4);
	assert_int_equal(p->bytes_before, 4208);
	assert_int_equal(p->bytes_after, 4312);
	/* ratio's default, -1 as a little-endian s32 */
	assert_memory_equal(p->v[10].new->def, ((__u8[]){ 0xff, 0xff, 0xff, 0xff }), 4);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(a);
	uptrkv_manifest__free(b);
}

static void test_demo_v1_v3_and_back(void **state)
{
	struct uptrkv_manifest *v1 = demo(1), *v2 = demo(2), *v3 = demo(3);
	struct uptrkv_plan *p;

	(void)state;
	p = ut_plan(v1, v3);
	assert_true(p->compatible);
	assert_int_equal(p->nr_changes, 8);
	assert_int_equal(p->v[6].id, 6);		/* blob 64 -> 128: grows */
	assert_int_equal(p->v[6].action, UPTRKV_ACT_COPY);
	uptrkv_plan__free(p);

	p = ut_plan(v2, v2);
	assert_int_equal(p->nr_changes, 0);
	assert_true(p->compatible);
	assert_false(p->version_increases);
	assert_int_equal(p->bytes_before, p->bytes_after);
	uptrkv_plan__free(p);

	/* backwards: computed, flagged, and the shrinks without truncate refused */
	p = ut_plan(v3, v2);
	assert_false(p->version_increases);
	assert_true(p->compatible);		/* v2's blob grows back from 128 */
	uptrkv_plan__free(p);
	p = ut_plan(v2, v1);
	assert_false(p->version_increases);
	assert_false(p->compatible);
	assert_int_equal(p->nr_refused, 3);	/* comm and blob shrink, flags retype */
	uptrkv_plan__free(p);

	uptrkv_manifest__free(v1);
	uptrkv_manifest__free(v2);
	uptrkv_manifest__free(v3);
}

static void test_first_deploy(void **state)
{
	struct uptrkv_manifest *b = demo(1);
	struct uptrkv_plan *p = ut_plan(NULL, b);

	(void)state;
	assert_int_equal(p->n, 8);
	assert_int_equal(p->nr_changes, 8);
	assert_int_equal(p->old_version, 0);
	assert_int_equal(p->old_hash, 0);
	assert_true(p->version_increases);
	assert_int_equal(p->bytes_before, 0);
	assert_int_equal(p->bytes_after, 128);
	for (size_t i = 0; i < p->n; i++) {
		assert_int_equal(p->v[i].change, UPTRKV_CH_ADDED);
		assert_int_equal(p->v[i].action, UPTRKV_ACT_INIT);
	}
	uptrkv_plan__free(p);
	uptrkv_manifest__free(b);
}

struct rule {
	const char *old, *new;
	struct want_entry w;
	const char *why;
};

static const struct rule rules[] = {
	/* shrink */
	{ "{id: 1, name: a, size: 8}", "{id: 1, name: a, size: 4}",
	  { 1, RS, false, COPY, 8, 4, true }, "shrinks from 8 to 4 bytes: needs resize: truncate" },
	{ "{id: 1, name: a, size: 8}", "{id: 1, name: a, size: 4, resize: zero-extend}",
	  { 1, RS, false, COPY, 8, 4, true }, "needs resize: truncate" },
	{ "{id: 1, name: a, size: 8}", "{id: 1, name: a, size: 4, resize: truncate}",
	  { 1, RS, false, COPY, 8, 4, false } },
	{ "{id: 1, name: a, size: 8}", "{id: 1, name: a, size: 4, resize: reset}",
	  { 1, RS, false, INIT, 8, 4, false } },
	/* grow */
	{ "{id: 1, name: a, size: 4}", "{id: 1, name: a, size: 8}",
	  { 1, RS, false, COPY, 4, 8, false } },
	{ "{id: 1, name: a, size: 4}", "{id: 1, name: a, size: 8, resize: truncate}",
	  { 1, RS, false, COPY, 4, 8, false } },
	{ "{id: 1, name: a, size: 4, type: string}", "{id: 1, name: a, size: 8, type: string, resize: reset, default: x}",
	  { 1, RS, false, INIT, 4, 8, false } },
	/* retype */
	{ "{id: 1, name: a, size: 4, type: u32}", "{id: 1, name: a, size: 4, type: s32}",
	  { 1, RT, false, INIT, 4, 4, true },
	  "type changes from u32 to s32: only an integer widening keeps the value; anything else needs resize: reset" },
	{ "{id: 1, name: a, size: 4, type: u32}", "{id: 1, name: a, size: 8, type: u64, resize: zero-extend}",
	  { 1, RT, false, COPY, 4, 8, false } },
	{ "{id: 1, name: a, size: 8, type: u64}", "{id: 1, name: a, size: 4, type: u32, resize: truncate}",
	  { 1, RT, false, INIT, 8, 4, true }, "needs resize: reset" },
	{ "{id: 1, name: a, size: 4}", "{id: 1, name: a, size: 4, type: u32, resize: reset}",
	  { 1, RT, false, INIT, 4, 4, false } },
	/* rename, alone and with a resize */
	{ "{id: 1, name: a, size: 4}", "{id: 1, name: b, size: 4}",
	  { 1, RN, true, KEEP, 4, 4, false } },
	{ "{id: 1, name: a, size: 4}", "{id: 1, name: b, size: 16}",
	  { 1, RS, true, COPY, 4, 16, false } },
	{ "{id: 1, name: a, size: 4, type: u32}", "{id: 1, name: b, size: 8, type: u64, resize: reset}",
	  { 1, RT, true, INIT, 4, 8, false } },
	/* nothing that matters to the bytes changed */
	{ "{id: 1, name: a, size: 4}", "{id: 1, name: a, size: 4, default: \"0x01\", resize: truncate}",
	  { 1, U, false, KEEP, 4, 4, false } },
};

static void test_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct uptrkv_manifest *a = ut_manifest(1, rules[i].old), *b = ut_manifest(2, rules[i].new);
		struct uptrkv_plan *p = ut_plan(a, b);

		print_message("rule %zu: %s -> %s\n", i, rules[i].old, rules[i].new);
		check_plan(p, &rules[i].w, 1);
		assert_int_equal(p->compatible, !rules[i].w.refused);
		assert_int_equal(p->nr_refused, rules[i].w.refused);
		assert_int_equal(p->nr_changes, rules[i].w.change != U);
		if (rules[i].why)
			assert_non_null(strstr(p->v[0].why, rules[i].why));
		uptrkv_plan__free(p);
		uptrkv_manifest__free(a);
		uptrkv_manifest__free(b);
	}
}

/* Every pair of integer types: a widening keeps the value (copy, by value,
 * sign-extended from a signed type); anything else is refused without
 * resize: reset, and resets with it. */
static void test_widening(void **state)
{
	static const struct { const char *t; int w; bool s; } ty[] = {
		{ "u8", 1, false }, { "u16", 2, false }, { "u32", 4, false }, { "u64", 8, false },
		{ "s8", 1, true }, { "s16", 2, true }, { "s32", 4, true }, { "s64", 8, true },
	};
	char a_text[128], b_text[128];
	size_t widenings = 0;

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		for (size_t j = 0; j < 8; j++) {
			bool widens = ty[j].w > ty[i].w && (!ty[i].s || ty[j].s);

			if (i == j)
				continue;
			for (int reset = 0; reset < 2; reset++) {
				struct uptrkv_manifest *a, *b;
				struct uptrkv_plan *p;
				const struct uptrkv_plan_entry *e;

				snprintf(a_text, sizeof(a_text), "{id: 3, name: k, size: %d, type: %s}",
					 ty[i].w, ty[i].t);
				snprintf(b_text, sizeof(b_text), "{id: 3, name: k, size: %d, type: %s%s}",
					 ty[j].w, ty[j].t, reset ? ", resize: reset" : "");
				a = ut_manifest(1, a_text);
				b = ut_manifest(2, b_text);
				p = ut_plan(a, b);
				e = &p->v[0];
				print_message("%s -> %s%s: %s %s%s\n", ty[i].t, ty[j].t, reset ? " (reset)" : "",
					      uptrkv_conv__str(e->conv), e->refused ? "refused: " : "", e->why);
				assert_int_equal(e->change, UPTRKV_CH_RETYPED);
				if (widens && !reset) {
					assert_false(e->refused);
					assert_int_equal(e->action, UPTRKV_ACT_COPY);
					assert_int_equal(e->conv, ty[i].s ? UPTRKV_CONV_SINT : UPTRKV_CONV_UINT);
					assert_true(uptrkv_type__widens(a->keys[0].type, b->keys[0].type));
					widenings++;
				} else {
					assert_int_equal(e->refused, !reset);
					assert_int_equal(e->action, UPTRKV_ACT_INIT);
					assert_int_equal(e->conv, UPTRKV_CONV_RESET);
				}
				uptrkv_plan__free(p);
				uptrkv_manifest__free(a);
				uptrkv_manifest__free(b);
			}
		}
	}
	/* u8->u16,u32,u64 (3), u16->2, u32->1; same for signed (6); unsigned
	 * to a wider signed: u8->s16,s32,s64, u16->s32,s64, u32->s64 (6). */
	assert_int_equal(widenings, 18);
	/* Not integers: never a widening. */
	assert_false(uptrkv_type__widens(UPTRKV_T_BOOL, UPTRKV_T_U16));
	assert_false(uptrkv_type__widens(UPTRKV_T_U8, UPTRKV_T_BYTES));
}

/* The conversion each resize records: bytes, string, or reset. */
static void test_resize_conv(void **state)
{
	static const struct { const char *old, *new; enum uptrkv_conv conv; } c[] = {
		{ "{id: 1, name: a, size: 4}", "{id: 1, name: a, size: 8}", UPTRKV_CONV_ZERO_EXTEND },
		{ "{id: 1, name: a, size: 8}", "{id: 1, name: a, size: 4, resize: truncate}", UPTRKV_CONV_ZERO_EXTEND },
		{ "{id: 1, name: a, size: 8, type: string}", "{id: 1, name: a, size: 4, type: string, resize: truncate}", UPTRKV_CONV_STRING },
		{ "{id: 1, name: a, size: 8}", "{id: 1, name: a, size: 4, resize: reset}", UPTRKV_CONV_RESET },
		{ "{id: 1, name: a, size: 8}", "{id: 1, name: b, size: 8}", UPTRKV_CONV_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct uptrkv_manifest *a = ut_manifest(1, c[i].old), *b = ut_manifest(2, c[i].new);
		struct uptrkv_plan *p = ut_plan(a, b);

		assert_string_equal(uptrkv_conv__str(p->v[0].conv), uptrkv_conv__str(c[i].conv));
		uptrkv_plan__free(p);
		uptrkv_manifest__free(a);
		uptrkv_manifest__free(b);
	}
}

static void test_one_refusal_among_many(void **state)
{
	struct uptrkv_manifest *a = ut_manifest(1, "{id: 0, name: a, size: 8}, {id: 1, name: b, size: 8}, {id: 2, name: c, size: 8}");
	struct uptrkv_manifest *b = ut_manifest(2, "{id: 0, name: a, size: 16}, {id: 1, name: b, size: 4}, {id: 3, name: d, size: 8}");
	struct uptrkv_plan *p = ut_plan(a, b);

	(void)state;
	assert_int_equal(p->n, 4);
	assert_int_equal(p->nr_changes, 4);
	assert_int_equal(p->nr_refused, 1);
	assert_false(p->compatible);
	assert_true(p->v[1].refused);
	assert_false(p->v[0].refused);
	assert_int_equal(p->bytes_before, 24);
	assert_int_equal(p->bytes_after, 16 + 8 + 8);
	uptrkv_plan__free(p);
	uptrkv_manifest__free(a);
	uptrkv_manifest__free(b);
}

static void test_errors(void **state)
{
	struct uptrkv_manifest *a = demo(1), *b = ut_manifest(2, "");
	struct uptrkv_error e = {};
	struct uptrkv_plan *p = (void *)1;

	(void)state;
	/* a plan only makes sense within one deployment */
	assert_int_equal(uptrkv_plan__new(a, b, &p, &e), -EINVAL);
	assert_null(p);
	assert_int_equal(e.err, -EINVAL);
	assert_non_null(strstr(e.msg, "different deployments ('demo' and 't')"));
	assert_int_equal(uptrkv_plan__new(a, NULL, &p, NULL), -EINVAL);
	uptrkv_plan__free(NULL);

	/* every key removed */
	uptrkv_manifest__free(b);
	b = demo(2);
	b->nr_keys = 0;
	p = ut_plan(a, b);
	assert_int_equal(p->n, 8);
	assert_int_equal(p->nr_changes, 8);
	assert_int_equal(p->bytes_after, 0);
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(p->v[i].action, UPTRKV_ACT_DROP);
	b->nr_keys = 9;
	uptrkv_plan__free(p);
	uptrkv_manifest__free(a);
	uptrkv_manifest__free(b);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(uptrkv_change__str(UPTRKV_CH_UNCHANGED), "unchanged");
	assert_string_equal(uptrkv_change__str(UPTRKV_CH_ADDED), "added");
	assert_string_equal(uptrkv_change__str(UPTRKV_CH_REMOVED), "removed");
	assert_string_equal(uptrkv_change__str(UPTRKV_CH_RESIZED), "resized");
	assert_string_equal(uptrkv_change__str(UPTRKV_CH_RETYPED), "retyped");
	assert_string_equal(uptrkv_change__str(UPTRKV_CH_RENAMED), "renamed");
	assert_string_equal(uptrkv_change__str(99), "unknown");
	assert_int_equal(uptrkv_alloc_size(1), 8);
	assert_int_equal(uptrkv_alloc_size(8), 8);
	assert_int_equal(uptrkv_alloc_size(9), 16);
	assert_int_equal(uptrkv_alloc_size(4096), 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_v1_v2),
		cmocka_unit_test(test_demo_v2_v3),
		cmocka_unit_test(test_demo_v1_v3_and_back),
		cmocka_unit_test(test_first_deploy),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_widening),
		cmocka_unit_test(test_resize_conv),
		cmocka_unit_test(test_one_refusal_among_many),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_names),
	};

	if (ut_find_top("examples/demo/demo_v1.yaml", top)) {
		fprintf(stderr, "examples/demo/demo_v1.yaml not found\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
