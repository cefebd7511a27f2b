/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Deployments in bpffs, rollout and rollback. Included through uptrkv.h.
 *
 * A deployment NAME lives in <bpffs>/uptrkv/NAME/, and the UPTRKV_PIN_*
 * names below are the only place its pins are named:
 *   store           the task-storage map (uptrkv_task_store values)
 *   ctl             mmapable ARRAY, one struct uptrkv_ctl: gen, per-slot
 *                   layout hash and version, rollout journal
 *   state           ARRAY of 4 KiB blobs: the manifest recorded per slot
 *   sync            ARRAY_OF_MAPS; updating it waits for an RCU grace period
 *   types, keys     mmapable ARRAYs: per slot, each key's type, and the key
 *                   record app threads register with (lib/keyrec.h)
 *   maps/MAP        the object's other maps, shared by every version
 *   hooks/HOOK/disp the hook's two-slot prog array (lib/hook.c)
 *   hooks/HOOK/link the hook's entry program's link
 *   slot-S/PROG     the programs of the version deployed in slot S
 *   carry           the globals' snapshot, kept until the catch-up (lib/carry.c)
 *   history         HASH: one record per revision kept (lib/history.c)
 *   blobs           HASH: manifest texts and objects, content-addressed
 *   admin-HASH/     the admin programs of one uptrkv build, reused (lib/admin.c)
 * The active slot is UPTRKV_SLOT(ctl.gen).
 */
#ifndef __UPTRKV_DEPLOY_H
#define __UPTRKV_DEPLOY_H

#include "uptrkv_common.h"
#include "uptrkv_manifest.h"
#include "uptrkv_store.h"
#include "uptrkv_binding.h"

#define UPTRKV_DEFAULT_BPFFS	"/sys/fs/bpf"
#define UPTRKV_DEPLOY_SUBDIR	"uptrkv"
/* The default wait for another command's lock, in seconds (--timeout). */
#define UPTRKV_LOCK_TIMEOUT_S	10
#define UPTRKV_LOCK_TIMEOUT_MS	(UPTRKV_LOCK_TIMEOUT_S * 1000)

#define UPTRKV_PIN_STORE	"store"
#define UPTRKV_PIN_CTL		"ctl"
#define UPTRKV_PIN_STATE	"state"
/* Per slot, each key's type (uptrkv_type + 1; 0: no such key), for apps
 * built for another layout (docs/store.md). Written at every rollout. */
#define UPTRKV_PIN_TYPES	"types"
#define UPTRKV_PIN_SYNC		"sync"
#define UPTRKV_PIN_MAPS		"maps"
#define UPTRKV_PIN_HOOKS	"hooks"
#define UPTRKV_PIN_HOOK_DISP	"disp"
#define UPTRKV_PIN_HOOK_LINK	"link"
#define UPTRKV_PIN_SLOT_FMT	"slot-%u"
#define UPTRKV_PIN_CARRY	"carry"
#define UPTRKV_PIN_HISTORY	"history"
#define UPTRKV_PIN_BLOBS	"blobs"
/* The key record app threads register with (lib/keyrec.h). */
#define UPTRKV_PIN_KEYS		"keys"
/* The admin programs of one uptrkv build: admin-HASH/ (lib/admin.c). */
#define UPTRKV_PIN_ADMIN_PREFIX	"admin-"

#define UPTRKV_MAX_PROGS	16	/* programs per deployment */
#define UPTRKV_HOOK_NAME_MAX	96	/* a hook's folder name, with its NUL */

struct uptrkv_deploy;


/* Names of every deployment under bpffs; free with uptrkv_strv__free. */
int uptrkv_deploy__list(const char *bpffs, char ***names, size_t *nr, struct uptrkv_error *e);
void uptrkv_strv__free(char **v, size_t n);


/* ------------------------------------------------------------------ */
/* Rollout, rollback, undeploy (lib/rollout.c)                          */
/* ------------------------------------------------------------------ */

/* Named points a test can stop the rollout at (opts->test_hook). */
#define UPTRKV_TP_PREFLIGHT	"preflight"	/* verified, nothing changed yet */
#define UPTRKV_TP_MIGRATE	"migrate"	/* half of the stores migrated */
#define UPTRKV_TP_SWITCH	"switch"	/* all migrated, just before the flip */
#define UPTRKV_TP_SWITCHED	"switched"	/* just after the flip */
#define UPTRKV_TP_MOVE		"move"		/* half of the stores' resized values moved */
#define UPTRKV_TP_RECLAIM	"reclaim"	/* old slot partly reclaimed */

struct uptrkv_rollout_opts {
	size_t sz;
	const char *bpffs;		/* default UPTRKV_DEFAULT_BPFFS */
	bool dry_run;			/* preflight only, change nothing */
	int lock_timeout_ms;		/* wait for another command; 0: UPTRKV_LOCK_TIMEOUT_MS, < 0: no wait */
	/* Set (e.g. by a SIGINT handler) to stop: before the switch the
	 * rollout is undone, after it the rollout is finished. */
	volatile const int *cancel;
	/* Progress: step name, items done and total (total 0: no count). */
	void (*progress)(void *ctx, const char *step, size_t done, size_t total);
	void *progress_ctx;
	/* Called at each UPTRKV_TP_* point, for tests: it may kill the
	 * process, or return a negative errno to make that step fail. */
	int (*test_hook)(void *ctx, const char *point);
	void *test_hook_ctx;
	/* Let an object without a layout record through (docs/design.md);
	 * result.binding.unbound then says so. */
	bool allow_unbound_object;
	/* Recorded in the history as the revision's command line. The
	 * library does not read /proc itself: the caller knows what it ran. */
	const char *command;
	/* Revisions to keep (1..UPTRKV_HISTORY_MAX); 0 keeps the
	 * deployment's current limit (UPTRKV_HISTORY_DEFAULT at first). */
	__u32 history_limit;
	/* rollback: the version to return to; 0 means the previous one. */
	__u32 to_version;
	/* Leave out the stores that cannot be migrated (a corrupt meta, a
	 * foreign header, a seqcount that stays odd) instead of refusing the
	 * whole rollout; result.skipped names them. They keep the old layout:
	 * the new version's programs see no store for them and their
	 * application calls return -ESTALE, until the thread registers again. */
	bool skip_corrupt;
	/* Called once when another command holds the deployment's lock and
	 * this one starts to wait for it (lock_timeout_ms < 0: no wait, no
	 * call). dir is the locked folder, so the caller can say who holds
	 * it; the library itself stays silent. */
	void (*lock_wait)(void *ctx, const char *name, const char *dir);
	void *lock_wait_ctx;
};

#define UPTRKV_SKIPPED_MAX	16	/* stores named in a result; all are counted */

struct uptrkv_skipped_store {
	__u32 pid, tid;
	char why[200];
};

struct uptrkv_rollout_result {
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	__u32 from_version;		/* 0: first deploy */
	__u32 to_version;
	__u32 gen;			/* generation now live */
	bool first_deploy;
	bool nothing_to_do;		/* already deployed: idempotent success */
	bool dry_run;
	bool recovered;			/* finished or undid a crashed rollout first */
	bool rolled_back;		/* failed after the switch and was undone */
	size_t nr_stores;		/* live stores found */
	size_t nr_migrated;
	size_t nr_gone;			/* threads that exited during the rollout */
	size_t nr_skipped;		/* stores left out by skip_corrupt */
	struct uptrkv_skipped_store skipped[UPTRKV_SKIPPED_MAX];	/* the first ones */
	size_t nr_moved;		/* resized values whose move after the switch
					 * uptrkv made or found made (docs/design.md) */
	size_t nr_move_pending;		/* stores whose moves stayed busy: their old
					 * slot is kept until a later command ends them */
	/* On failure: the version, two back, whose slot this run had already
	 * overwritten, so that it can no longer be rolled back to (0: none). */
	__u32 lost_version;
	struct uptrkv_plan *plan;	/* owned; NULL when nothing to do */
	struct uptrkv_manifest *old_manifest;	/* owned; the plan points into it */
	struct uptrkv_manifest *prev_manifest;	/* owned; rollback's target */
	/* The object's layout record, checked before anything is loaded
	 * (rollback: the one recorded for the target). On a refusal,
	 * binding.mismatch is set. */
	struct uptrkv_binding binding;
	double ms_preflight, ms_migrate, ms_switch, ms_reclaim, ms_total;
	__u64 revision;			/* recorded in the history; 0 if none */
	bool from_history;		/* rollback: loaded from the history's copy */
	bool lost_version_kept;		/* lost_version is still kept in the history */
	/* Recording the run in the history failed (the run itself is as the
	 * return value says): negative errno and why. */
	int history_err;
	char history_msg[UPTRKV_ERRMSG_MAX];
	/* Globals and shared maps carried over (docs/design.md, "Globals and
	 * shared maps"): variables copied before the switch, variables the old
	 * version changed after the copy that were brought up to date, map
	 * entries copied. carry_err/carry_msg: a failure after the switch,
	 * which does not undo it. */
	size_t nr_globals_copied, nr_globals_caught_up, nr_map_entries_copied;
	int carry_err;
	char carry_msg[UPTRKV_ERRMSG_MAX];
};

/* Deploys or upgrades to m. 0 on success; negative errno with e filled when
 * refused or failed, in which case the old version still runs unchanged. */
int uptrkv_rollout(const struct uptrkv_manifest *m, const struct uptrkv_rollout_opts *opts,
		   struct uptrkv_rollout_result *res, struct uptrkv_error *e);
/* Returns deployment name to opts->to_version, or to the previous version:
 * the one in its other slot (programs still pinned and verified) or else
 * one kept in the history (loaded from the history's own copy). */
int uptrkv_rollback(const char *name, const struct uptrkv_rollout_opts *opts,
		    struct uptrkv_rollout_result *res, struct uptrkv_error *e);
/* Detaches every program and removes the deployment's pins. */
int uptrkv_undeploy(const char *name, const struct uptrkv_rollout_opts *opts,
		    struct uptrkv_error *e);
void uptrkv_rollout_result__free(struct uptrkv_rollout_result *res);

/* ------------------------------------------------------------------ */
/* History (lib/history.c)                                              */
/* ------------------------------------------------------------------ */

#define UPTRKV_HISTORY_DEFAULT	10	/* revisions kept */
#define UPTRKV_HISTORY_MAX	100

enum uptrkv_outcome {
	UPTRKV_OUTCOME_DEPLOYED = 1,	/* a rollout (or first deploy) that succeeded */
	UPTRKV_OUTCOME_ROLLED_BACK,	/* a rollback that succeeded */
	UPTRKV_OUTCOME_FAILED,		/* refused or failed; reason says why */
};

/* One revision: what a rollout or rollback did, with its inputs. Fixed-size
 * fields only: it is also the record pinned in the history map. */
struct uptrkv_revision {
	__u64 revision;			/* 1, 2, ... per deployment, never reused */
	__u64 when;			/* seconds since the epoch */
	/* When this version was deployed: `when` for a rollout; for a
	 * rollback, carried over from that version's rollout (0: unknown). */
	__u64 deployed_at;
	__u32 version;			/* the version rolled out or back to */
	__u32 from_version;		/* live before; 0: first deploy */
	__u64 layout_hash;
	__u32 outcome;			/* enum uptrkv_outcome */
	__u32 uid;
	__u64 object_size, manifest_size;
	__u8 object_sha256[32], manifest_sha256[32];
	__u8 has_object;		/* a copy of the object is kept (blobs) */
	__u8 has_manifest;		/* a copy of the manifest text is kept */
	__u8 live;			/* computed when read: this revision runs now */
	__u8 pad[5];
	__u64 us_preflight, us_migrate, us_switch, us_reclaim, us_total;
	char user[32];
	char host[64];
	char command[1024];
	char reason[512];		/* failed: the error */
	char manifest_path[1024];	/* as resolved at the time */
	char object_path[1024];
};

struct uptrkv_history {
	struct uptrkv_revision *v;	/* oldest first */
	size_t n;
	__u32 limit;			/* revisions the deployment keeps */
	bool present;			/* false: deployed before history existed */
};

/* The revisions kept for deployment name. -ENOENT if not deployed. */
int uptrkv_deploy__history(const char *bpffs, const char *name, struct uptrkv_history *h,
			   struct uptrkv_error *e);
void uptrkv_history__free(struct uptrkv_history *h);

/* ------------------------------------------------------------------ */
/* Status (lib/status.c)                                                */
/* ------------------------------------------------------------------ */

struct uptrkv_status_slot {
	bool present;			/* a version is recorded in this slot */
	__u32 version;
	__u32 layout_hash;
	__u64 deployed_at;		/* seconds since the epoch */
	char object[1024];		/* the object, as resolved at deploy time */
	size_t nr_progs;
	struct {
		char name[UPTRKV_NAME_MAX];
		char hook[UPTRKV_HOOK_NAME_MAX];
		__u32 prog_id;		/* in the hook's prog array, 0 if not */
	} progs[UPTRKV_MAX_PROGS];
};

struct uptrkv_status_hook {
	char name[UPTRKV_HOOK_NAME_MAX];	/* folder name, from the SEC() */
	__u32 link_id;
	__u32 link_type;		/* enum bpf_link_type */
	__u32 entry_prog_id;
	__u32 slot_prog_id[UPTRKV_NR_SLOTS];
};

struct uptrkv_status {
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	__u32 gen;
	__u32 active;			/* UPTRKV_SLOT(gen) */
	__u32 step;			/* journal: UPTRKV_STEP_IDLE when at rest */
	struct uptrkv_status_slot slot[UPTRKV_NR_SLOTS];
	struct uptrkv_status_hook *hooks;
	size_t nr_hooks;
	size_t nr_stores;		/* live registered threads */
	size_t nr_processes;
	__u64 bytes_used;		/* data bytes in use, all stores */
	__u64 bytes_registered;		/* header, metas and data pages pinned */
	/* From the history: when the live version was deployed and, if it
	 * runs because of a rollback, when it was rolled back to (0: not).
	 * Without history, deployed_at is the live slot's record time. */
	__u64 deployed_at;
	__u64 rolled_back_at;
};

/* Fills st for deployment name; free with uptrkv_status__free. */
int uptrkv_deploy__status(const char *bpffs, const char *name, struct uptrkv_status *st,
			  struct uptrkv_error *e);
void uptrkv_status__free(struct uptrkv_status *st);

/* ------------------------------------------------------------------ */
/* Applications of a deployment (lib/app.c)                             */
/* ------------------------------------------------------------------ */

struct uptrkv_app;

/* Opens deployment name's store for this process. */
int uptrkv_app__open(const char *bpffs, const char *name, struct uptrkv_app **out,
		     struct uptrkv_error *e);
void uptrkv_app__close(struct uptrkv_app *a);
struct uptrkv_store *uptrkv_app__store(struct uptrkv_app *a);

struct uptrkv_app_thread_opts {
	size_t sz;
	/* Data bytes to register. Default: twice what the live layout needs,
	 * so that the next rollout has room to build its layout beside it. */
	__u32 reserve_bytes;
};

/*
 * Registers the calling thread with every key of the live layout at its
 * default. A rollout running meanwhile is waited for; a rollout that
 * switched between reading the layout and registering is retried, so the
 * thread always gets the layout that is live when it returns.
 */
int uptrkv_app__register(struct uptrkv_app *a, const struct uptrkv_app_thread_opts *opts,
			 struct uptrkv_thread **out, struct uptrkv_error *e);

#endif
