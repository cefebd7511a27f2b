/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Deployment internals shared by deploy.c, rollout.c and status. */
#ifndef __UPTRKV_DEPLOY_INTERNAL_H
#define __UPTRKV_DEPLOY_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include "internal.h"

/* state map: per slot, one record page then the manifest text. */
#define UPTRKV_STATE_PAGE	4096u
#define UPTRKV_STATE_SLOT_PAGES	64u	/* 256 KiB per slot: record + text */
#define UPTRKV_STATE_MAGIC	0x54534b55u	/* "UKST" */
#define UPTRKV_STATE_FORMAT	1u
#define UPTRKV_MANIFEST_MAX	((UPTRKV_STATE_SLOT_PAGES - 1) * UPTRKV_STATE_PAGE)


/* A program of a deployed version and the hook it is dispatched from. */
struct uptrkv_state_prog {
	char name[UPTRKV_NAME_MAX];
	char hook[UPTRKV_HOOK_NAME_MAX];
};

struct uptrkv_state_rec {
	__u32 magic;
	__u32 format;			/* refused when newer than ours */
	__u32 version;
	__u32 layout_hash;
	__u32 text_len;
	__u32 nr_progs;
	__u64 deployed_at;		/* CLOCK_REALTIME seconds */
	char base_dir[1024];		/* the manifest's folder, for object: */
	struct uptrkv_state_prog progs[UPTRKV_MAX_PROGS];
	/* The object rolled out (lib/binding_state.c); zero in a record
	 * written before objects were bound. */
	__u8 object_sha256[UPTRKV_LAYOUT_SHA_LEN];
	__u8 layout_sha256[UPTRKV_LAYOUT_SHA_LEN];	/* its record; zero: none */
};

struct uptrkv_deploy {
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	char dir[PATH_MAX];
	int dir_fd;			/* also the lock: flock on the folder */
	int store_fd;
	int ctl_fd;
	int state_fd;
	int sync_fd;
	volatile struct uptrkv_ctl *ctl;	/* mmap of the ctl element */
	bool locked;
};

int uptrkv_deploy_dir(char *buf, size_t sz, const char *bpffs, const char *name);
bool uptrkv_deploy_name_ok(const char *name);

/* Creates the folder, ctl, state and sync maps of a new deployment (no
 * store: that comes from the object). Leaves d open and locked. */
int uptrkv_deploy__create(const char *bpffs, const char *name, struct uptrkv_deploy **out,
			  struct uptrkv_error *e);
/* Removes <bpffs>/uptrkv if it is empty: the last deployment is gone, or a
 * first deploy that created it failed. 0 if gone or still in use. */
int uptrkv_deploy__remove_root(const char *bpffs);
/* Removes a deployment folder that a killed first deploy left without its
 * ctl pin. 0: gone; -EEXIST: a real deployment; -EBUSY: being created. */
int uptrkv_deploy__remove_leftover(const char *dir, struct uptrkv_error *e);
/* Removes every pin and folder of the deployment (best effort, goes on
 * after errors, returns the first). */
int uptrkv_deploy__remove_dir(const char *dir, struct uptrkv_error *e);

/* flock(LOCK_EX) on the folder, waiting up to timeout_ms. -EBUSY on timeout. */
int uptrkv_deploy__lock(struct uptrkv_deploy *d, int timeout_ms, struct uptrkv_error *e);
/* As uptrkv_deploy__lock, calling opts' lock_wait before it starts to wait. */
int uptrkv_deploy__lock_opts(struct uptrkv_deploy *d, const struct uptrkv_rollout_opts *opts,
			     struct uptrkv_error *e);
void uptrkv_deploy__unlock(struct uptrkv_deploy *d);

int uptrkv_deploy__record(struct uptrkv_deploy *d, __u32 slot, const struct uptrkv_manifest *m,
			  const struct uptrkv_state_prog *progs, size_t nr_progs,
			  struct uptrkv_error *e);
int uptrkv_deploy__read_rec(struct uptrkv_deploy *d, __u32 slot, struct uptrkv_state_rec *rec,
			    struct uptrkv_error *e);
int uptrkv_deploy__clear_slot(struct uptrkv_deploy *d, __u32 slot, struct uptrkv_error *e);
/* Waits until every BPF program run that started before the call ended. */
int uptrkv_deploy__sync_rcu(struct uptrkv_deploy *d, struct uptrkv_error *e);

/*
 * The same wait, on a thread of its own: a grace period takes 4-30 ms here
 * whatever else runs, so a caller with other work to do (loading and
 * verifying an object) starts it, does that work, and joins it. The join
 * covers every program run that started before the start.
 */
struct uptrkv_rcu_wait {
	struct uptrkv_deploy *d;
	pthread_t th;
	bool running;			/* the thread was started, not yet joined */
	int err;
	struct uptrkv_error e;
};

void uptrkv_deploy__sync_rcu_start(struct uptrkv_deploy *d, struct uptrkv_rcu_wait *w);
/* 0 once the grace period has passed (waited for here if no thread could be
 * started), or the wait's error. Joining an unstarted w is an error. */
int uptrkv_deploy__sync_rcu_join(struct uptrkv_rcu_wait *w, struct uptrkv_error *e);

/* Writes m's key types as slot's row of the table, creating its pin. */
int uptrkv_deploy__pinned_array(struct uptrkv_deploy *d, const char *pin, const char *map_name,
				__u32 value_size, __u32 entries, struct uptrkv_error *e);
int uptrkv_deploy__write_types(struct uptrkv_deploy *d, __u32 slot, const struct uptrkv_manifest *m,
			       struct uptrkv_error *e);

int uptrkv_pin_path(char *buf, size_t sz, const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
