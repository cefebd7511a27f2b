// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Admin access to live stores through the admin BPF programs
 * (bpf/uptrkv_admin.bpf.c): list the registered tasks, snapshot a task's
 * regions, apply batches of writes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "convert.h"
#include "deploy_internal.h"

/* Generated with the name uptrkv_admin_skel (Makefile): uptrkv_admin is ours. */
#include "uptrkv_admin.skel.h"
#include "uptrkv_admin_sha.h"

/* The admin programs, in the order they are pinned. */
enum admin_prog { P_LIST, P_SNAP, P_TAIL, P_PAGE, P_WRITE, P_SMETA, P_MOVE, NR_PROGS };

static const char *const prog_pin[NR_PROGS] = { "list", "snapshot", "snapshot_tail", "read_page",
						 "write", "snapshot_meta", "move" };

struct uptrkv_admin {
	int fd[NR_PROGS];		/* ours: loaded here, or from the pins */
	int iter_fd;			/* the task iterator link, made on the first list */
	int store_fd;			/* our dup of the caller's fd */
	bool reused;			/* the programs came from pin_dir */
	char pin_name[32];		/* admin-HASH of the embedded object */
	struct uptrkv_snap_meta *smeta;	/* scratch of snapshot_meta, 12 KiB */
};

_Static_assert(offsetof(struct uptrkv_snapshot, seq_after) -
	       offsetof(struct uptrkv_snapshot, data[UPTRKV_SNAP_SPLIT]) ==
	       offsetof(struct uptrkv_snap_tail, seq_after), "snapshot tail layout");
_Static_assert(offsetof(struct uptrkv_snapshot, seq_after) % 8 == 0 &&
	       offsetof(struct uptrkv_snapshot, data) % 8 == 0,
	       "8-byte ctx accesses must be aligned");
_Static_assert(sizeof(struct uptrkv_snapshot) - UPTRKV_SNAP_HEAD_SIZE ==
	       sizeof(struct uptrkv_snap_tail), "snapshot tail size");
_Static_assert(offsetof(struct uptrkv_snap_meta, hdr) % 8 == 0 &&
	       offsetof(struct uptrkv_snap_meta, meta) % 8 == 0 &&
	       offsetof(struct uptrkv_snap_meta, seq_after) % 8 == 0 &&
	       sizeof(struct uptrkv_snap_meta) < 32768, "snapshot_meta context");
_Static_assert(UPTRKV_SNAP_HEAD_SIZE < 32768 && sizeof(struct uptrkv_snap_tail) < 32768,
	       "each run's context is addressable with 16-bit offsets");

#define CAP_HINT "needs CAP_BPF and CAP_PERFMON (run as root)"

static int check_value_btf(const struct bpf_map_info *info, struct uptrkv_error *e)
{
	const struct btf_type *t;
	struct btf *btf;
	const char *name;
	int err = 0;

	if (!info->btf_id || !info->btf_value_type_id)
		return uptrkv_err(e, -EINVAL,
				  "not an uptrkv store map: map '%s' has no BTF value type",
				  info->name);
	btf = btf__load_from_kernel_by_id(info->btf_id);
	/* BTF by id needs CAP_SYS_ADMIN. Without it the type and size checks
	 * stand alone: a map without uptr fields of these types still fails
	 * the admin programs' verification, so nothing is read wrongly. */
	if (!btf && (errno == EPERM || errno == EACCES))
		return 0;
	if (!btf)
		return uptrkv_errno(e, -errno, "not an uptrkv store map: reading BTF of map '%s'",
				    info->name);
	t = btf__type_by_id(btf, info->btf_value_type_id);
	name = t ? btf__name_by_offset(btf, t->name_off) : NULL;
	if (!t || !btf_is_struct(t) || !name || strcmp(name, "uptrkv_task_store"))
		err = uptrkv_err(e, -EINVAL,
				 "not an uptrkv store map: map '%s' has value type '%s', expected struct uptrkv_task_store",
				 info->name, name && *name ? name : "?");
	btf__free(btf);
	return err;
}

int uptrkv_store_map__check(int fd, struct uptrkv_error *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return uptrkv_errno(e, -errno, "not an uptrkv store map: fd %d", fd);
	if (info.type != BPF_MAP_TYPE_TASK_STORAGE)
		return uptrkv_err(e, -EINVAL,
				  "not an uptrkv store map: map '%s' has type %u, expected task storage",
				  info.name, info.type);
	if (info.value_size != sizeof(struct uptrkv_task_store))
		return uptrkv_err(e, -EINVAL,
				  "not an uptrkv store map: map '%s' has %u-byte values, expected %zu",
				  info.name, info.value_size, sizeof(struct uptrkv_task_store));
	return check_value_btf(&info, e);
}

/*
 * Loading and verifying the admin object costs tens of milliseconds (about
 * 14K instructions, mostly unrolled page copies), more than a small
 * rollout's own work. So a deployment keeps them pinned in its folder and
 * every later command reuses them. The folder's name is a hash of the
 * embedded object, so a uptrkv built with other admin programs never runs
 * the old ones: it loads and pins its own, and removes the others. The pins
 * are trusted as the rest of the deployment's folder is (its slot-S/
 * programs run on every event): whoever may write there may already
 * replace what runs.
 */
/* Where one process pins a set before renaming it: bpffs refuses dots. */
#define ADMIN_TMP_PREFIX "admintmp-"

static void pin_name(char *buf, size_t sz)
{
	/* The SHA-256 of uptrkv_admin_skel__elf_bytes(), from the build
	 * (Makefile): its first 64 bits name the set. */
	snprintf(buf, sz, UPTRKV_PIN_ADMIN_PREFIX "%.16s", UPTRKV_ADMIN_SHA256);
}

/* A pinned program counts only if it runs against this very store map. */
static bool uses_map(int prog_fd, __u32 map_id)
{
	struct bpf_prog_info info = {};
	__u32 ids[8], len = sizeof(info);

	info.nr_map_ids = 8;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < 8; i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static void close_progs(struct uptrkv_admin *a)
{
	for (int i = 0; i < NR_PROGS; i++) {
		if (a->fd[i] >= 0)
			close(a->fd[i]);
		a->fd[i] = -1;
	}
}

/* The programs pinned in dir/NAME, if all are there and use this store. */
static bool reuse_pinned(struct uptrkv_admin *a, const char *dir, const char *name)
{
	__u32 store_id = map_id_of(a->store_fd);
	char path[PATH_MAX];

	for (int i = 0; i < NR_PROGS; i++) {
		if (uptrkv_pin_path(path, sizeof(path), dir, "%s/%s", name, prog_pin[i]))
			break;
		a->fd[i] = bpf_obj_get(path);
		if (a->fd[i] < 0 || !store_id || !uses_map(a->fd[i], store_id))
			break;
		if (i == NR_PROGS - 1)
			return a->reused = true;
	}
	close_progs(a);
	return false;
}

/* Other uptrkv builds' admin programs: they are never run by this one. */
static void remove_stale(const char *dir, const char *keep)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dh = opendir(dir);

	if (!dh)
		return;
	while ((de = readdir(dh))) {
		if (strncmp(de->d_name, UPTRKV_PIN_ADMIN_PREFIX, strlen(UPTRKV_PIN_ADMIN_PREFIX)) ||
		    !strcmp(de->d_name, keep))
			continue;
		if (!uptrkv_pin_path(path, sizeof(path), dir, "%s", de->d_name))
			uptrkv_deploy__remove_dir(path, NULL);
	}
	closedir(dh);
}

/*
 * Pins the programs as dir/NAME: into a folder of this process's own,
 * renamed into place at once, so that nobody ever reuses half a set.
 */
int uptrkv_admin__pin(struct uptrkv_admin *a, const char *dir)
{
	char tmp[PATH_MAX], path[PATH_MAX], final[PATH_MAX];
	const char *name = a->pin_name;
	int err = 0;

	if (a->reused)
		return 0;
	if (uptrkv_pin_path(tmp, sizeof(tmp), dir, ADMIN_TMP_PREFIX "%d", (int)getpid()) ||
	    uptrkv_pin_path(final, sizeof(final), dir, "%s", name))
		return -ENAMETOOLONG;
	if (mkdir(tmp, 0700))
		return -errno;
	for (int i = 0; !err && i < NR_PROGS; i++) {
		err = uptrkv_pin_path(path, sizeof(path), tmp, "%s", prog_pin[i]);
		if (!err && bpf_obj_pin(a->fd[i], path))
			err = -errno;
	}
	if (!err && rename(tmp, final)) {
		err = -errno;
		/* A set under this name that open did not reuse (planted, or
		 * for another store map) is replaced. */
		if (err == -ENOTEMPTY || err == -EEXIST) {
			uptrkv_deploy__remove_dir(final, NULL);
			err = rename(tmp, final) ? -errno : 0;
		}
	}
	if (err) {
		uptrkv_deploy__remove_dir(tmp, NULL);
		return err;
	}
	remove_stale(dir, name);
	a->reused = true;
	return 0;
}

static int load_progs(struct uptrkv_admin *a, struct uptrkv_error *e)
{
	struct uptrkv_admin_skel *skel = uptrkv_admin_skel__open();
	struct bpf_program *progs[NR_PROGS];
	int err;

	if (!skel)
		return uptrkv_errno(e, -errno, "opening the admin BPF object");
	err = bpf_map__reuse_fd(skel->maps.uptrkv_store, a->store_fd);
	if (err) {
		err = uptrkv_errno(e, err < 0 ? err : -EINVAL, "admin: reusing the store map");
		goto out;
	}
	err = uptrkv_admin_skel__load(skel);
	if (err) {
		err = err < 0 ? err : -EINVAL;
		if (err == -EPERM || err == -EACCES)
			uptrkv_errno(e, err, "loading the admin BPF programs (" CAP_HINT ")");
		else
			uptrkv_errno(e, err, "loading the admin BPF programs");
		goto out;
	}
	progs[P_LIST] = skel->progs.uptrkv_admin_list;
	progs[P_SNAP] = skel->progs.uptrkv_admin_snapshot;
	progs[P_TAIL] = skel->progs.uptrkv_admin_snapshot_tail;
	progs[P_PAGE] = skel->progs.uptrkv_admin_read_page;
	progs[P_WRITE] = skel->progs.uptrkv_admin_write;
	progs[P_SMETA] = skel->progs.uptrkv_admin_snapshot_meta;
	progs[P_MOVE] = skel->progs.uptrkv_admin_move;
	/* The programs outlive the skeleton through our own fds. */
	for (int i = 0; !err && i < NR_PROGS; i++) {
		a->fd[i] = fcntl(bpf_program__fd(progs[i]), F_DUPFD_CLOEXEC, 3);
		if (a->fd[i] < 0)
			err = uptrkv_errno(e, -errno, "admin: keeping the programs");
	}
out:
	uptrkv_admin_skel__destroy(skel);
	return err;
}

int uptrkv_admin__open(int store_fd, const struct uptrkv_admin_opts *opts,
		       struct uptrkv_admin **out, struct uptrkv_error *e)
{
	const char *dir = UPTRKV_OPTS_GET(opts, pin_dir, NULL);
	struct uptrkv_admin *a;
	int err;

	*out = NULL;
	err = uptrkv_store_map__check(store_fd, e);
	if (err)
		return err;
	a = calloc(1, sizeof(*a));
	if (!a)
		return uptrkv_err(e, -ENOMEM, "admin: out of memory");
	a->iter_fd = -1;
	for (int i = 0; i < NR_PROGS; i++)
		a->fd[i] = -1;
	a->store_fd = fcntl(store_fd, F_DUPFD_CLOEXEC, 3);
	if (a->store_fd < 0) {
		err = uptrkv_errno(e, -errno, "admin: keeping the store map");
		goto err_out;
	}
	/* Hashed once per open: uptrkv_admin__pin names the set the same. */
	pin_name(a->pin_name, sizeof(a->pin_name));
	if (dir && reuse_pinned(a, dir, a->pin_name))
		goto done;
	err = load_progs(a, e);
	if (err)
		goto err_out;
done:
	*out = a;
	return 0;
err_out:
	uptrkv_admin__close(a);
	return err;
}

bool uptrkv_admin__reused(const struct uptrkv_admin *a)
{
	return a && a->reused;
}

void uptrkv_admin__close(struct uptrkv_admin *a)
{
	if (!a)
		return;
	if (a->iter_fd >= 0)
		close(a->iter_fd);
	close_progs(a);
	if (a->store_fd >= 0)
		close(a->store_fd);
	free(a->smeta);
	free(a);
}

/* ---------------------------------------------------------------- list */

static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (cap - n < 4096) {
			nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(b);
			return r;
		}
		if (r == 0)
			break;
		n += r;
	}
	*buf = b;
	*len = n;
	return 0;
}

int uptrkv_admin__list(struct uptrkv_admin *a, struct uptrkv_task_ref **tasks, size_t *n,
		       struct uptrkv_error *e)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, err;

	*tasks = NULL;
	*n = 0;
	if (a->iter_fd < 0) {
		a->iter_fd = bpf_link_create(a->fd[P_LIST], 0, BPF_TRACE_ITER, NULL);
		if (a->iter_fd < 0)
			return uptrkv_errno(e, -errno, "listing stores: attaching the task iterator");
	}
	fd = bpf_iter_create(a->iter_fd);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "listing stores: creating the task iterator");
	err = read_all(fd, &buf, &len);
	close(fd);
	if (err)
		return uptrkv_errno(e, err, "listing stores: reading the task iterator");
	if (len % sizeof(struct uptrkv_task_ref)) {
		free(buf);
		return uptrkv_err(e, -EPROTO, "listing stores: iterator returned %zu bytes", len);
	}
	*tasks = (struct uptrkv_task_ref *)buf;
	*n = len / sizeof(struct uptrkv_task_ref);
	if (!*n) {
		free(buf);
		*tasks = NULL;
	}
	return 0;
}

/* ------------------------------------------------------------ snapshot */

static const char *run_err_str(int err)
{
	switch (err) {
	case -ESRCH: return "no such task";
	case -ENOENT: return "the task has no uptrkv store element";
	case -EFAULT: return "a region the operation needs is not registered";
	case -EINVAL: return "invalid argument";
	default: return NULL;
	}
}

static int run_prog(int prog_fd, void *ctx, size_t ctx_sz, const char *what, __u32 tid,
		    struct uptrkv_error *e)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = ctx, .ctx_size_in = ctx_sz);
	const char *why;
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &topts);
	if (err) {
		err = -errno;
		if (err == -EPERM || err == -EACCES)
			return uptrkv_errno(e, err, "%s tid %u (" CAP_HINT ")", what, tid);
		return uptrkv_errno(e, err, "%s tid %u: running the admin program", what, tid);
	}
	err = (int)topts.retval;
	if (!err)
		return 0;
	why = run_err_str(err);
	if (why)
		return uptrkv_err(e, err, "%s tid %u: %s", what, tid, why);
	return uptrkv_errno(e, err, "%s tid %u", what, tid);
}

int uptrkv_admin__snapshot(struct uptrkv_admin *a, __u32 tid, struct uptrkv_snapshot *snap,
			   struct uptrkv_error *e)
{
	int err;

	if (!tid || tid > INT32_MAX)
		return uptrkv_err(e, -EINVAL, "snapshot: bad tid %u", tid);
	snap->tid = tid;
	snap->present = 0;
	err = run_prog(a->fd[P_SNAP], snap, UPTRKV_SNAP_HEAD_SIZE, "snapshot of", tid, e);
	if (err)
		return err;
	snap->tail_tid = tid;
	snap->tail_present = 0;
	err = run_prog(a->fd[P_TAIL], &snap->data[UPTRKV_SNAP_SPLIT], sizeof(struct uptrkv_snap_tail),
		       "snapshot of", tid, e);
	if (err)
		return err;
	/* Regions registered or dropped between the two runs: a changed
	 * store, read it again. */
	if (snap->tail_present != snap->present)
		return uptrkv_err(e, -EAGAIN, "snapshot of tid %u: the store changed during the copy",
				  tid);
	/* The program leaves absent regions as they were in our buffer. */
	for (unsigned int s = 0; s < UPTRKV_NR_SLOTS; s++)
		if (!(snap->present & UPTRKV_R_BIT(UPTRKV_R_META(s))))
			memset(&snap->meta[s], 0, sizeof(snap->meta[s]));
	for (unsigned int i = 0; i < UPTRKV_MAX_PAGES; i++)
		if (!(snap->present & UPTRKV_R_BIT(UPTRKV_R_DATA(i))))
			memset(&snap->data[i], 0, sizeof(snap->data[i]));
	return 0;
}

/*
 * One run over a quarter of the bytes of a whole snapshot: a rollout plans
 * from the header and the metas, so it snapshots thousands of stores this
 * way. What the run copied is as consistent as in a whole snapshot, whose
 * first run copies the same regions.
 */
int uptrkv_admin__snapshot_meta(struct uptrkv_admin *a, __u32 tid, struct uptrkv_snapshot *snap,
				struct uptrkv_error *e)
{
	struct uptrkv_snap_meta *m = a->smeta;
	int err;

	if (!tid || tid > INT32_MAX)
		return uptrkv_err(e, -EINVAL, "snapshot: bad tid %u", tid);
	if (!m)
		m = a->smeta = malloc(sizeof(*m));
	if (!m)
		return uptrkv_err(e, -ENOMEM, "snapshot: out of memory");
	m->tid = tid;
	m->present = 0;
	err = run_prog(a->fd[P_SMETA], m, sizeof(*m), "snapshot of", tid, e);
	if (err)
		return err;
	snap->tid = tid;
	snap->present = m->present;
	snap->tail_present = m->present;
	memcpy(&snap->hdr, &m->hdr, sizeof(snap->hdr));
	/* The program leaves absent metas as they were in our buffer. */
	for (unsigned int s = 0; s < UPTRKV_NR_SLOTS; s++) {
		if (m->present & UPTRKV_R_BIT(UPTRKV_R_META(s)))
			memcpy(&snap->meta[s], &m->meta[s], sizeof(snap->meta[s]));
		else
			memset(&snap->meta[s], 0, sizeof(snap->meta[s]));
	}
	memcpy(snap->seq_after, m->seq_after, sizeof(snap->seq_after));
	snap->struct_seq_after = m->struct_seq_after;
	return 0;
}

int uptrkv_admin__read_page(struct uptrkv_admin *a, __u32 tid, unsigned int region,
			    __u32 seq_idx, struct uptrkv_page_read *r, struct uptrkv_error *e)
{
	if (!tid || tid > INT32_MAX)
		return uptrkv_err(e, -EINVAL, "read page: bad tid %u", tid);
	if (region < UPTRKV_R_META0 || region >= __UPTRKV_R_MAX)
		return uptrkv_err(e, -EINVAL, "read page: bad region %u", region);
	r->tid = tid;
	r->region = region;
	r->seq_idx = seq_idx % UPTRKV_NR_SEQ;
	return run_prog(a->fd[P_PAGE], r, sizeof(*r), "reading a page of", tid, e);
}

/* --------------------------------------------------------------- write */

static int check_write(const struct uptrkv_write *w, size_t i, struct uptrkv_error *e)
{
	__u32 rsz;

	if (w->region >= __UPTRKV_R_MAX)
		return uptrkv_err(e, -EINVAL, "write %zu: bad region %u", i, w->region);
	rsz = uptrkv_region__size(w->region);
	switch (w->op) {
	case UPTRKV_W_COPY:
	case UPTRKV_W_INLINE:
		if (!w->len || w->off + (__u32)w->len > rsz)
			return uptrkv_err(e, -EINVAL, "write %zu: %u bytes at %u do not fit region %u",
					  i, w->len, w->off, w->region);
		if (w->op == UPTRKV_W_INLINE && (w->len > 8 || w->region == UPTRKV_R_HDR))
			return uptrkv_err(e, -EINVAL, "write %zu: inline writes are 1..8 bytes, not to the header",
					  i);
		if (w->op == UPTRKV_W_COPY && !w->src)
			return uptrkv_err(e, -EINVAL, "write %zu: no source", i);
		return 0;
	case UPTRKV_W_LOCK:
		if (w->region != UPTRKV_R_HDR)
			return uptrkv_err(e, -EINVAL, "write %zu: a lock is a header word", i);
		/* fall through */
	case UPTRKV_W_STORE32:
	case UPTRKV_W_ADD32:
		if ((w->off & 3) || w->off + 4u > rsz)
			return uptrkv_err(e, -EINVAL, "write %zu: bad 32-bit offset %u in region %u",
					  i, w->off, w->region);
		return 0;
	case UPTRKV_W_CMP:
		if (w->region == UPTRKV_R_HDR || !w->len || w->off + (__u32)w->len > rsz || !w->src)
			return uptrkv_err(e, -EINVAL, "write %zu: compare of %u bytes at %u in region %u",
					  i, w->len, w->off, w->region);
		return 0;
	case UPTRKV_W_UNLOCK:
		return 0;
	case UPTRKV_W_MOVE:
		if ((w->region != UPTRKV_R_META0 && w->region != UPTRKV_R_META1) ||
		    w->val >= UPTRKV_MAX_KEYS)
			return uptrkv_err(e, -EINVAL, "write %zu: move of key %u in region %u",
					  i, w->val, w->region);
		return 0;
	default:
		return uptrkv_err(e, -EINVAL, "write %zu: bad op %u", i, w->op);
	}
}

/* Writes per program run: the batch is copied to turn short copies into
 * inline writes, in pieces of this many. */
#define WRITE_RUN_MAX	8192u

/* A copy of up to 8 bytes outside the header carries its bytes itself. */
static void inline_short(struct uptrkv_write *w)
{
	__u64 v = 0;

	if (w->op != UPTRKV_W_COPY || w->len > 8 || w->region == UPTRKV_R_HDR)
		return;
	memcpy(&v, (const void *)(unsigned long)w->src, w->len);
	w->op = UPTRKV_W_INLINE;
	w->src = v;
}

/* Groups must be closed, not nested, and short enough for one run. */
static int check_groups(const struct uptrkv_write *w, size_t n, struct uptrkv_error *e)
{
	size_t open = n;

	for (size_t i = 0; i < n; i++) {
		if (w[i].op == UPTRKV_W_LOCK && open != n)
			return uptrkv_err(e, -EINVAL, "write %zu: a LOCK inside the group of write %zu", i, open);
		if (w[i].op == UPTRKV_W_LOCK)
			open = i;
		if (open != n && i - open + 1 > WRITE_RUN_MAX)
			return uptrkv_err(e, -E2BIG, "write %zu: group longer than %u writes", open,
					  WRITE_RUN_MAX);
		if (w[i].op == UPTRKV_W_UNLOCK && open == n)
			return uptrkv_err(e, -EINVAL, "write %zu: UNLOCK without LOCK", i);
		if (w[i].op == UPTRKV_W_UNLOCK)
			open = n;
	}
	if (open != n)
		return uptrkv_err(e, -EINVAL, "write %zu: LOCK without UNLOCK", open);
	return 0;
}

/* Writes from w[0] that one run applies: up to WRITE_RUN_MAX, not cutting
 * a group in two (a lock lives for one run). */
static size_t run_length(const struct uptrkv_write *w, size_t n)
{
	size_t len = n < WRITE_RUN_MAX ? n : WRITE_RUN_MAX;

	if (len == n)
		return len;
	for (size_t i = len; i > 0; i--) {
		if (w[i - 1].op == UPTRKV_W_UNLOCK)
			return i;
		if (w[i - 1].op == UPTRKV_W_LOCK)
			return i - 1;
	}
	return len;
}

int uptrkv_admin__write(struct uptrkv_admin *a, __u32 tid, const struct uptrkv_write *w,
			size_t n, struct uptrkv_error *e)
{
	return uptrkv_admin__write_groups(a, tid, w, n, NULL, NULL, e);
}

int uptrkv_admin__write_groups(struct uptrkv_admin *a, __u32 tid, const struct uptrkv_write *w,
			       size_t n, size_t *skipped, size_t *busy, struct uptrkv_error *e)
{
	struct uptrkv_write_ctx c;
	struct uptrkv_write *run;
	size_t i, done = 0, batch;
	__u32 need = 0;
	int err = 0;

	if (skipped)
		*skipped = 0;
	if (busy)
		*busy = 0;
	if (!tid || tid > INT32_MAX)
		return uptrkv_err(e, -EINVAL, "write: bad tid %u", tid);
	/* Everything is checked before the first write. */
	for (i = 0; i < n; i++) {
		err = check_write(&w[i], i, e);
		if (err)
			return err;
		need |= UPTRKV_R_BIT(w[i].region);
	}
	err = check_groups(w, n, e);
	if (err)
		return err;
	run = malloc(sizeof(*run) * (n < WRITE_RUN_MAX ? n : WRITE_RUN_MAX) + 1);
	if (!run)
		return uptrkv_err(e, -ENOMEM, "write: out of memory");
	while (done < n) {
		batch = run_length(&w[done], n - done);
		if (!batch) {	/* cannot happen after check_groups */
			err = uptrkv_err(e, -E2BIG, "write: a group does not fit one run");
			break;
		}
		memcpy(run, &w[done], batch * sizeof(*run));
		for (i = 0; i < batch; i++)
			inline_short(&run[i]);
		memset(&c, 0, sizeof(c));
		c.tid = tid;
		c.nr = batch;
		c.writes = (__u64)(unsigned long)run;
		c.need = need;
		err = run_prog(a->fd[P_WRITE], &c, sizeof(c), "writing to", tid, e);
		if (skipped)
			*skipped += c.skipped;
		if (busy)
			*busy += c.busy;
		if (err) {
			if (err != -ESRCH && err != -ENOENT && c.done < batch && c.err)
				uptrkv_err(e, err, "writing to tid %u: write %zu (region %u, offset %u) failed: %s",
					   tid, done + c.done, w[done + c.done].region,
					   w[done + c.done].off, strerror(-err));
			break;
		}
		done += batch;
	}
	free(run);
	return err;
}

int uptrkv_admin__move_slot(struct uptrkv_admin *a, __u32 tid, __u32 slot,
			    struct uptrkv_move_ctx *out, struct uptrkv_error *e)
{
	struct uptrkv_move_ctx c = { .tid = (__s32)tid, .slot = slot };
	int err;

	memset(out, 0, sizeof(*out));
	if (!tid || tid > INT32_MAX)
		return uptrkv_err(e, -EINVAL, "move: bad tid %u", tid);
	if (slot >= UPTRKV_NR_SLOTS)
		return uptrkv_err(e, -EINVAL, "move: bad meta slot %u", slot);
	err = run_prog(a->fd[P_MOVE], &c, sizeof(c), "moving values of", tid, e);
	*out = c;
	/* The arguments were checked: a corrupt pair is the one -EINVAL. */
	if (err == -EINVAL)
		uptrkv_err(e, err, "moving values of tid %u: key %u: its two entries are not a forwarded pair",
			   tid, c.err_key);
	return err;
}

/* ------------------------------------------------------- reading snaps */

int uptrkv_snapshot__check(const struct uptrkv_snapshot *s, struct uptrkv_error *e)
{
	if (s->hdr.magic != UPTRKV_MAGIC)
		return uptrkv_err(e, -EPROTO,
				  "tid %d: store header has magic 0x%08x, expected 0x%08x: not an uptrkv store, refusing to decode it",
				  s->tid, s->hdr.magic, UPTRKV_MAGIC);
	if (s->hdr.format != UPTRKV_FORMAT)
		return uptrkv_err(e, -EPROTO,
				  "tid %d: store format %u is not understood (this uptrkv reads format %u), refusing to decode it",
				  s->tid, s->hdr.format, UPTRKV_FORMAT);
	return 0;
}

/* Where a plain entry's bytes are in the snapshot. */
static int snap_extent(const struct uptrkv_snapshot *s, __u32 ent, const void **ptr, __u32 *size)
{
	__u32 page = UPTRKV_ENT_PAGE(ent), off = UPTRKV_ENT_OFF(ent), sz = UPTRKV_ENT_SIZE(ent);

	if (!UPTRKV_ENT_IS_VALID(ent))
		return -ENOENT;
	if ((ent & UPTRKV_ENT_FLAGS_MASK) || !sz || sz > UPTRKV_MAX_VALUE ||
	    off + sz > UPTRKV_PAGE_SIZE)
		return -EUCLEAN;
	if (!(s->present & UPTRKV_R_BIT(UPTRKV_R_DATA(page))))
		return -EFAULT;
	*ptr = s->data[page].bytes + off;
	*size = sz;
	return 0;
}

/* Key's entry in slot, or 0 if the slot's meta was not copied. */
static __u32 snap_ent(const struct uptrkv_snapshot *s, unsigned int slot, __u32 key)
{
	if (slot >= UPTRKV_NR_SLOTS || key >= UPTRKV_MAX_KEYS ||
	    !(s->present & UPTRKV_R_BIT(UPTRKV_R_META(slot))))
		return 0;
	return s->meta[slot].ent[key];
}

int uptrkv_snapshot__value(const struct uptrkv_snapshot *s, unsigned int slot, __u32 key,
			   const void **ptr, __u32 *size)
{
	return snap_extent(s, snap_ent(s, slot, key), ptr, size);
}

int uptrkv_snapshot__read(const struct uptrkv_snapshot *s, unsigned int slot, __u32 key,
			  void *buf, __u32 *size)
{
	__u32 ent = snap_ent(s, slot, key), ssz;
	const void *p, *src;
	int err;

	if (!UPTRKV_ENT_IS_FWD(ent) || (ent & UPTRKV_ENT_RSVD_MASK)) {
		err = snap_extent(s, ent, &p, size);
		if (!err)
			memcpy(buf, p, *size);
		return err;
	}
	/* Forwarded: its own extent, then the other slot's value over it. */
	err = snap_extent(s, UPTRKV_ENT_PLAIN(ent), &p, size);
	if (err)
		return err;
	memcpy(buf, p, *size);
	err = snap_extent(s, snap_ent(s, slot ^ 1, key), &src, &ssz);
	if (err)
		return err;	/* -ENOENT: deleted before it was moved, so gone */
	return uptrkv_convert_over(buf, *size, src, ssz, UPTRKV_ENT_CONV(ent)) ? -EUCLEAN : 0;
}

bool uptrkv_snapshot__stable(const struct uptrkv_snapshot *s, __u32 key, __u32 size)
{
	__u32 before = s->hdr.seq[key % UPTRKV_NR_SEQ];
	__u32 after = s->seq_after[key % UPTRKV_NR_SEQ];

	if (s->hdr.struct_seq != s->struct_seq_after)
		return false;
	if (size == 1 || size == 2 || size == 4 || size == 8)
		return true;
	return !(before & 1) && before == after;
}
