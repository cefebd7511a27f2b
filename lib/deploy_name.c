// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A deployment's name and folder: the one piece of deployment code that
 * the app runtime (libuptrkv-app) shares with the rollout side.
 */
#include <stdio.h>
#include <string.h>
#include "deploy_internal.h"

bool uptrkv_deploy_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > UPTRKV_DEPLOY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int uptrkv_deploy_dir(char *buf, size_t sz, const char *bpffs, const char *name)
{
	int n = snprintf(buf, sz, "%s/%s/%s", bpffs, UPTRKV_DEPLOY_SUBDIR, name);

	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}
