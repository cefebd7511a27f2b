/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by the cmocka unit tests. Include after <cmocka.h>. */
#ifndef __UPTRKV_TEST_HELPERS_H
#define __UPTRKV_TEST_HELPERS_H

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "uptrkv_tool.h"

/*
 * The source tree, found as the folder holding `probe` (a path relative to
 * the top): the current folder (make test runs from the top) or a parent
 * of the test binary's folder. Fills top (PATH_MAX bytes); 0 or -1.
 */
static inline int ut_find_top(const char *probe, char *top)
{
	char exe[PATH_MAX], path[PATH_MAX + 256], *slash;
	ssize_t n;

	if (!access(probe, R_OK)) {
		snprintf(top, PATH_MAX, ".");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = '\0';
	while ((slash = strrchr(exe, '/'))) {
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/%s", exe, probe);
		if (!access(path, R_OK)) {
			snprintf(top, PATH_MAX, "%s", exe);
			return 0;
		}
	}
	return -1;
}

/* Manifest "t" of version v whose keys are the flow mappings in keys. */
static inline struct uptrkv_manifest *ut_manifest(int v, const char *keys)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	char text[8192];

	snprintf(text, sizeof(text),
		 "apiVersion: uptrkv/v1\nname: t\nversion: %d\nobject: t.o\nkeys: [%s]\n", v, keys);
	if (uptrkv_manifest__parse(text, strlen(text), NULL, &m, &d))
		fail_msg("%s: %s", keys, d.n ? d.v[0].msg : "parse failed");
	uptrkv_diags__free(&d);
	return m;
}

static inline struct uptrkv_plan *ut_plan(const struct uptrkv_manifest *a,
					  const struct uptrkv_manifest *b)
{
	struct uptrkv_error e = {};
	struct uptrkv_plan *p = NULL;

	if (uptrkv_plan__new(a, b, &p, &e))
		fail_msg("plan: %s", e.msg);
	return p;
}

#endif
