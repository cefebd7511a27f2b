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

#include "uptrkv_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "uptrkv_manifest.h"
#include "uptrkv_store.h"
#include "uptrkv_binding.h"
#include "uptrkv_deploy.h"

#ifdef __cplusplus
}
#endif
#endif /* __UPTRKV_H */
