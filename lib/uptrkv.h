/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libuptrkv public API.
 *
 * Conventions (libbpf style):
 *  - object__verb names; options structs start with `size_t sz` and are
 *    declared with UPTRKV_OPTS();
 *  - every function that can fail returns 0 or a negative errno and, when
 *    given a struct uptrkv_error, fills it with "what failed: why";
 *  - the library never prints and never exits; it has no global state.
 */
#ifndef __UPTRKV_H
#define __UPTRKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../bpf/uptrkv_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UPTRKV_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };\
	})

/* Reads opts->FIELD only if the caller's struct is big enough to have it. */
#define UPTRKV_OPTS_GET(opts, field, fallback)				\
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +	\
	 sizeof((opts)->field) ? (opts)->field : (fallback))

#define UPTRKV_ERRMSG_MAX 512

struct uptrkv_error {
	int err;				/* negative errno, 0 if none */
	char msg[UPTRKV_ERRMSG_MAX];		/* "what failed: why" */
};

#include "uptrkv_manifest.h"
#include "uptrkv_store.h"
#include "uptrkv_admin.h"
#include "uptrkv_binding.h"
#include "uptrkv_deploy.h"

#ifdef __cplusplus
}
#endif
#endif /* __UPTRKV_H */
