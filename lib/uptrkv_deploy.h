/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Deployments in bpffs, rollout and rollback. Included through uptrkv.h.
 *
 * A deployment NAME lives in <bpffs>/uptrkv/NAME/:
 *   store           the task-storage map (uptrkv_task_store values)
 *   ctl             mmapable ARRAY, one struct uptrkv_ctl: gen, per-slot
 *                   layout hash and version, rollout journal
 *   state           ARRAY of 4 KiB blobs: the manifest recorded per slot
 *   sync            ARRAY_OF_MAPS; updating it waits for an RCU grace period
 *   maps/MAP        the object's other maps, shared by every version
 *   hook-N/...      per hook: dispatcher prog array, entry link
 *   slot-S/PROG     the programs of the version deployed in slot S
 * The active slot is UPTRKV_SLOT(ctl.gen).
 */
#ifndef __UPTRKV_DEPLOY_H
#define __UPTRKV_DEPLOY_H

#define UPTRKV_DEFAULT_BPFFS	"/sys/fs/bpf"
#define UPTRKV_DEPLOY_SUBDIR	"uptrkv"
#define UPTRKV_PIN_STORE	"store"
#define UPTRKV_PIN_CTL		"ctl"
#define UPTRKV_PIN_STATE	"state"

struct uptrkv_deploy;

/* Makes sure bpffs is mounted at bpffs (mounting it if not and allowed). */
int uptrkv_bpffs__prepare(const char *bpffs, bool mount_if_missing, bool *mounted,
			  struct uptrkv_error *e);

/* Names of every deployment under bpffs; free with uptrkv_strv__free. */
int uptrkv_deploy__list(const char *bpffs, char ***names, size_t *nr, struct uptrkv_error *e);
void uptrkv_strv__free(char **v, size_t n);

/* Opens a deployment for reading. -ENOENT: not deployed. */
int uptrkv_deploy__open(const char *bpffs, const char *name, struct uptrkv_deploy **out,
			struct uptrkv_error *e);
void uptrkv_deploy__close(struct uptrkv_deploy *d);
const char *uptrkv_deploy__name(const struct uptrkv_deploy *d);
int uptrkv_deploy__store_fd(const struct uptrkv_deploy *d);
__u32 uptrkv_deploy__gen(const struct uptrkv_deploy *d);
/* The manifest recorded in a slot; slot -1 means the active one.
 * -ENOENT if the slot holds none. */
int uptrkv_deploy__manifest(struct uptrkv_deploy *d, int slot, struct uptrkv_manifest **out,
			    struct uptrkv_error *e);

#endif
