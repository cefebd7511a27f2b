// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Opening or creating a deployment from bad input fails with the errno
 * that says why, whether or not the caller asked for the error's detail
 * (struct uptrkv_error *e may be NULL), and before any file is touched.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "deploy_internal.h"	/* uptrkv_deploy__create */
#include "uptrkv_tool.h"

/* A bpffs path so long that NAME's folder under it does not fit PATH_MAX. */
static const char *long_bpffs(void)
{
	static char p[PATH_MAX + 16];

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	return p;
}

static void open_fails(const char *bpffs, const char *name, int want)
{
	struct uptrkv_deploy *d = (void *)1;
	struct uptrkv_error e = {};

	assert_int_equal(uptrkv_deploy__open(bpffs, name, &d, NULL), want);
	assert_null(d);
	d = (void *)1;
	assert_int_equal(uptrkv_deploy__open(bpffs, name, &d, &e), want);
	assert_null(d);
	assert_int_equal(e.err, want);
	assert_true(e.msg[0] != '\0');
	d = (void *)1;
	assert_int_equal(uptrkv_deploy__create(bpffs, name, &d, NULL), want);
	assert_null(d);
}

static void test_bad_name(void **state)
{
	(void)state;
	open_fails("/nonexistent-bpffs", "Bad Name", -EINVAL);
	open_fails("/nonexistent-bpffs", "", -EINVAL);
	open_fails("/nonexistent-bpffs", NULL, -EINVAL);
	open_fails("/nonexistent-bpffs", "a-name-far-longer-than-thirty-two-characters", -EINVAL);
}

/* Was -EINVAL when e was NULL. */
static void test_path_too_long(void **state)
{
	(void)state;
	open_fails(long_bpffs(), "demo", -ENAMETOOLONG);
}

/* Rollout options from a newer header, with a field this library does not
 * know set: refused before the deployment is even looked for. */
static void test_newer_opts(void **state)
{
	struct {
		struct uptrkv_rollout_opts o;
		long newer;
	} big = { .o = { .sz = sizeof(big), .bpffs = "/nonexistent-bpffs" }, .newer = 1 };
	struct uptrkv_rollout_result res;
	struct uptrkv_error e = {};

	(void)state;
	assert_int_equal(uptrkv_rollback("demo", &big.o, &res, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "nothing was changed"));
	assert_int_equal(uptrkv_undeploy("demo", &big.o, NULL), -EINVAL);
	/* the same struct with the unknown field zero: on to the bpffs */
	big.newer = 0;
	assert_int_not_equal(uptrkv_rollback("demo", &big.o, &res, &e), -EINVAL);
	uptrkv_rollout_result__free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_newer_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
