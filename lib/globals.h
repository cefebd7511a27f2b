/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Globals and shared maps of a live version (lib/globals.c, lib/carry.c). */
#ifndef __UPTRKV_GLOBALS_H
#define __UPTRKV_GLOBALS_H

#include <bpf/btf.h>
#include "deploy_internal.h"

/* UPTRKV_GSEC_* of a DATASEC name (".bss", ".data"), or -1. */
int uptrkv_gsec__of(const char *name);
/* Appends the variables of DATASEC sec_id (section sec) to out. */
int uptrkv_globals__add_datasec(const struct btf *btf, __u32 sec_id, __u32 sec,
				struct uptrkv_objstate *out, struct uptrkv_error *e);

/* The .bss and .data maps a loaded version's programs use, found through
 * the programs (bpf_prog_info's map ids), and their variables from the
 * maps' kernel BTF. fd -1: the version has no such section. */
struct uptrkv_gmaps {
	int fd[UPTRKV_NR_GSECS];
	__u32 id[UPTRKV_NR_GSECS];
	__u32 size[UPTRKV_NR_GSECS];
	bool mmapable[UPTRKV_NR_GSECS];
	struct uptrkv_objstate st;	/* globals only */
};

int uptrkv_gmaps__from_progs(const int *prog_fds, size_t n, struct uptrkv_gmaps *out,
			     struct uptrkv_error *e);
void uptrkv_gmaps__close(struct uptrkv_gmaps *g);

/* The deployment's shared maps, as pinned under maps/ (into st->maps). */
int uptrkv_deploy__shared_maps(struct uptrkv_deploy *d, struct uptrkv_objstate *st,
			       struct uptrkv_error *e);

/* After a switch to pinned programs (a rollback to the other slot): each
 * shared map those programs use, if it is not the pinned one (a later
 * version reset or copied it), is pinned again in its place. */
int uptrkv_deploy__repin_used_maps(struct uptrkv_deploy *d, const int *prog_fds, size_t n,
				   struct uptrkv_error *e);

/*
 * Carrying globals over a switch from `from` to `to` (docs/design.md):
 * copy() before the switch, catch_up() after it and a grace period adds
 * what the old version did in between. snap keeps the old sections as
 * copied; free it with uptrkv_gcarry__free.
 */
struct uptrkv_gcarry {
	void *snap[UPTRKV_NR_GSECS];
	size_t nr_copied, nr_caught_up;
};

int uptrkv_globals__copy(const struct uptrkv_plan *p, const struct uptrkv_gmaps *from,
			 const struct uptrkv_gmaps *to, struct uptrkv_gcarry *c,
			 struct uptrkv_error *e);
int uptrkv_globals__catch_up(const struct uptrkv_plan *p, const struct uptrkv_gmaps *from,
			     const struct uptrkv_gmaps *to, struct uptrkv_gcarry *c,
			     struct uptrkv_error *e);
void uptrkv_gcarry__free(struct uptrkv_gcarry *c);
/*
 * The snapshot outlives a killed uptrkv: saved (pin "carry") before the
 * switch to target_gen, dropped after the catch-up or an undo, loaded by
 * the next command's recovery to do the catch-up the killed run did not.
 */
int uptrkv_gcarry__save(struct uptrkv_deploy *d, const struct uptrkv_gcarry *c,
			const struct uptrkv_gmaps *from, __u32 target_gen, struct uptrkv_error *e);
/* 0 and *found false if there is none for target_gen. */
int uptrkv_gcarry__load(struct uptrkv_deploy *d, __u32 target_gen, struct uptrkv_gcarry *c,
			bool *found, struct uptrkv_error *e);
void uptrkv_gcarry__drop(struct uptrkv_deploy *d);

/* maps: {NAME: copy}: entries of from_fd into to_fd, values zero-extended.
 * pass 1 before the switch keeps what it copied in *snap; pass 2 after the
 * grace period copies what changed since and deletes what went. */
struct uptrkv_mcopy {
	int from_fd, to_fd;
	__u32 key_size, old_size, new_size;
	__u8 *keys, *vals;		/* pass 1's entries */
	size_t n;
};

int uptrkv_mcopy__pass1(struct uptrkv_mcopy *c, struct uptrkv_error *e);
int uptrkv_mcopy__pass2(struct uptrkv_mcopy *c, struct uptrkv_error *e);
void uptrkv_mcopy__free(struct uptrkv_mcopy *c);

#endif
