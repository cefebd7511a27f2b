// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What `uptrkv status` reports: read from the pins, never changed. */
#include <bpf/bpf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "history.h"
#include "hook.h"

static __u32 prog_id_in(int disp_fd, __u32 slot)
{
	__u32 id = 0;

	/* A prog array lookup from user space gives the program's id. */
	if (bpf_map_lookup_elem(disp_fd, &slot, &id))
		return 0;
	return id;
}

static void read_hook(struct uptrkv_deploy *d, const char *name, struct uptrkv_status_hook *h)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(h->name, sizeof(h->name), "%s", name);
	uptrkv_pin_path(path, sizeof(path), d->dir, "%s/%s/%s", UPTRKV_PIN_HOOKS, name,
			UPTRKV_PIN_HOOK_LINK);
	fd = bpf_obj_get(path);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		h->link_id = info.id;
		h->link_type = info.type;
		h->entry_prog_id = info.prog_id;
	}
	if (fd >= 0)
		close(fd);
	uptrkv_pin_path(path, sizeof(path), d->dir, "%s/%s/%s", UPTRKV_PIN_HOOKS, name,
			UPTRKV_PIN_HOOK_DISP);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	for (__u32 s = 0; s < UPTRKV_NR_SLOTS; s++)
		h->slot_prog_id[s] = prog_id_in(fd, s);
	close(fd);
}

static int read_hooks(struct uptrkv_deploy *d, struct uptrkv_status *st, struct uptrkv_error *e)
{
	char **names = NULL;
	size_t n = 0;
	int err;

	err = uptrkv_hook__list(d, &names, &n, e);
	if (err)
		return err;
	st->hooks = calloc(n ? n : 1, sizeof(*st->hooks));
	if (!st->hooks) {
		uptrkv_strv__free(names, n);
		return uptrkv_err(e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		read_hook(d, names[i], &st->hooks[i]);
	st->nr_hooks = n;
	uptrkv_strv__free(names, n);
	return 0;
}

static __u32 hook_prog(const struct uptrkv_status *st, const char *hook, __u32 slot)
{
	for (size_t i = 0; i < st->nr_hooks; i++)
		if (!strcmp(st->hooks[i].name, hook))
			return st->hooks[i].slot_prog_id[slot];
	return 0;
}

static void read_slot(struct uptrkv_deploy *d, struct uptrkv_status *st, __u32 s)
{
	struct uptrkv_status_slot *ss = &st->slot[s];
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_state_rec rec;

	if (uptrkv_deploy__read_rec(d, s, &rec, NULL))
		return;
	ss->present = true;
	ss->version = rec.version;
	ss->layout_hash = rec.layout_hash;
	ss->deployed_at = rec.deployed_at;
	ss->nr_progs = rec.nr_progs < UPTRKV_MAX_PROGS ? rec.nr_progs : UPTRKV_MAX_PROGS;
	for (size_t i = 0; i < ss->nr_progs; i++) {
		snprintf(ss->progs[i].name, sizeof(ss->progs[i].name), "%s", rec.progs[i].name);
		snprintf(ss->progs[i].hook, sizeof(ss->progs[i].hook), "%s", rec.progs[i].hook);
		ss->progs[i].prog_id = hook_prog(st, rec.progs[i].hook, s);
	}
	if (!uptrkv_deploy__manifest(d, s, &m, NULL))
		snprintf(ss->object, sizeof(ss->object), "%s", m->object);
	uptrkv_manifest__free(m);
}

static __u64 store_used(const struct uptrkv_snapshot *s)
{
	struct uptrkv_alloc a;
	__u64 total;

	uptrkv_alloc__init(&a, s->hdr.page_mask);
	for (__u32 slot = 0; slot < UPTRKV_NR_SLOTS; slot++)
		if (uptrkv_slot_live(&s->hdr, slot))
			uptrkv_alloc__mark_meta(&a, &s->meta[slot]);
	total = (__u64)__builtin_popcount(s->hdr.page_mask) * UPTRKV_PAGE_SIZE;
	return total - uptrkv_alloc__free_bytes(&a);
}

static int count_pids(const struct uptrkv_task_ref *t, size_t n)
{
	int pids = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = t[j].tgid == t[i].tgid;
		pids += !seen;
	}
	return pids;
}

static int read_stores(struct uptrkv_deploy *d, struct uptrkv_status *st, struct uptrkv_error *e)
{
	struct uptrkv_task_ref *tasks = NULL;
	struct uptrkv_snapshot *snap = NULL;
	struct uptrkv_admin *a = NULL;
	size_t n = 0;
	int err;

	if (d->store_fd < 0)
		return 0;
	err = uptrkv_admin__open(d->store_fd, NULL, &a, e);
	err = err ?: uptrkv_admin__list(a, &tasks, &n, e);
	if (err)
		goto out;
	snap = malloc(sizeof(*snap));
	if (!snap) {
		err = uptrkv_err(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (uptrkv_admin__snapshot(a, tasks[i].tid, snap, NULL))
			continue;	/* exited meanwhile */
		st->nr_stores++;
		st->bytes_used += store_used(snap);
		st->bytes_registered += (__u64)(3 + __builtin_popcount(snap->hdr.page_mask)) *
					UPTRKV_PAGE_SIZE;
	}
	st->nr_processes = count_pids(tasks, n);
out:
	free(snap);
	free(tasks);
	uptrkv_admin__close(a);
	return err;
}

/*
 * When the live version was deployed and, if a rollback made it live, when.
 * The slot's own record time is when its programs were last loaded (a
 * rollback to the other slot does not change it, one from the history
 * does), so the history decides; a deployment without one has only that.
 */
static void read_times(struct uptrkv_deploy *d, struct uptrkv_status *st)
{
	const struct uptrkv_revision *live;
	struct uptrkv_hist h = { -1, -1 };
	struct uptrkv_history all = {};

	st->deployed_at = st->slot[st->active].deployed_at;
	if (uptrkv_hist__open(&h, d, false, NULL) || uptrkv_hist__read(&h, &all, NULL))
		goto out;
	live = uptrkv_hist__live(&all, d->ctl->version[st->active]);
	if (!live)
		goto out;
	if (live->deployed_at)
		st->deployed_at = live->deployed_at;
	if (live->outcome == UPTRKV_OUTCOME_ROLLED_BACK)
		st->rolled_back_at = live->when;
out:
	uptrkv_history__free(&all);
	uptrkv_hist__close(&h);
}

int uptrkv_deploy__status(const char *bpffs, const char *name, struct uptrkv_status *st,
			  struct uptrkv_error *e)
{
	struct uptrkv_deploy *d = NULL;
	int err;

	memset(st, 0, sizeof(*st));
	err = uptrkv_deploy__open(bpffs ? bpffs : UPTRKV_DEFAULT_BPFFS, name, &d, e);
	if (err)
		return err;
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->gen = d->ctl->gen;
	st->active = UPTRKV_SLOT(st->gen);
	st->step = d->ctl->step;
	err = read_hooks(d, st, e);
	for (__u32 s = 0; !err && s < UPTRKV_NR_SLOTS; s++)
		read_slot(d, st, s);
	if (!err)
		read_times(d, st);
	err = err ?: read_stores(d, st, e);
	uptrkv_deploy__close(d);
	return err;
}

void uptrkv_status__free(struct uptrkv_status *st)
{
	free(st->hooks);
	memset(st, 0, sizeof(*st));
}
