// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The rollout state machine (docs/design.md has the full argument):
 *
 *   preflight   load and verify the new object against the live maps,
 *               snapshot every live store and plan its migration in
 *               memory. Nothing visible has changed; any failure ends here.
 *   MIGRATING   journal it; pin the new programs; fill the idle slot of
 *               every hook; build the new meta slot of every store beside
 *               the live one. The old version still runs, on the old slot.
 *   SWITCHED    one store to ctl.gen flips every hook and every store's
 *               meta at once; then wait an RCU grace period, so no old
 *               program is still running, move every resized value that
 *               the new version has not already moved on first use, and
 *               retire the old slot in every store.
 *   IDLE        done.
 *
 * Everything before the flip is undone on failure (the idle slot is simply
 * dropped). A failure after the flip and before reclaim flips back. The
 * journal in ctl lets a re-run finish or undo what a killed run left.
 *
 * Every run that got the lock is then recorded in the history (history.c),
 * with the exact bytes of the object it loaded, so that a rollback can
 * return to any kept version without the file.
 */
#include <bpf/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "binding_state.h"
#include "globals.h"
#include "history.h"
#include "keyrec.h"
#include "hook.h"
#include "migrate.h"
#include "version.h"

#define SNAPSHOT_TRIES 8
#define MOVE_TRIES 8		/* runs of a store's moves while a seqcount stays busy */

/*
 * One store's part of the migration: its thread, and the writes and moves
 * of the build it shares with every store laid out as it is (struct
 * uptrkv_mig_cache, which owns them).
 */
struct store_mig {
	__u32 tid;
	const struct uptrkv_write *w;
	size_t nr_w;
	const __u32 *moves;
	size_t nr_moves;
};

struct rollout {
	const struct uptrkv_rollout_opts *opts;
	struct uptrkv_rollout_result *res;
	struct uptrkv_error *e;
	struct uptrkv_deploy *d;
	struct uptrkv_admin *admin;
	struct uptrkv_version *v;
	struct uptrkv_plan *plan;	/* res->plan */
	__u32 gen, from, to;
	struct store_mig *migs;
	size_t nr_migs;
	struct uptrkv_mig_cache *builds;	/* what migs[] point into */
	struct uptrkv_snapshot *snap;	/* scratch, 45 KiB; data[] unused */
	/* Stores whose old slot reclaim must leave alone: their moves stayed
	 * busy, or --skip-corrupt left them out. */
	__u32 *keep_old;
	size_t nr_keep_old, cap_keep_old;
	bool recorded;			/* slot `to` holds the new record */
	bool attempt;			/* got the lock: the outcome goes in the history */
	void *obj;			/* the object's bytes, as loaded and as kept */
	size_t obj_len;
	__u8 obj_sha[32];		/* their SHA-256, once known (obj_sha_set) */
	bool obj_sha_set;
	double t0;			/* when the run began */
	/* Globals and shared maps (lib/globals.c, lib/carry.c). */
	struct uptrkv_gmaps gfrom, gto;	/* .bss/.data of the live and the new version */
	struct uptrkv_objstate new_st;	/* the new object's, from its bytes */
	struct uptrkv_gcarry gc;
	struct uptrkv_mcopy *mcopies;	/* maps: {NAME: copy} */
	size_t nr_mcopies;
	struct uptrkv_load_carry lc;	/* what the load reuses */
	const struct uptrkv_manifest *target_m;	/* the version switched to */
	/* The grace period between the snapshots and the first write, waited
	 * for while the new object loads (preflight, do_switch). */
	struct uptrkv_rcu_wait gp;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *opt_bpffs(const struct uptrkv_rollout_opts *o)
{
	const char *b = UPTRKV_OPTS_GET(o, bpffs, NULL);

	return b ? b : UPTRKV_DEFAULT_BPFFS;
}

static void progress(struct rollout *c, const char *step, size_t done, size_t total)
{
	void (*fn)(void *, const char *, size_t, size_t) = UPTRKV_OPTS_GET(c->opts, progress, NULL);

	if (fn)
		fn(UPTRKV_OPTS_GET(c->opts, progress_ctx, NULL), step, done, total);
}

/* A test can stop the process here, or make this step fail. */
static int test_point(struct rollout *c, const char *point)
{
	int (*fn)(void *, const char *) = UPTRKV_OPTS_GET(c->opts, test_hook, NULL);
	int err = fn ? fn(UPTRKV_OPTS_GET(c->opts, test_hook_ctx, NULL), point) : 0;

	if (err)
		return uptrkv_err(c->e, err < 0 ? err : -EIO, "failure injected at %s", point);
	return 0;
}

static bool cancelled(struct rollout *c)
{
	volatile const int *flag = UPTRKV_OPTS_GET(c->opts, cancel, NULL);

	return flag && *flag;
}

static void journal(struct rollout *c, __u32 step, __u32 target_gen)
{
	volatile struct uptrkv_ctl *ctl = c->d->ctl;

	if (step != UPTRKV_STEP_SWITCHED)
		ctl->journal_flags = 0;
	ctl->target_gen = target_gen;
	ctl->owner_pid = getpid();
	__atomic_store_n(&ctl->step, step, __ATOMIC_SEQ_CST);
}

/* The one store that switches every hook and every store's meta view. */
static void flip(struct rollout *c, __u32 gen)
{
	__atomic_store_n(&c->d->ctl->gen, gen, __ATOMIC_SEQ_CST);
}

static bool task_gone(int err)
{
	return err == -ESRCH || err == -ENOENT;
}

static int open_admin(struct rollout *c)
{
	/* Kept pinned in the deployment's folder: loaded once, not per run. */
	UPTRKV_OPTS(uptrkv_admin_opts, ao, .pin_dir = c->d->dir);

	if (c->admin || c->d->store_fd < 0)
		return 0;
	return uptrkv_admin__open(c->d->store_fd, &ao, &c->admin, c->e);
}

/* The header and metas only: a rollout plans and finds pending moves from
 * where values are, never from what they are (lib/migrate.c). */
static int snapshot(struct rollout *c, __u32 tid)
{
	return uptrkv_admin__snapshot_meta(c->admin, tid, c->snap, c->e);
}

/* Every live store; none (and no error) before the store map exists. */
static int list_stores(struct rollout *c, struct uptrkv_task_ref **tasks, size_t *nr)
{
	*tasks = NULL;
	*nr = 0;
	return c->admin ? uptrkv_admin__list(c->admin, tasks, nr, c->e) : 0;
}

static bool in_tids(const __u32 *tids, size_t n, __u32 tid)
{
	for (size_t i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static void keep_old_slot(struct rollout *c, __u32 tid)
{
	if (c->nr_keep_old == c->cap_keep_old) {
		size_t cap = c->cap_keep_old ? 2 * c->cap_keep_old : 16;
		__u32 *v = realloc(c->keep_old, cap * sizeof(*v));

		if (!v)
			return;	/* then reclaim retires it: its moves are done on access */
		c->keep_old = v;
		c->cap_keep_old = cap;
	}
	c->keep_old[c->nr_keep_old++] = tid;
}

/* Applies writes to every listed store but those in skip; threads that
 * exited are skipped. */
static int write_all(struct rollout *c, const struct uptrkv_write *w, size_t n, bool best_effort,
		     const __u32 *skip, size_t nr_skip)
{
	struct uptrkv_task_ref *tasks;
	size_t nr;
	int err;

	err = list_stores(c, &tasks, &nr);
	for (size_t i = 0; !err && i < nr; i++) {
		if (in_tids(skip, nr_skip, tasks[i].tid))
			continue;
		err = uptrkv_admin__write(c->admin, tasks[i].tid, w, n, c->e);
		if (task_gone(err) || err == -EFAULT || (err && best_effort))
			err = 0;
	}
	free(tasks);
	return err;
}

/* ---- preflight: plan every store's migration in memory ---- */

/* Loads m's object from the bytes the history will keep (read once, so what
 * is recorded is what was verified), unless they are there already: a
 * rollback from the history brings its own. */
static int read_object(struct rollout *c, const struct uptrkv_manifest *m)
{
	int err = 0;

	if (!c->obj)
		err = uptrkv_read_file(m->object, UPTRKV_OBJECT_MAX, &c->obj, &c->obj_len, c->e);
	if (err)
		return uptrkv_err(c->e, err, "%s: cannot open BPF object %s: %s", m->path, m->object,
				  strerror(-err));
	return 0;
}

static int load_object(struct rollout *c, const struct uptrkv_manifest *m, struct uptrkv_deploy *d,
		       __u32 slot)
{
	return read_object(c, m) ?: uptrkv_version__load_mem(m, c->obj, c->obj_len, d, slot,
							      c->lc.plan ? &c->lc : NULL, &c->v, c->e);
}

static bool in_layout(const struct rollout *c, const struct uptrkv_snapshot *s)
{
	return s->hdr.magic == UPTRKV_MAGIC && s->hdr.layout_hash[c->from] == c->plan->old_hash;
}

/* ---- moving resized values (docs/design.md, "Moving a resized value") ---- */

/*
 * Moves every forwarded value of `slot` in tid's store, one program run
 * for the whole store (uptrkv_admin__move_slot), again while some stay
 * busy. `planned` is how many the caller saw forwarded; res->nr_moved
 * counts those made or found made. Forwarded values it did not plan (none
 * in a rollout; any pair may be moved at any time) are moved too. 0 when
 * none is left to do, 1 when some stayed busy, or a negative errno.
 */
static int move_store(struct rollout *c, __u32 tid, __u32 slot, size_t planned)
{
	struct uptrkv_move_ctx r;
	int err;

	for (int try = 0; try < MOVE_TRIES; try++) {
		if (try)
			usleep(1000 << (try - 1 < 4 ? try - 1 : 4));
		err = uptrkv_admin__move_slot(c->admin, tid, slot, &r, c->e);
		if (err)
			return err;
		if (!r.busy) {
			c->res->nr_moved += planned;
			return 0;
		}
	}
	c->res->nr_moved += planned > r.busy ? planned - r.busy : 0;
	return 1;
}

/*
 * The moves a snapshot of tid's store shows pending in `slot`: a killed or
 * interrupted run's, or a rollout's whose move pass left some. On 0,
 * c->snap is a snapshot of the store with none pending (taken again only
 * when there were some), so a caller plans from it with no second one.
 */
static int finish_moves(struct rollout *c, __u32 tid, __u32 slot)
{
	size_t n;
	int err;

	err = snapshot(c, tid);
	n = err ? 0 : uptrkv_mig__pending_moves(c->snap, slot, NULL);
	if (!n)
		return err;
	err = move_store(c, tid, slot, n);
	return err ?: snapshot(c, tid);
}

static int plan_store(struct rollout *c, __u32 tid, struct store_mig *sm)
{
	const struct uptrkv_mig *m;
	int err;

	err = finish_moves(c, tid, c->from);
	if (err > 0)
		return uptrkv_err(c->e, -EBUSY, "thread %u: values resized by the previous rollout are "
				  "still being moved (their seqcount stayed busy); try again", tid);
	if (err)
		return err;
	if (!in_layout(c, c->snap))
		return 1;
	err = uptrkv_mig_cache__get(c->builds, c->snap, &m, c->e);
	if (err)
		return err;
	sm->tid = tid;
	sm->w = m->w;
	sm->nr_w = m->nr_w;
	sm->moves = m->moves;
	sm->nr_moves = m->nr_moves;
	return 0;
}

/* A store this rollout cannot migrate, whatever the others are like. */
static bool unmigratable(int err)
{
	return err == -EPROTO || err == -EINVAL || err == -EUCLEAN || err == -EBUSY;
}

/* --skip-corrupt: the store keeps its old layout, and its old slot. */
static void skip_store(struct rollout *c, const struct uptrkv_task_ref *t, int err)
{
	struct uptrkv_skipped_store *s;

	keep_old_slot(c, t->tid);
	if (c->res->nr_skipped < UPTRKV_SKIPPED_MAX) {
		s = &c->res->skipped[c->res->nr_skipped];
		s->pid = t->tgid;
		s->tid = t->tid;
		snprintf(s->why, sizeof(s->why), "%.199s", c->e && c->e->err ? c->e->msg : strerror(-err));
	}
	c->res->nr_skipped++;
	if (c->e)
		memset(c->e, 0, sizeof(*c->e));
}

static int plan_stores(struct rollout *c)
{
	bool skip = UPTRKV_OPTS_GET(c->opts, skip_corrupt, false);
	struct uptrkv_task_ref *tasks;
	size_t nr;
	int err;

	err = list_stores(c, &tasks, &nr);
	if (err || !c->admin)
		return err;
	c->migs = calloc(nr ? nr : 1, sizeof(*c->migs));
	if (!c->migs || uptrkv_mig_cache__new(c->plan, c->from, c->to, c->gen + 1, &c->builds)) {
		free(tasks);
		return uptrkv_err(c->e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nr; i++) {
		progress(c, "plan", i, nr);
		err = plan_store(c, tasks[i].tid, &c->migs[c->nr_migs]);
		if (task_gone(err) || err == 1) {
			c->res->nr_gone += err != 1;
			err = 0;
			continue;
		}
		if (err && unmigratable(err) && skip) {
			skip_store(c, &tasks[i], err);
			err = 0;
			continue;
		}
		if (err && unmigratable(err) && c->e) {
			char why[UPTRKV_ERRMSG_MAX];

			snprintf(why, sizeof(why), "%s", c->e->msg);
			uptrkv_err(c->e, err, "%.400s (pid %u; --skip-corrupt leaves such threads out)",
				   why, tasks[i].tgid);
		}
		if (err)
			break;
		c->nr_migs++;
	}
	c->res->nr_stores = c->nr_migs;
	free(tasks);
	return err;
}

/* ---- globals and shared maps (docs/design.md, "Globals and shared maps") ---- */

static int version_gmaps(struct uptrkv_version *v, struct uptrkv_gmaps *g, struct uptrkv_error *e)
{
	int fds[UPTRKV_MAX_PROGS];

	for (size_t i = 0; i < v->nr_progs; i++)
		fds[i] = v->progs[i].fd;
	return uptrkv_gmaps__from_progs(fds, v->nr_progs, g, e);
}

/* A deployed version's .bss/.data maps: those its pinned programs use. */
static int slot_gmaps(struct rollout *c, __u32 slot, struct uptrkv_gmaps *g)
{
	struct uptrkv_version *v = NULL;
	int err;

	err = uptrkv_version__open_pinned(c->d, slot, &v, c->e);
	err = err ?: version_gmaps(v, g, c->e);
	uptrkv_version__free(v);
	return err;
}

/*
 * Plans the globals and shared maps before anything is loaded, so that a
 * change the manifest does not allow is refused with nothing done. The old
 * side is what runs (the live programs' maps, the pinned shared maps); the
 * new side is the object's bytes, or for a rollback to the other slot its
 * pinned programs' maps. m gives globals: and maps:.
 */
static int plan_objstate(struct rollout *c, const struct uptrkv_manifest *m, bool pinned)
{
	struct uptrkv_objstate *new_st = pinned ? &c->gto.st : &c->new_st;
	int err;

	err = slot_gmaps(c, c->from, &c->gfrom);
	err = err ?: uptrkv_deploy__shared_maps(c->d, &c->gfrom.st, c->e);
	if (!err && pinned) {
		err = slot_gmaps(c, c->to, &c->gto);
		err = err ?: uptrkv_deploy__shared_maps(c->d, &c->gto.st, c->e);
	} else if (!err) {
		err = uptrkv_objstate__from_mem(c->obj, c->obj_len, m->store_map, &c->new_st, c->e);
	}
	err = err ?: uptrkv_plan__add_objstate(c->plan, &c->gfrom.st, new_st, m, c->e);
	if (err)
		return err;
	for (int s = 0; s < UPTRKV_NR_GSECS; s++)
		c->lc.gsec_fd[s] = c->plan->sec_shared[s] ? c->gfrom.fd[s] : -1;
	c->lc.plan = c->plan;
	return 0;
}

static int open_mcopy(struct rollout *c, const struct uptrkv_mplan_entry *pe,
		      struct uptrkv_mcopy *mc)
{
	struct bpf_map *map = bpf_object__find_map_by_name(c->v->obj, pe->new.name);
	char path[PATH_MAX];

	mc->from_fd = -1;
	uptrkv_pin_path(path, sizeof(path), c->d->dir, "%s/%s", UPTRKV_PIN_MAPS, pe->old.name);
	mc->from_fd = bpf_obj_get(path);
	if (mc->from_fd < 0 || !map)
		return uptrkv_errno(c->e, mc->from_fd < 0 ? -errno : -ENOENT, "map %s: open %s",
				    pe->new.name, path);
	mc->to_fd = bpf_map__fd(map);
	mc->key_size = pe->old.key_size;
	mc->old_size = pe->old.value_size;
	mc->new_size = pe->new.value_size;
	return 0;
}

/* maps: {NAME: copy}, first pass: before the switch. */
static int copy_maps(struct rollout *c)
{
	int err = 0;

	c->mcopies = calloc(c->plan->nr_maps + 1, sizeof(*c->mcopies));
	if (!c->mcopies)
		return uptrkv_err(c->e, -ENOMEM, "out of memory");
	for (size_t i = 0; !err && i < c->plan->nr_maps; i++) {
		struct uptrkv_mcopy *mc = &c->mcopies[c->nr_mcopies];

		if (c->plan->maps[i].action != UPTRKV_MACT_COPY || !c->v->obj)
			continue;
		c->nr_mcopies++;
		err = open_mcopy(c, &c->plan->maps[i], mc);
		err = err ?: uptrkv_mcopy__pass1(mc, c->e);
		c->res->nr_map_entries_copied += mc->n;
	}
	return err;
}

/* The key type table: the slot switched to, and the live one again (the
 * same bytes), so a deployment that had no table gets a whole one. */
static int write_types(struct rollout *c)
{
	const struct uptrkv_manifest *live = c->res->old_manifest;
	int err = 0;

	if (live && c->gen)
		err = uptrkv_deploy__write_types(c->d, c->from, live, c->e);
	if (!err && c->target_m)
		err = uptrkv_deploy__write_types(c->d, c->to, c->target_m, c->e);
	/* What app threads register with (lib/keyrec.h). */
	return err ?: uptrkv_deploy__write_keys(c->d, c->gen, live, c->target_m, c->e);
}

/* Just before the switch: the new version's programs cannot run yet. */
static int carry_before(struct rollout *c)
{
	int err;

	if (!c->plan || !c->plan->has_objstate)
		return 0;
	err = uptrkv_globals__copy(c->plan, &c->gfrom, &c->gto, &c->gc, c->e);
	c->res->nr_globals_copied = c->gc.nr_copied;
	/* A run killed after the switch leaves its catch-up to the next one. */
	err = err ?: uptrkv_gcarry__save(c->d, &c->gc, &c->gfrom, c->gen + 1, c->e);
	return err ?: copy_maps(c);
}

/* Maps the new version has its own of (reset, copy) replace the pin. */
static int repin_maps(struct rollout *c, struct uptrkv_error *e)
{
	int fds[UPTRKV_MAX_PROGS];
	int err = 0;

	if (!c->v->obj) {
		/* Pinned programs use the maps they were loaded with. */
		for (size_t i = 0; i < c->v->nr_progs; i++)
			fds[i] = c->v->progs[i].fd;
		return uptrkv_deploy__repin_used_maps(c->d, fds, c->v->nr_progs, e);
	}

	for (size_t i = 0; !err && c->v->obj && i < c->plan->nr_maps; i++) {
		const struct uptrkv_mplan_entry *pe = &c->plan->maps[i];

		if (pe->has_old && (pe->action == UPTRKV_MACT_RESET || pe->action == UPTRKV_MACT_COPY))
			err = uptrkv_version__repin(c->v, c->d, pe->new.name, e);
	}
	return err;
}

/*
 * After the switch and its grace period: no old program runs any more, so
 * what the old version did since carry_before is final; add it. A failure
 * here does not undo the switch: the result says what was not carried.
 */
static void carry_after(struct rollout *c)
{
	struct uptrkv_error e = {};
	int err;

	if (!c->plan || !c->plan->has_objstate)
		return;
	err = uptrkv_globals__catch_up(c->plan, &c->gfrom, &c->gto, &c->gc, &e);
	c->res->nr_globals_caught_up = c->gc.nr_caught_up;
	uptrkv_gcarry__drop(c->d);
	for (size_t i = 0; !err && i < c->nr_mcopies; i++)
		err = uptrkv_mcopy__pass2(&c->mcopies[i], &e);
	err = err ?: repin_maps(c, &e);
	c->res->carry_err = err;
	snprintf(c->res->carry_msg, sizeof(c->res->carry_msg), "%s", err ? e.msg : "");
}

/* ---- the switch ---- */

static int migrate_stores(struct rollout *c)
{
	for (size_t i = 0; i < c->nr_migs; i++) {
		struct store_mig *m = &c->migs[i];
		int err;

		if (i == c->nr_migs / 2 && (err = test_point(c, UPTRKV_TP_MIGRATE)))
			return err;
		if (cancelled(c))
			return uptrkv_err(c->e, -ECANCELED, "interrupted while migrating stores");
		progress(c, "migrate", i, c->nr_migs);
		err = uptrkv_admin__write(c->admin, m->tid, m->w, m->nr_w, c->e);
		if (task_gone(err)) {
			c->res->nr_gone++;
			m->tid = 0;
			continue;
		}
		if (err)
			return err;
		c->res->nr_migrated++;
	}
	return c->nr_migs ? 0 : test_point(c, UPTRKV_TP_MIGRATE);
}

static int prepare_hooks(struct rollout *c)
{
	int err = 0;

	for (size_t i = 0; !err && i < c->v->nr_progs; i++)
		if (c->v->obj)
			err = uptrkv_hook__ensure(c->d, &c->v->progs[i], c->e);
	return err ?: uptrkv_hook__fill_slot(c->d, c->v, c->e);
}

static int record(struct rollout *c, const struct uptrkv_manifest *m)
{
	struct uptrkv_state_prog progs[UPTRKV_MAX_PROGS];
	struct uptrkv_state_rec prev;
	int err;

	uptrkv_version__state(c->v, progs);
	/* The slot's occupant, two versions back, is about to be replaced. */
	if (!uptrkv_deploy__read_rec(c->d, c->to, &prev, NULL))
		c->res->lost_version = prev.version;
	c->recorded = true;
	c->d->ctl->journal_flags |= UPTRKV_JF_RECORDED;
	err = uptrkv_deploy__record(c->d, c->to, m, progs, c->v->nr_progs, c->e);
	err = err ?: uptrkv_binding__record(c->d, c->to, &c->res->binding, c->e);
	return err ?: uptrkv_version__pin(c->v, c->d, c->e);
}

/* Drops slot `to` everywhere: the old version never saw it. */
static void undo_before_switch(struct rollout *c)
{
	struct uptrkv_write w[1];
	size_t n = uptrkv_mig__retire_writes(c->to, w);
	char **hooks = NULL;
	size_t nr = 0;

	write_all(c, w, n, true, NULL, 0);
	uptrkv_gcarry__drop(c->d);
	if (!uptrkv_hook__list(c->d, &hooks, &nr, NULL))
		for (size_t i = 0; i < nr; i++)
			uptrkv_hook__set(c->d, hooks[i], c->to, -1, NULL);
	uptrkv_strv__free(hooks, nr);
	/* Its programs were replaced: there is nothing to roll back to there. */
	if (c->recorded)
		uptrkv_deploy__clear_slot(c->d, c->to, NULL);
	journal(c, UPTRKV_STEP_IDLE, 0);
}

/*
 * After the switch and a grace period: no program of the old version runs,
 * and every resized value not yet moved by the new version on first use is
 * moved now. A store whose moves stay busy keeps its old slot (reclaim
 * skips it): the value is still right, through the forwarded entry, and the
 * next command finishes it. Never a reason to switch back.
 */
static void move_pass(struct rollout *c)
{
	for (size_t i = 0; i < c->nr_migs; i++) {
		struct store_mig *m = &c->migs[i];
		int err;

		if (i == c->nr_migs / 2)
			test_point(c, UPTRKV_TP_MOVE);	/* past the switch: a failure is ignored */
		if (!m->tid || !m->nr_moves)
			continue;
		progress(c, "move", i, c->nr_migs);
		err = move_store(c, m->tid, c->to, m->nr_moves);
		if (!err || task_gone(err))
			continue;
		c->res->nr_move_pending++;
		keep_old_slot(c, m->tid);
	}
}

static int reclaim(struct rollout *c, __u32 slot)
{
	struct uptrkv_write w[1];
	size_t n = uptrkv_mig__retire_writes(slot, w);
	int err;

	/* Past the point of return: an injected failure here is ignored. */
	test_point(c, UPTRKV_TP_RECLAIM);
	err = write_all(c, w, n, true, c->keep_old, c->nr_keep_old);
	journal(c, UPTRKV_STEP_IDLE, 0);
	return err;
}

/* Finishes the moves into `slot` in every store (after a crash, or before
 * switching back); the stores whose moves stayed busy keep their old slot. */
static void finish_all_moves(struct rollout *c, __u32 slot)
{
	struct uptrkv_task_ref *tasks = NULL;
	size_t nr = 0;

	if (list_stores(c, &tasks, &nr))
		return;
	for (size_t i = 0; i < nr; i++) {
		int err = finish_moves(c, tasks[i].tid, slot);

		if (err && !task_gone(err)) {
			keep_old_slot(c, tasks[i].tid);
			c->res->nr_move_pending++;
		}
	}
	free(tasks);
}

/* After the flip: back to the old slot, whose meta and programs are intact. */
static int roll_back_switch(struct rollout *c, int why)
{
	struct uptrkv_error ignored;

	/* gen + 2 has the old slot's parity: the old version, whose programs
	 * are intact, is live again. Values the new version already moved are
	 * moved back (the old slot's entries are forwarded now); then the new
	 * slot, c->to, is dropped. */
	flip(c, c->gen + 2);
	uptrkv_deploy__sync_rcu(c->d, &ignored);
	finish_all_moves(c, c->from);
	undo_before_switch(c);
	c->res->rolled_back = true;
	c->res->gen = c->gen + 2;
	return why;
}

/* The grace period preflight started after the snapshots (a first deploy
 * has neither: it waits here). */
static int wait_after_snapshots(struct rollout *c)
{
	if (!c->gp.d)
		return uptrkv_deploy__sync_rcu(c->d, c->e);
	return uptrkv_deploy__sync_rcu_join(&c->gp, c->e);
}

static int do_switch(struct rollout *c, const struct uptrkv_manifest *record_m)
{
	volatile struct uptrkv_ctl *ctl = c->d->ctl;
	double t0 = now_ms();
	int err;

	progress(c, "migrate: building the new layout beside the live one", 0, 0);
	journal(c, UPTRKV_STEP_MIGRATING, c->gen + 1);
	err = record_m ? record(c, record_m) : 0;
	err = err ?: prepare_hooks(c);
	err = err ?: wait_after_snapshots(c);
	err = err ?: migrate_stores(c);
	err = err ?: carry_before(c);
	/* Apps built for an older layout learn removed and retyped keys here. */
	err = err ?: write_types(c);
	err = err ?: test_point(c, UPTRKV_TP_SWITCH);
	/* The last moment an interrupt can still undo everything. */
	if (!err && cancelled(c))
		err = uptrkv_err(c->e, -ECANCELED, "interrupted before the switch");
	if (err) {
		undo_before_switch(c);
		return err;
	}
	ctl->version[c->to] = c->v->version;
	ctl->layout_hash[c->to] = c->plan->new_hash;
	c->res->ms_migrate = now_ms() - t0;

	t0 = now_ms();
	progress(c, "switch: flipping the generation, waiting for old programs to end", 0, 0);
	journal(c, UPTRKV_STEP_SWITCHED, c->gen + 1);
	flip(c, c->gen + 1);
	c->res->gen = c->gen + 1;
	err = test_point(c, UPTRKV_TP_SWITCHED);
	err = err ?: uptrkv_deploy__sync_rcu(c->d, c->e);
	if (err)
		return roll_back_switch(c, err);
	carry_after(c);
	move_pass(c);
	c->res->ms_switch = now_ms() - t0;

	t0 = now_ms();
	progress(c, "reclaim: retiring the old layout", 0, 0);
	err = reclaim(c, c->from);
	c->res->ms_reclaim = now_ms() - t0;
	return err;
}

/* ---- recovery of a killed run ---- */

/*
 * The catch-up of globals that a run killed after its switch did not do:
 * the snapshot it pinned, the maps of both slots' programs, and the plan
 * between them under the new version's globals:.
 */
static int recover_carry(struct rollout *c, __u32 target)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_plan p = { .compatible = true };
	bool found;
	int err;

	c->from = UPTRKV_SLOT(target) ^ 1;
	c->to = UPTRKV_SLOT(target);
	err = uptrkv_gcarry__load(c->d, target, &c->gc, &found, c->e);
	if (err || !found)
		return err;
	err = slot_gmaps(c, c->from, &c->gfrom);
	err = err ?: slot_gmaps(c, c->to, &c->gto);
	err = err ?: uptrkv_deploy__manifest(c->d, c->to, &m, c->e);
	err = err ?: uptrkv_plan__add_objstate(&p, &c->gfrom.st, &c->gto.st, m, c->e);
	err = err ?: uptrkv_globals__catch_up(&p, &c->gfrom, &c->gto, &c->gc, c->e);
	c->res->nr_globals_caught_up = c->gc.nr_caught_up;
	if (!err)
		uptrkv_gcarry__drop(c->d);
	free(p.globals);
	free(p.maps);
	uptrkv_manifest__free(m);
	uptrkv_gcarry__free(&c->gc);
	uptrkv_gmaps__close(&c->gfrom);
	uptrkv_gmaps__close(&c->gto);
	return err;
}

static int recover(struct rollout *c)
{
	volatile struct uptrkv_ctl *ctl = c->d->ctl;
	__u32 step = ctl->step, target = ctl->target_gen;
	int err;

	if (step == UPTRKV_STEP_IDLE)
		return 0;
	err = open_admin(c);
	if (err)
		return err;
	c->res->recovered = true;
	if (step == UPTRKV_STEP_SWITCHED && ctl->gen == target) {
		/* The new version is live: finish its moves and its rollout. */
		c->gen = target - 1;
		err = uptrkv_deploy__sync_rcu(c->d, c->e);
		err = err ?: recover_carry(c, target);
		if (err)
			return err;
		finish_all_moves(c, UPTRKV_SLOT(target));
		return reclaim(c, UPTRKV_SLOT(target) ^ 1);
	}
	/* The old version is still live: drop what was built for the new. */
	c->gen = ctl->gen;
	c->to = UPTRKV_SLOT(target);
	c->recorded = ctl->journal_flags & UPTRKV_JF_RECORDED;
	undo_before_switch(c);
	return 0;
}

/* ---- the history ---- */

static __u64 us(double ms)
{
	return ms > 0 ? (__u64)(ms * 1000 + 0.5) : 0;
}

/* The revision's inputs: where they came from and their hashes. A failed
 * run keeps the hashes only: it is never a version to return to. */
/* Objects run to megabytes: hashed once per run, by the binding check if
 * it ran on these bytes. */
static const __u8 *object_sha(struct rollout *c)
{
	if (!c->obj_sha_set)
		uptrkv_sha256(c->obj, c->obj_len, c->obj_sha);
	c->obj_sha_set = true;
	return c->obj_sha;
}

static void describe(struct rollout *c, const struct uptrkv_manifest *m, struct uptrkv_revision *r)
{
	const struct uptrkv_rollout_result *res = c->res;
	const char *cmd = UPTRKV_OPTS_GET(c->opts, command, NULL);
	char real[PATH_MAX];

	uptrkv_revision__stamp(r);
	r->version = m->version;
	r->from_version = res->from_version;
	r->layout_hash = m->layout_hash;
	r->us_preflight = us(res->ms_preflight);
	r->us_migrate = us(res->ms_migrate);
	r->us_switch = us(res->ms_switch);
	r->us_reclaim = us(res->ms_reclaim);
	snprintf(r->command, sizeof(r->command), "%s", cmd ? cmd : "");
	/* A longer path is cut: a rollback then finds its object: relative
	 * to the wrong folder, but loads the kept copy anyway. */
	snprintf(r->manifest_path, sizeof(r->manifest_path), "%.*s", (int)sizeof(r->manifest_path) - 1,
		 m->path && realpath(m->path, real) ? real : m->path ? m->path : "");
	snprintf(r->object_path, sizeof(r->object_path), "%s", m->object ? m->object : "");
	if (m->text)
		uptrkv_sha256(m->text, m->text_len, r->manifest_sha256);
	r->manifest_size = m->text_len;
	if (c->obj)
		memcpy(r->object_sha256, object_sha(c), sizeof(r->object_sha256));
	r->object_size = c->obj_len;
}

/*
 * A rollback returns to a version some earlier revision rolled out: it
 * carries over when that was (status shows it as deployed_at) and, when it
 * switched to a slot's pinned programs with no bytes in hand, names the copy
 * of the object that revision kept. Without one, the slot's record time.
 */
static void carry_over(struct rollout *c, struct uptrkv_hist *h, struct uptrkv_revision *r)
{
	const struct uptrkv_revision *k = NULL;
	struct uptrkv_history all = {};
	struct uptrkv_state_rec rec;

	if (!uptrkv_hist__read(h, &all, NULL))
		k = uptrkv_hist__find(&all, r->version);
	if (k && k->layout_hash != r->layout_hash)
		k = NULL;
	if (k)
		r->deployed_at = k->deployed_at ?: k->when;
	else if (!uptrkv_deploy__read_rec(c->d, c->to, &rec, NULL))
		r->deployed_at = rec.deployed_at;
	if (k && k->has_object && !c->obj) {
		memcpy(r->object_sha256, k->object_sha256, sizeof(r->object_sha256));
		r->object_size = k->object_size;
		r->has_object = 1;
		snprintf(r->object_path, sizeof(r->object_path), "%s", k->object_path);
	}
	uptrkv_history__free(&all);
}

/* Whether version is still kept, for the failure message. */
static bool kept(struct uptrkv_hist *h, __u32 version)
{
	struct uptrkv_history all;
	bool found;

	if (uptrkv_hist__read(h, &all, NULL))
		return false;
	found = uptrkv_hist__find(&all, version) != NULL;
	uptrkv_history__free(&all);
	return found;
}

/*
 * Records the run as the next revision. The maps are created here if the
 * deployment predates them. A history that cannot be written does not undo
 * a done rollout: the result says so (history_err) and the caller warns.
 */
static void record_history(struct rollout *c, const struct uptrkv_manifest *m, int err,
			   __u32 ok_outcome)
{
	struct uptrkv_rollout_result *res = c->res;
	__u32 limit = UPTRKV_OPTS_GET(c->opts, history_limit, 0);
	struct uptrkv_hist h = { -1, -1 };
	struct uptrkv_revision r = {};
	struct uptrkv_error he = {};
	bool ok = !err;
	int herr;

	/* A dry run changes nothing, its failures included. */
	if (!c->attempt || !c->d || !m || UPTRKV_OPTS_GET(c->opts, dry_run, false) ||
	    res->nothing_to_do)
		return;
	describe(c, m, &r);
	r.us_total = us(now_ms() - c->t0);
	r.outcome = ok ? ok_outcome : UPTRKV_OUTCOME_FAILED;
	if (!ok)
		snprintf(r.reason, sizeof(r.reason), "%s", c->e && c->e->msg[0] ? c->e->msg : strerror(-err));
	herr = uptrkv_hist__open(&h, c->d, true, &he);
	if (!herr && limit)
		herr = uptrkv_hist__set_limit(&h, limit, &he);
	r.deployed_at = r.when;
	if (!herr && ok && ok_outcome == UPTRKV_OUTCOME_ROLLED_BACK)
		carry_over(c, &h, &r);
	herr = herr ?: uptrkv_hist__append(&h, &r, ok ? m->text : NULL, m->text_len,
					   ok ? c->obj : NULL, c->obj_len, &he);
	if (!herr)
		res->revision = r.revision;
	if (!herr && res->lost_version)
		res->lost_version_kept = kept(&h, res->lost_version);
	res->history_err = herr;
	snprintf(res->history_msg, sizeof(res->history_msg), "%s", he.msg);
	uptrkv_hist__close(&h);
}

/* ---- entry points ---- */

/* A run that changed the deployment keeps its admin programs pinned there
 * for the next command (lib/admin.c); one that failed or was dry changes
 * nothing, not even that. */
static void keep_admin(struct rollout *c, int err)
{
	if (!err && c->admin && c->d && !UPTRKV_OPTS_GET(c->opts, dry_run, false) &&
	    !c->res->nothing_to_do)
		uptrkv_admin__pin(c->admin, c->d->dir);
}

static int begin(struct rollout *c, const char *name)
{
	int err;

	c->snap = calloc(1, sizeof(*c->snap));
	if (!c->snap)
		return uptrkv_err(c->e, -ENOMEM, "out of memory");
	err = uptrkv_deploy__lock_opts(c->d, c->opts, c->e);
	err = err ?: recover(c);
	if (err)
		return err;
	c->gen = c->d->ctl->gen;
	c->from = UPTRKV_SLOT(c->gen);
	c->to = c->from ^ 1;
	snprintf(c->res->name, sizeof(c->res->name), "%s", name);
	return 0;
}

static void end(struct rollout *c)
{
	if (c->gp.running)
		uptrkv_deploy__sync_rcu_join(&c->gp, NULL);
	uptrkv_mig_cache__free(c->builds);
	free(c->migs);
	free(c->snap);
	free(c->keep_old);
	for (size_t i = 0; i < c->nr_mcopies; i++)
		uptrkv_mcopy__free(&c->mcopies[i]);
	free(c->mcopies);
	uptrkv_gcarry__free(&c->gc);
	uptrkv_gmaps__close(&c->gfrom);
	uptrkv_gmaps__close(&c->gto);
	uptrkv_objstate__free(&c->new_st);
	uptrkv_version__free(c->v);
	free(c->obj);
	uptrkv_admin__close(c->admin);
	uptrkv_deploy__close(c->d);
}

static bool root_exists(const char *bpffs)
{
	char root[PATH_MAX];

	snprintf(root, sizeof(root), "%s/%s", bpffs, UPTRKV_DEPLOY_SUBDIR);
	return !access(root, F_OK);
}

static int first_refusal(struct rollout *c);

static int first_deploy(struct rollout *c, const struct uptrkv_manifest *m)
{
	const char *bpffs = opt_bpffs(c->opts);
	bool had_root = root_exists(bpffs);
	double t0 = now_ms();
	int err;

	c->res->first_deploy = true;
	c->target_m = m;
	err = uptrkv_plan__new(NULL, m, &c->plan, c->e);
	c->res->plan = c->plan;
	err = err ?: uptrkv_objstate__from_mem(c->obj, c->obj_len, m->store_map, &c->new_st, c->e);
	err = err ?: uptrkv_plan__add_objstate(c->plan, NULL, &c->new_st, m, c->e);
	if (err)
		return err;
	if (!c->plan->compatible)
		return first_refusal(c);
	if (UPTRKV_OPTS_GET(c->opts, dry_run, false)) {
		c->res->dry_run = true;
		return load_object(c, m, NULL, 1);
	}
	err = uptrkv_deploy__create(bpffs, m->name, &c->d, c->e);
	if (err)
		goto out;
	c->attempt = true;
	c->gen = 0;
	c->from = 0;
	c->to = 1;
	progress(c, "preflight: loading and verifying the object", 0, 0);
	err = load_object(c, m, c->d, c->to);
	c->res->ms_preflight = now_ms() - t0;
	err = err ?: test_point(c, UPTRKV_TP_PREFLIGHT);
	err = err ?: do_switch(c, m);
	/* A first deploy that failed has no old version to keep running, and
	 * no history to record it in. */
	if (err) {
		uptrkv_deploy__remove_dir(c->d->dir, NULL);
		c->attempt = false;
	}
out:
	/* "Nothing was changed" includes the bpffs: no empty uptrkv/ left. */
	if (err && !had_root)
		uptrkv_deploy__remove_root(bpffs);
	return err;
}

static bool same_version(const struct uptrkv_manifest *old, const struct uptrkv_manifest *m)
{
	return old->version == m->version && old->layout_hash == m->layout_hash;
}

static int check_upgrade(struct rollout *c, const struct uptrkv_manifest *old,
			 const struct uptrkv_manifest *m)
{
	if (old->version == m->version && old->layout_hash != m->layout_hash)
		return uptrkv_err(c->e, -EINVAL, "%s: version %u is deployed with another layout; "
				  "give the new layout a higher version", m->path, m->version);
	if (m->version < old->version)
		return uptrkv_err(c->e, -EINVAL, "%s: version %u is older than the deployed version %u; "
				  "use 'uptrkv rollback %s' to go back", m->path, m->version,
				  old->version, m->name);
	return 0;
}

static int first_refusal(struct rollout *c)
{
	for (size_t i = 0; i < c->plan->n; i++)
		if (c->plan->v[i].refused)
			return uptrkv_err(c->e, -EINVAL, "key %u: %s", c->plan->v[i].id, c->plan->v[i].why);
	for (size_t i = 0; i < c->plan->nr_globals; i++)
		if (c->plan->globals[i].refused)
			return uptrkv_err(c->e, -EINVAL, "%s", c->plan->globals[i].why);
	for (size_t i = 0; i < c->plan->nr_maps; i++)
		if (c->plan->maps[i].refused)
			return uptrkv_err(c->e, -EINVAL, "%s", c->plan->maps[i].why);
	return uptrkv_err(c->e, -EINVAL, "the change is not compatible");
}

static int preflight(struct rollout *c, const struct uptrkv_manifest *m)
{
	double t0 = now_ms();
	int err;

	err = open_admin(c);
	err = err ?: plan_stores(c);
	/* The plan reuses space the snapshots showed free, some of it freed
	 * just before them (an app's delete still in its quarantine, a BPF
	 * delete): no reader may still hold it at the first write. That grace
	 * period runs while the object is verified. */
	if (!err && !UPTRKV_OPTS_GET(c->opts, dry_run, false))
		uptrkv_deploy__sync_rcu_start(c->d, &c->gp);
	progress(c, m ? "preflight: loading and verifying the new object against the live maps"
		      : "preflight: reopening the previous version's programs", 0, 0);
	if (err) {
		/* nothing to load for */
	} else if (m) {
		err = load_object(c, m, c->d, c->to);
		err = err ?: version_gmaps(c->v, &c->gto, c->e);
	} else {
		err = uptrkv_version__open_pinned(c->d, c->to, &c->v, c->e);
	}
	c->res->ms_preflight = now_ms() - t0;
	return err ?: test_point(c, UPTRKV_TP_PREFLIGHT);
}

static int upgrade(struct rollout *c, const struct uptrkv_manifest *m)
{
	struct uptrkv_manifest *old = NULL;
	int err;

	err = begin(c, m->name);
	c->attempt = !err;
	err = err ?: uptrkv_deploy__manifest(c->d, c->from, &old, c->e);
	if (err == -ENOENT && c->gen == 0) {
		/* What a first deploy killed before its switch leaves behind. */
		err = uptrkv_deploy__remove_dir(c->d->dir, c->e);
		uptrkv_deploy__close(c->d);
		c->d = NULL;
		c->res->recovered = true;
		c->attempt = false;
		return err ?: first_deploy(c, m);
	}
	c->res->old_manifest = old;
	if (err)
		return err;
	c->res->from_version = old->version;
	if (same_version(old, m)) {
		c->res->nothing_to_do = true;
		c->res->gen = c->gen;
		/* A deployment made before key records: give it its live one,
		 * so that "roll it out again" lets app threads register. */
		if (UPTRKV_OPTS_GET(c->opts, dry_run, false))
			return 0;
		return uptrkv_deploy__write_keys(c->d, c->gen, old, NULL, c->e);
	}
	c->target_m = m;
	err = check_upgrade(c, old, m);
	err = err ?: uptrkv_plan__new(old, m, &c->plan, c->e);
	c->res->plan = c->plan;
	err = err ?: plan_objstate(c, m, false);
	if (err)
		return err;
	if (!c->plan->compatible)
		return first_refusal(c);
	err = preflight(c, m);
	if (err || UPTRKV_OPTS_GET(c->opts, dry_run, false)) {
		c->res->dry_run = !err;
		return err;
	}
	return do_switch(c, m);
}

/*
 * Before anything is opened, locked or loaded: the object must be the one
 * built for m's layout and deployment (lib/binding.c). The bytes checked
 * are read once and kept: they are what load_object loads and what the
 * history keeps, so a file replaced meanwhile changes nothing. A rollback
 * from the history brings its own bytes.
 */
static int check_object(struct rollout *c, const struct uptrkv_manifest *m)
{
	UPTRKV_OPTS(uptrkv_binding_opts, bo,
		    .allow_unbound = UPTRKV_OPTS_GET(c->opts, allow_unbound_object, false));
	int err;

	err = read_object(c, m) ?: uptrkv_binding__check_mem(m, m->object, c->obj, c->obj_len, &bo,
							       &c->res->binding, c->e);
	if (!err) {
		memcpy(c->obj_sha, c->res->binding.object_sha256, sizeof(c->obj_sha));
		c->obj_sha_set = true;
	}
	return err;
}

/* Options from a newer header with a field this library does not know
 * set: refused before anything is touched (UPTRKV_OPTS_VALID). */
static int check_opts(const struct uptrkv_rollout_opts *opts, struct uptrkv_error *e)
{
	if (UPTRKV_OPTS_VALID(opts, uptrkv_rollout_opts, lock_wait_ctx))
		return 0;
	return uptrkv_err(e, -EINVAL, "rollout options: fields this uptrkv does not know are set "
			  "(sz %zu); nothing was changed", opts->sz);
}

int uptrkv_rollout(const struct uptrkv_manifest *m, const struct uptrkv_rollout_opts *opts,
		   struct uptrkv_rollout_result *res, struct uptrkv_error *e)
{
	struct rollout c = { .opts = opts, .res = res, .e = e, .t0 = now_ms() };
	__u32 limit = UPTRKV_OPTS_GET(opts, history_limit, 0);
	int err;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", m->name);
	res->to_version = m->version;
	err = check_opts(opts, e);
	if (err)
		return err;
	if (limit > UPTRKV_HISTORY_MAX)
		return uptrkv_err(e, -EINVAL, "history limit %u: must be 1..%u", limit,
				  UPTRKV_HISTORY_MAX);
	err = check_object(&c, m);
	if (err)
		goto out;
	err = uptrkv_deploy__open(opt_bpffs(opts), m->name, &c.d, e);
	if (err == -ENOENT)
		err = first_deploy(&c, m);
	else if (!err)
		err = upgrade(&c, m);
out:
	res->ms_total = now_ms() - c.t0;
	record_history(&c, m, err, UPTRKV_OUTCOME_DEPLOYED);
	keep_admin(&c, err);
	end(&c);
	return err;
}

/* Going back may shrink or retype keys: the old version's own layout. Its
 * globals and maps too: what would be refused is reset (their action). */
static void force_compatible(struct uptrkv_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->v[i].refused = false;
	for (size_t i = 0; i < p->nr_globals; i++)
		p->globals[i].refused = false;
	for (size_t i = 0; i < p->nr_maps; i++)
		p->maps[i].refused = false;
	p->nr_refused = 0;
	p->compatible = true;
}

/* Rollback loads nothing from disk: it checks the binding recorded when
 * the target version was rolled out (lib/binding_state.c). */
static int check_recorded_object(struct rollout *c, const struct uptrkv_manifest *prev)
{
	bool allow = UPTRKV_OPTS_GET(c->opts, allow_unbound_object, false);

	return uptrkv_binding__check_recorded(c->d, c->to, prev, allow, &c->res->binding, c->e);
}

/* "2, 3": the versions a rollback can still return to. */
static void kept_versions(const struct uptrkv_history *all, char *buf, size_t sz)
{
	__u32 last = 0, next;
	size_t len = 0;

	buf[0] = '\0';
	/* In increasing order, each once: the smallest version above the last
	 * one listed, until there is none. At most 100 versions are kept. */
	for (;;) {
		next = 0;
		for (size_t i = 0; i < all->n; i++)
			if (uptrkv_hist__find(all, all->v[i].version) && all->v[i].version > last &&
			    (!next || all->v[i].version < next))
				next = all->v[i].version;
		if (!next || len >= sz)
			break;
		len += snprintf(buf + len, sz - len, "%s%u", len ? ", " : "", next);
		last = next;
	}
	if (!buf[0])
		snprintf(buf, sz, "none");
}

static int not_kept(struct rollout *c, const struct uptrkv_history *all, __u32 want)
{
	char list[256];

	if (!all->present && want)
		return uptrkv_err(c->e, -ENOENT, "deployment %s: version %u is not in its other slot, "
				  "and the deployment has no history yet (deployed by an older uptrkv; "
				  "its next rollout starts one)", c->res->name, want);
	if (!all->present)
		return uptrkv_err(c->e, -ENOENT, "deployment %s: no previous version to roll back to",
				  c->res->name);
	kept_versions(all, list, sizeof(list));
	if (!want)
		return uptrkv_err(c->e, -ENOENT, "deployment %s: no previous version to roll back to "
				  "(versions kept: %s)", c->res->name, list);
	return uptrkv_err(c->e, -ENOENT, "deployment %s: version %u is not kept in its history "
			  "(versions kept: %s; see 'uptrkv history %s')", c->res->name, want, list,
			  c->res->name);
}

/* The kept manifest, parsed as when it was recorded: its object: resolves
 * against the folder it was in then. */
static int parse_kept(struct rollout *c, const struct uptrkv_revision *r, const char *text,
		      struct uptrkv_manifest **out)
{
	UPTRKV_OPTS(uptrkv_manifest_opts, mo);
	struct uptrkv_diags diags = {};
	char dir[sizeof(r->manifest_path)];
	char *slash;
	int err;

	snprintf(dir, sizeof(dir), "%s", r->manifest_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	mo.base_dir = slash ? dir : ".";
	mo.display_name = r->manifest_path;
	err = uptrkv_manifest__parse(text, r->manifest_size, &mo, out, &diags);
	if (err)
		uptrkv_err(c->e, err, "deployment %s: the kept manifest of version %u does not parse: %s",
			   c->res->name, r->version, diags.n ? diags.v[0].msg : "unknown error");
	uptrkv_diags__free(&diags);
	return err;
}

/* Reads revision r's manifest and object back from the history, each
 * checked against its sha256. */
static int load_kept(struct rollout *c, struct uptrkv_hist *h, const struct uptrkv_revision *r,
		     struct uptrkv_manifest **out)
{
	char why[UPTRKV_ERRMSG_MAX];
	void *text = NULL;
	int err;

	if (!r->has_object || !r->has_manifest)
		return uptrkv_err(c->e, -ENOENT, "deployment %s: revision %llu (version %u) kept no "
				  "copy of its object", c->res->name, (unsigned long long)r->revision,
				  r->version);
	err = uptrkv_hist__blob(h, r->manifest_sha256, r->manifest_size, &text, c->e);
	err = err ?: uptrkv_hist__blob(h, r->object_sha256, r->object_size, &c->obj, c->e);
	if (err) {
		snprintf(why, sizeof(why), "%s", c->e ? c->e->msg : "");
		free(text);
		return uptrkv_err(c->e, err, "deployment %s: version %u (revision %llu): %s",
				  c->res->name, r->version, (unsigned long long)r->revision, why);
	}
	c->obj_len = r->object_size;
	err = parse_kept(c, r, text, out);
	free(text);
	return err;
}

/* A version no slot holds any more: from the history's copy. */
static int target_from_history(struct rollout *c, __u32 want, struct uptrkv_manifest **out)
{
	struct uptrkv_hist h = { -1, -1 };
	const struct uptrkv_revision *r;
	struct uptrkv_history all = {};
	int err;

	err = uptrkv_hist__open(&h, c->d, false, c->e);
	err = err ?: uptrkv_hist__read(&h, &all, c->e);
	if (err)
		goto out;
	r = want ? uptrkv_hist__find(&all, want)
		 : uptrkv_hist__previous(&all, c->res->old_manifest->version);
	err = r ? load_kept(c, &h, r, out) : not_kept(c, &all, want);
	c->res->from_history = !err;
out:
	uptrkv_history__free(&all);
	uptrkv_hist__close(&h);
	return err;
}

/*
 * What to return to: the version in the other slot when it is the one asked
 * for (or none was asked for): its programs are pinned and verified
 * already. Any other kept version comes from the history.
 */
static int rollback_target(struct rollout *c, struct uptrkv_manifest **out)
{
	__u32 want = UPTRKV_OPTS_GET(c->opts, to_version, 0);
	struct uptrkv_rollout_result *res = c->res;
	struct uptrkv_manifest *slot = NULL;
	int err;

	*out = NULL;
	res->from_version = res->old_manifest->version;
	if (want && want == res->from_version) {
		res->nothing_to_do = true;
		res->to_version = want;
		res->gen = c->gen;
		return 0;
	}
	err = uptrkv_deploy__manifest(c->d, c->to, &slot, c->e);
	if (err && err != -ENOENT)
		return err;
	if (slot && (!want || slot->version == want)) {
		*out = slot;
		return 0;
	}
	uptrkv_manifest__free(slot);
	return target_from_history(c, want, out);
}

int uptrkv_rollback(const char *name, const struct uptrkv_rollout_opts *opts,
		    struct uptrkv_rollout_result *res, struct uptrkv_error *e)
{
	struct rollout c = { .opts = opts, .res = res, .e = e, .t0 = now_ms() };
	struct uptrkv_manifest *prev = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", name ? name : "");
	err = check_opts(opts, e);
	if (err)
		return err;
	err = uptrkv_deploy__open(opt_bpffs(opts), name, &c.d, e);
	err = err ?: begin(&c, name);
	c.attempt = !err;
	err = err ?: uptrkv_deploy__manifest(c.d, c.from, &res->old_manifest, e);
	err = err ?: rollback_target(&c, &prev);
	if (err || res->nothing_to_do)
		goto out;
	res->to_version = prev->version;
	c.target_m = prev;
	err = uptrkv_plan__new(res->old_manifest, prev, &c.plan, e);
	res->plan = c.plan;
	if (err)
		goto out;
	err = plan_objstate(&c, prev, !res->from_history);
	if (err)
		goto out;
	force_compatible(c.plan);
	/* From the history, the version is loaded and verified again, and
	 * recorded in slot `to` like a rollout's; from the other slot, its
	 * pinned programs and record are reused as they are. Either way the
	 * object must be bound to the target's layout. */
	err = res->from_history ? check_object(&c, prev) : check_recorded_object(&c, prev);
	err = err ?: preflight(&c, res->from_history ? prev : NULL);
	if (err || UPTRKV_OPTS_GET(opts, dry_run, false)) {
		res->dry_run = !err;
		goto out;
	}
	err = do_switch(&c, res->from_history ? prev : NULL);
out:
	res->ms_total = now_ms() - c.t0;
	record_history(&c, prev, err, UPTRKV_OUTCOME_ROLLED_BACK);
	keep_admin(&c, err);
	/* The plan points into prev: keep it alive as long as the plan. */
	if (prev && res->plan)
		res->prev_manifest = prev;
	else
		uptrkv_manifest__free(prev);
	end(&c);
	return err;
}

int uptrkv_undeploy(const char *name, const struct uptrkv_rollout_opts *opts,
		    struct uptrkv_error *e)
{
	struct uptrkv_deploy *d = NULL;
	int err;

	err = check_opts(opts, e);
	if (err)
		return err;
	err = uptrkv_deploy__open(opt_bpffs(opts), name, &d, e);
	if (err == -ENOENT && uptrkv_deploy_name_ok(name)) {
		char dir[PATH_MAX];

		/* The folder of a first deploy killed before it pinned ctl. */
		uptrkv_deploy_dir(dir, sizeof(dir), opt_bpffs(opts), name);
		if (!access(dir, F_OK) && !uptrkv_deploy__remove_leftover(dir, NULL)) {
			uptrkv_deploy__remove_root(opt_bpffs(opts));
			return 0;
		}
	}
	err = err ?: uptrkv_deploy__lock_opts(d, opts, e);
	/* Unpinning the hook links detaches the programs; apps that still
	 * hold the store map keep their stores until they close it. */
	err = err ?: uptrkv_deploy__remove_dir(d->dir, e);
	uptrkv_deploy__close(d);
	/* The last deployment takes the uptrkv/ folder with it. */
	if (!err)
		uptrkv_deploy__remove_root(opt_bpffs(opts));
	return err;
}

void uptrkv_rollout_result__free(struct uptrkv_rollout_result *res)
{
	uptrkv_plan__free(res->plan);
	uptrkv_manifest__free(res->old_manifest);
	uptrkv_manifest__free(res->prev_manifest);
	memset(res, 0, sizeof(*res));
}
