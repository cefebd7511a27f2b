/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The binding as recorded in a deployment's state (lib/binding_state.c). */
#ifndef __UPTRKV_BINDING_STATE_H
#define __UPTRKV_BINDING_STATE_H

#include "deploy_internal.h"

/* SHA-256 of a file's bytes (lib/binding.c). */
int uptrkv_object__sha256(const char *path, __u8 out[UPTRKV_LAYOUT_SHA_LEN],
			  struct uptrkv_error *e);

/* Adds b's object and layout hashes to the record of slot, which
 * uptrkv_deploy__record wrote just before. */
int uptrkv_binding__record(struct uptrkv_deploy *d, __u32 slot, const struct uptrkv_binding *b,
			   struct uptrkv_error *e);

/*
 * Rollback's check of the version recorded in slot, whose manifest is m:
 * its recorded layout record must be m's layout (-EINVAL with b->mismatch
 * otherwise), and a version recorded without one needs allow_unbound.
 * Sets b->object_changed when m's object file is no longer the one rolled
 * out; that is not an error, as rollback reuses the pinned programs.
 */
int uptrkv_binding__check_recorded(struct uptrkv_deploy *d, __u32 slot,
				   const struct uptrkv_manifest *m, bool allow_unbound,
				   struct uptrkv_binding *b, struct uptrkv_error *e);

#endif
