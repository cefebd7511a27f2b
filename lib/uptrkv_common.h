/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every libuptrkv header needs: the layout, options structs and
 * struct uptrkv_error (libbpf_common.h plays this part for libbpf). Each
 * public header includes it, so each one compiles on its own.
 */
#ifndef __UPTRKV_COMMON_H
#define __UPTRKV_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>	/* UPTRKV_OPTS */
#include <linux/types.h>

#include "uptrkv_layout.h"

#define UPTRKV_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };\
	})

#define UPTRKV_ERRMSG_MAX 512

struct uptrkv_error {
	int err;				/* negative errno, 0 if none */
	char msg[UPTRKV_ERRMSG_MAX];		/* "what failed: why" */
};

#endif
