// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The history's keep rule (lib/history.c): the last N revisions that
 * succeeded, and the failed ones since the oldest of those, at most N; and
 * the look-ups a rollback makes (the live revision, a version, the
 * previous one).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "history.h"

#define D UPTRKV_OUTCOME_DEPLOYED
#define B UPTRKV_OUTCOME_ROLLED_BACK
#define F UPTRKV_OUTCOME_FAILED

/* Revisions 1..n with the given versions and outcomes. */
static size_t make(struct uptrkv_revision *v, const __u32 *ver, const __u32 *out, size_t n)
{
	memset(v, 0, n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].revision = i + 1;
		v[i].version = ver[i];
		v[i].outcome = out[i];
	}
	return n;
}

static void check_kept(const __u32 *ver, const __u32 *out, size_t n, __u32 limit, const char *want)
{
	struct uptrkv_revision v[16];
	bool keep[16];
	char got[17] = {};

	make(v, ver, out, n);
	uptrkv_hist__mark_kept(v, n, limit, keep);
	for (size_t i = 0; i < n; i++)
		got[i] = keep[i] ? 'k' : '-';
	print_message("limit %u: %s\n", limit, got);
	assert_string_equal(got, want);
}

static void test_keep_successes(void **state)
{
	static const __u32 ver[] = { 1, 2, 3, 1, 4 }, out[] = { D, D, D, B, D };

	(void)state;
	check_kept(ver, out, 5, 10, "kkkkk");
	check_kept(ver, out, 5, 3, "--kkk");
	check_kept(ver, out, 5, 1, "----k");
}

static void test_failures_never_evict(void **state)
{
	/* Four failed attempts after v2: with a limit of 2, v1 and v2 stay. */
	static const __u32 ver[] = { 1, 2, 3, 3, 3, 3 }, out[] = { D, D, F, F, F, F };
	/* Failures older than the oldest kept success go, and at most `limit`
	 * stay: with a limit of 1 only v4 (revision 5) and the failure after. */
	static const __u32 ver2[] = { 1, 2, 2, 3, 4, 5 }, out2[] = { D, F, D, F, D, F };

	(void)state;
	check_kept(ver, out, 6, 2, "kk--kk");
	check_kept(ver, out, 6, 10, "kkkkkk");
	check_kept(ver2, out2, 6, 2, "--kkkk");
	check_kept(ver2, out2, 6, 3, "kkkkkk");
	check_kept(ver2, out2, 6, 1, "----kk");
	/* More failures than the limit: the newest `limit` of them. */
	check_kept(ver, out, 6, 1, "-k---k");
}

static void test_lookups(void **state)
{
	static const __u32 ver[] = { 1, 2, 3, 2, 4 }, out[] = { D, D, D, B, F };
	struct uptrkv_revision v[5];
	struct uptrkv_history h = { .v = v, .n = 5, .limit = 10, .present = true };
	const struct uptrkv_revision *r;

	(void)state;
	make(v, ver, out, 5);
	/* The failed v4 never ran: the rollback to v2 is what runs. */
	r = uptrkv_hist__live(&h, 2);
	assert_non_null(r);
	assert_int_equal(r->revision, 4);
	assert_true(r->live);
	/* A live version the newest success does not name: none marked. */
	v[3].live = 0;
	assert_null(uptrkv_hist__live(&h, 3));
	assert_false(v[3].live);
	/* The newest revision of a version that succeeded. */
	assert_int_equal(uptrkv_hist__find(&h, 2)->revision, 4);
	assert_int_equal(uptrkv_hist__find(&h, 1)->revision, 1);
	assert_null(uptrkv_hist__find(&h, 4));
	/* The previous version: the newest success of another version. */
	assert_int_equal(uptrkv_hist__previous(&h, 2)->revision, 3);
	assert_int_equal(uptrkv_hist__previous(&h, 3)->revision, 4);
	assert_string_equal(uptrkv_outcome__str(F), "failed");
	assert_string_equal(uptrkv_outcome__str(B), "rolled_back");
	assert_string_equal(uptrkv_outcome__str(0), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_successes),
		cmocka_unit_test(test_failures_never_evict),
		cmocka_unit_test(test_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
