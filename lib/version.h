/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One version's BPF programs: loaded from its object, or reopened from pins. */
#ifndef __UPTRKV_VERSION_H
#define __UPTRKV_VERSION_H

#include <bpf/libbpf.h>
#include "deploy_internal.h"
#include "globals.h"
#include "hook.h"

struct uptrkv_vprog {
	char name[UPTRKV_NAME_MAX];
	char hook[UPTRKV_HOOK_NAME_MAX];	/* folder name under the deployment */
	struct uptrkv_hook_spec spec;
	int fd;			/* owned when reopened from pins */
	bool owned_fd;
};

struct uptrkv_version {
	__u32 slot;
	__u32 version;
	struct bpf_object *obj;	/* NULL when reopened from pins */
	struct uptrkv_vprog progs[UPTRKV_MAX_PROGS];
	size_t nr_progs;
	int store_fd;		/* the object's store map (owned by obj) */
	const struct uptrkv_plan *plan;	/* while loading: maps not to reuse */
};

/* What a rollout's plan says about the object's maps (NULL: reuse every
 * shared map that is pinned, create every .bss/.data afresh). */
struct uptrkv_load_carry {
	int gsec_fd[UPTRKV_NR_GSECS];	/* reuse this map for .bss/.data; -1: new */
	const struct uptrkv_plan *plan;	/* maps reset or copied are not reused */
};

/*
 * Opens and loads m->object for slot, reusing the deployment's live maps
 * (store and shared maps) when d is not NULL. Nothing is pinned or changed:
 * this is the preflight. The kernel verifies every program here.
 */
int uptrkv_version__load(const struct uptrkv_manifest *m, struct uptrkv_deploy *d, __u32 slot,
			 struct uptrkv_version **out, struct uptrkv_error *e);
/* The same, from the object's bytes in memory (len bytes at buf), which
 * must stay valid until the version is freed: a rollout loads exactly the
 * bytes it keeps in the history, and a rollback loads the history's copy. */
int uptrkv_version__load_mem(const struct uptrkv_manifest *m, const void *buf, size_t len,
			     struct uptrkv_deploy *d, __u32 slot,
			     const struct uptrkv_load_carry *carry, struct uptrkv_version **out,
			     struct uptrkv_error *e);
/* Sets m's config: values in the object's .rodata; an error names the
 * manifest line and column of the value. */
int uptrkv_version__set_config(struct bpf_object *obj, const struct uptrkv_manifest *m,
			       struct uptrkv_error *e);
/* Reopens the programs pinned for slot (for rollback). */
int uptrkv_version__open_pinned(struct uptrkv_deploy *d, __u32 slot, struct uptrkv_version **out,
				struct uptrkv_error *e);
/* Pins the programs at slot-S/ (replacing that folder) and any new shared
 * map at maps/; pins the store map if the deployment has none yet. A map
 * the plan resets or copies is not pinned here (uptrkv_version__repin). */
int uptrkv_version__pin(struct uptrkv_version *v, struct uptrkv_deploy *d, struct uptrkv_error *e);
/* Replaces maps/NAME with the version's own map NAME (after the switch). */
int uptrkv_version__repin(struct uptrkv_version *v, struct uptrkv_deploy *d, const char *name,
			  struct uptrkv_error *e);
void uptrkv_version__free(struct uptrkv_version *v);
void uptrkv_version__state(const struct uptrkv_version *v, struct uptrkv_state_prog *out);

#endif
