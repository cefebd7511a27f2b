/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Hooks: one stable entry program and one two-slot prog array per hook. */
#ifndef __UPTRKV_HOOK_H
#define __UPTRKV_HOOK_H

#include "version.h"

#define UPTRKV_PIN_HOOKS	"hooks"

/* Creates hooks/<p->hook>/ (prog array "disp", pinned entry link "link")
 * unless it exists. The entry is attached with both slots empty, so until
 * a slot is filled the hook does nothing. */
int uptrkv_hook__ensure(struct uptrkv_deploy *d, const struct uptrkv_vprog *p,
			struct uptrkv_error *e);
/* Puts prog_fd in the hook's slot; prog_fd < 0 empties it. */
int uptrkv_hook__set(struct uptrkv_deploy *d, const char *hook, __u32 slot, int prog_fd,
		     struct uptrkv_error *e);
/* Every hook of the deployment; free with uptrkv_strv__free. */
int uptrkv_hook__list(struct uptrkv_deploy *d, char ***names, size_t *n, struct uptrkv_error *e);
/* Fills the version's slot in all its hooks and empties the slot in every
 * other hook of the deployment. */
int uptrkv_hook__fill_slot(struct uptrkv_deploy *d, const struct uptrkv_version *v,
			   struct uptrkv_error *e);

#endif
