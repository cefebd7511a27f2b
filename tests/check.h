/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The checks of the C test programs (tests/e2e/): one failed check
 * prints "FAIL file:line: condition: message" on stderr and is counted, and
 * the program ends with check_summary(), whose status tests/run.sh reads.
 * Thread-safe: workers check too. (The unit tests use cmocka's asserts.)
 */
#ifndef __UPTRKV_TEST_CHECK_H
#define __UPTRKV_TEST_CHECK_H

#include <stdio.h>

static int check_failures;

static inline void check_failed(void)
{
	__atomic_fetch_add(&check_failures, 1, __ATOMIC_RELAXED);
}

/* CHECK(cond, fmt, ...): counts a failure and goes on. */
#define CHECK(cond, fmt, ...) do {						\
	if (!(cond)) {								\
		fprintf(stderr, "FAIL %s:%d: %s: " fmt "\n", __FILE__, __LINE__,	\
			#cond, ##__VA_ARGS__);					\
		check_failed();							\
	}									\
} while (0)

/* CHECK_OR_RETURN(cond, ret, fmt, ...): counts a failure and returns ret
 * (a worker that cannot go on after it). */
#define CHECK_OR_RETURN(cond, ret, fmt, ...) do {				\
	if (!(cond)) {								\
		CHECK(cond, fmt, ##__VA_ARGS__);				\
		return ret;							\
	}									\
} while (0)

/* Prints "WHAT: PASS" or "WHAT: FAIL, N checks failed"; the exit status. */
static inline int check_summary(const char *what)
{
	int n = __atomic_load_n(&check_failures, __ATOMIC_RELAXED);

	if (n)
		fprintf(stderr, "%s: FAIL, %d check%s failed\n", what, n, n == 1 ? "" : "s");
	else
		printf("%s: PASS\n", what);
	return n ? 1 : 0;
}

#endif
