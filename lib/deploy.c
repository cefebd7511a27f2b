// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Deployments as they live in bpffs: finding, opening, creating, locking,
 * and the manifests recorded per slot. Everything here must survive the
 * CLI's exit, so all state is in pinned maps.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include "deploy_internal.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

int uptrkv_pin_path(char *buf, size_t sz, const char *dir, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, sz, "%s/", dir);
	if (n < 0 || (size_t)n >= sz)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sz - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= sz)
		return -ENAMETOOLONG;
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int uptrkv_bpffs__prepare(const char *bpffs, bool mount_if_missing, bool *mounted,
			  struct uptrkv_error *e)
{
	struct statfs st;
	int err;

	if (mounted)
		*mounted = false;
	if (!statfs(bpffs, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (!mount_if_missing)
		return uptrkv_err(e, -ENOENT, "bpffs: %s is not a bpf filesystem", bpffs);
	err = mkdir_p(bpffs, 0700);
	if (err)
		return uptrkv_errno(e, err, "bpffs: cannot create %s", bpffs);
	if (mount("bpf", bpffs, "bpf", 0, "mode=0700"))
		return uptrkv_errno(e, -errno, "bpffs: cannot mount bpf filesystem at %s", bpffs);
	if (mounted)
		*mounted = true;
	return 0;
}

void uptrkv_strv__free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int uptrkv_deploy__list(const char *bpffs, char ***names, size_t *nr, struct uptrkv_error *e)
{
	char root[PATH_MAX], ctl[PATH_MAX];
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;
	DIR *dir;
	int err = 0;

	*names = NULL;
	*nr = 0;
	snprintf(root, sizeof(root), "%s/%s", bpffs, UPTRKV_DEPLOY_SUBDIR);
	dir = opendir(root);
	if (!dir)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "list deployments: %s", root);
	while ((de = readdir(dir))) {
		char **nv;

		if (de->d_name[0] == '.' || !uptrkv_deploy_name_ok(de->d_name))
			continue;
		if (uptrkv_pin_path(ctl, sizeof(ctl), root, "%s/%s", de->d_name, UPTRKV_PIN_CTL) ||
		    access(ctl, F_OK))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			v = nv ? nv : v;
			err = uptrkv_err(e, -ENOMEM, "list deployments: out of memory");
			goto out;
		}
		v = nv;
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_str);
out:
	closedir(dir);
	if (err) {
		uptrkv_strv__free(v, n);
		return err;
	}
	*names = v;
	*nr = n;
	return 0;
}

static int check_map(int fd, __u32 type, __u32 value_size, const char *path, struct uptrkv_error *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return uptrkv_errno(e, -errno, "%s: cannot read map info", path);
	if (info.type != type || (value_size && info.value_size != value_size))
		return uptrkv_err(e, -EINVAL, "%s: not an uptrkv map (type %u, value size %u)",
				  path, info.type, info.value_size);
	return 0;
}

static int open_pin(struct uptrkv_deploy *d, const char *name, __u32 type, __u32 value_size,
		    int *fd, struct uptrkv_error *e)
{
	char path[PATH_MAX];
	int err;

	err = uptrkv_pin_path(path, sizeof(path), d->dir, "%s", name);
	if (err)
		return uptrkv_err(e, err, "%s: path too long", d->dir);
	*fd = bpf_obj_get(path);
	if (*fd < 0) {
		*fd = -1;
		return uptrkv_errno(e, -errno, "deployment %s: cannot open %s", d->name, path);
	}
	return check_map(*fd, type, value_size, path, e);
}

static int map_ctl(struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	void *p = mmap(NULL, UPTRKV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->ctl_fd, 0);

	if (p == MAP_FAILED)
		return uptrkv_errno(e, -errno, "deployment %s: cannot map ctl", d->name);
	d->ctl = p;
	return 0;
}

/* A handle with no map open yet. Returns 0 or the error, whether or not
 * the caller asked for its detail (e may be NULL). */
static int deploy_alloc(const char *bpffs, const char *name, struct uptrkv_deploy **out,
			struct uptrkv_error *e)
{
	struct uptrkv_deploy *d;

	*out = NULL;
	if (!uptrkv_deploy_name_ok(name))
		return uptrkv_err(e, -EINVAL, "deployment '%s': name must match [a-z0-9_-]{1,32}",
				  name ? name : "");
	d = calloc(1, sizeof(*d));
	if (!d)
		return uptrkv_err(e, -ENOMEM, "deployment %s: out of memory", name);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->dir_fd = d->store_fd = d->ctl_fd = d->state_fd = d->sync_fd = -1;
	if (uptrkv_deploy_dir(d->dir, sizeof(d->dir), bpffs, name)) {
		free(d);
		return uptrkv_err(e, -ENAMETOOLONG, "deployment %s: bpffs path too long", name);
	}
	*out = d;
	return 0;
}

int uptrkv_deploy__open(const char *bpffs, const char *name, struct uptrkv_deploy **out,
			struct uptrkv_error *e)
{
	struct uptrkv_deploy *d;
	int err;

	*out = NULL;
	err = deploy_alloc(bpffs, name, &d, e);
	if (err)
		return err;
	d->dir_fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dir_fd < 0) {
		err = errno == ENOENT ? uptrkv_err(e, -ENOENT, "deployment %s: not deployed (no %s)",
						   name, d->dir)
				      : uptrkv_errno(e, -errno, "deployment %s: %s", name, d->dir);
		goto err;
	}
	err = open_pin(d, UPTRKV_PIN_CTL, BPF_MAP_TYPE_ARRAY, sizeof(struct uptrkv_ctl), &d->ctl_fd, e);
	if (err)
		goto err;
	err = map_ctl(d, e);
	if (err)
		goto err;
	if (d->ctl->magic != UPTRKV_CTL_MAGIC) {
		err = uptrkv_err(e, -EINVAL, "deployment %s: ctl has magic 0x%x, not uptrkv's",
				 name, d->ctl->magic);
		goto err;
	}
	err = open_pin(d, UPTRKV_PIN_STATE, BPF_MAP_TYPE_ARRAY, UPTRKV_STATE_PAGE, &d->state_fd, e);
	if (err)
		goto err;
	err = open_pin(d, UPTRKV_PIN_SYNC, BPF_MAP_TYPE_ARRAY_OF_MAPS, 0, &d->sync_fd, e);
	if (err)
		goto err;
	/* A deployment whose first rollout did not get as far as the store is
	 * still openable, so that it can be undone. */
	err = open_pin(d, UPTRKV_PIN_STORE, BPF_MAP_TYPE_TASK_STORAGE,
		       sizeof(struct uptrkv_task_store), &d->store_fd, e);
	if (err && err != -ENOENT)
		goto err;
	*out = d;
	return 0;
err:
	uptrkv_deploy__close(d);
	return err;
}

void uptrkv_deploy__close(struct uptrkv_deploy *d)
{
	if (!d)
		return;
	if (d->ctl)
		munmap((void *)d->ctl, UPTRKV_PAGE_SIZE);
	if (d->locked)
		uptrkv_deploy__unlock(d);
	for (int *fd = &d->dir_fd; fd <= &d->sync_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	free(d);
}

const char *uptrkv_deploy__name(const struct uptrkv_deploy *d) { return d->name; }
int uptrkv_deploy__store_fd(const struct uptrkv_deploy *d) { return d->store_fd; }
__u32 uptrkv_deploy__gen(const struct uptrkv_deploy *d) { return d->ctl->gen; }

static int lock_wait(struct uptrkv_deploy *d, int timeout_ms,
		     void (*waiting)(void *ctx, const char *name, const char *dir), void *ctx,
		     struct uptrkv_error *e)
{
	for (int waited = 0;; waited += 10) {
		if (!flock(d->dir_fd, LOCK_EX | LOCK_NB)) {
			d->locked = true;
			return 0;
		}
		if (errno != EWOULDBLOCK)
			return uptrkv_errno(e, -errno, "deployment %s: cannot lock %s", d->name, d->dir);
		if (waited >= timeout_ms)
			return uptrkv_err(e, -EBUSY,
					  "deployment %s: busy: another uptrkv command%s holds its lock; try again when it is done",
					  d->name, d->ctl && d->ctl->step ? " (a rollout)" : "");
		if (!waited && waiting)
			waiting(ctx, d->name, d->dir);
		poll(NULL, 0, 10);
	}
}

int uptrkv_deploy__lock(struct uptrkv_deploy *d, int timeout_ms, struct uptrkv_error *e)
{
	return lock_wait(d, timeout_ms, NULL, NULL, e);
}

/* lock_timeout_ms: 0 is the default wait, a negative one no wait at all. */
int uptrkv_deploy__lock_opts(struct uptrkv_deploy *d, const struct uptrkv_rollout_opts *opts,
			     struct uptrkv_error *e)
{
	int timeout = UPTRKV_OPTS_GET(opts, lock_timeout_ms, 0);

	return lock_wait(d, timeout ? timeout : UPTRKV_LOCK_TIMEOUT_MS,
			 UPTRKV_OPTS_GET(opts, lock_wait, NULL),
			 UPTRKV_OPTS_GET(opts, lock_wait_ctx, NULL), e);
}

void uptrkv_deploy__unlock(struct uptrkv_deploy *d)
{
	if (d->locked)
		flock(d->dir_fd, LOCK_UN);
	d->locked = false;
}

static int create_map(const char *name, enum bpf_map_type type, __u32 value_size,
		      __u32 max_entries, __u32 flags, int inner_fd, struct uptrkv_error *e)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int fd;

	if (inner_fd >= 0)
		o.inner_map_fd = inner_fd;
	fd = bpf_map_create(type, name, sizeof(__u32), value_size, max_entries, &o);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "create map %s", name);
	return fd;
}

static int pin_fd(struct uptrkv_deploy *d, int fd, const char *name, struct uptrkv_error *e)
{
	char path[PATH_MAX];

	if (uptrkv_pin_path(path, sizeof(path), d->dir, "%s", name))
		return uptrkv_err(e, -ENAMETOOLONG, "%s: path too long", d->dir);
	if (bpf_obj_pin(fd, path))
		return uptrkv_errno(e, -errno, "pin %s", path);
	return 0;
}

static int create_maps(struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	struct uptrkv_ctl init = { .magic = UPTRKV_CTL_MAGIC };
	__u32 zero = 0;
	int inner, err;

	d->ctl_fd = create_map("uptrkv_ctl", BPF_MAP_TYPE_ARRAY, sizeof(struct uptrkv_ctl), 1,
			       BPF_F_MMAPABLE, -1, e);
	if (d->ctl_fd < 0)
		return d->ctl_fd;
	d->state_fd = create_map("uptrkv_state", BPF_MAP_TYPE_ARRAY, UPTRKV_STATE_PAGE,
				 UPTRKV_NR_SLOTS * UPTRKV_STATE_SLOT_PAGES, 0, -1, e);
	if (d->state_fd < 0)
		return d->state_fd;
	inner = create_map("uptrkv_sync_in", BPF_MAP_TYPE_ARRAY, 4, 1, 0, -1, e);
	if (inner < 0)
		return inner;
	d->sync_fd = create_map("uptrkv_sync", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 1, 0, inner, e);
	if (d->sync_fd >= 0 && bpf_map_update_elem(d->sync_fd, &zero, &inner, 0))
		err = uptrkv_errno(e, -errno, "init sync map");
	else
		err = d->sync_fd < 0 ? d->sync_fd : 0;
	close(inner);
	if (err)
		return err;
	if (bpf_map_update_elem(d->ctl_fd, &zero, &init, 0))
		return uptrkv_errno(e, -errno, "init ctl map");
	err = map_ctl(d, e);
	if (err)
		return err;
	/* ctl last: its pin is what makes the folder a deployment. */
	err = pin_fd(d, d->state_fd, UPTRKV_PIN_STATE, e);
	err = err ?: pin_fd(d, d->sync_fd, UPTRKV_PIN_SYNC, e);
	err = err ?: pin_fd(d, d->ctl_fd, UPTRKV_PIN_CTL, e);
	return err;
}

/*
 * A deployment folder without its ctl pin is what a first deploy killed
 * before it pinned ctl leaves (ctl is pinned last). It is removed unless
 * someone holds its lock: a first deploy still at work. 0 if dir is gone
 * now, -EEXIST if it is a real deployment, -EBUSY if it is being created.
 */
int uptrkv_deploy__remove_leftover(const char *dir, struct uptrkv_error *e)
{
	char ctl[PATH_MAX];
	int fd, err;

	if (uptrkv_pin_path(ctl, sizeof(ctl), dir, "%s", UPTRKV_PIN_CTL))
		return uptrkv_err(e, -ENAMETOOLONG, "%s: path too long", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "open %s", dir);
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = uptrkv_err(e, -EBUSY, "%s is being created by another uptrkv", dir);
		goto out;
	}
	if (!access(ctl, F_OK)) {
		err = -EEXIST;
		goto out;
	}
	err = uptrkv_deploy__remove_dir(dir, e);
out:
	close(fd);
	return err;
}

static int make_deploy_dir(struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	int err;

	if (!mkdir(d->dir, 0700))
		return 0;
	if (errno != EEXIST)
		return uptrkv_errno(e, -errno, "create %s", d->dir);
	err = uptrkv_deploy__remove_leftover(d->dir, e);
	if (err == -EEXIST)
		return uptrkv_err(e, err, "deployment %s: %s already exists", d->name, d->dir);
	if (err)
		return err;
	if (mkdir(d->dir, 0700))
		return uptrkv_errno(e, -errno, "create %s", d->dir);
	return 0;
}

int uptrkv_deploy__remove_root(const char *bpffs)
{
	char root[PATH_MAX];

	if (snprintf(root, sizeof(root), "%s/%s", bpffs, UPTRKV_DEPLOY_SUBDIR) >= (int)sizeof(root))
		return -ENAMETOOLONG;
	/* rmdir only removes an empty folder: another deployment keeps it. */
	if (rmdir(root) && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	return 0;
}

int uptrkv_deploy__create(const char *bpffs, const char *name, struct uptrkv_deploy **out,
			  struct uptrkv_error *e)
{
	char root[PATH_MAX];
	struct uptrkv_deploy *d;
	int err;

	*out = NULL;
	err = deploy_alloc(bpffs, name, &d, e);
	if (err)
		return err;
	snprintf(root, sizeof(root), "%s/%s", bpffs, UPTRKV_DEPLOY_SUBDIR);
	/* Another uptrkv may remove an empty root between the two mkdirs
	 * (its last deployment undeployed): make it again. */
	err = -ENOENT;
	for (int try = 0; try < 3 && err == -ENOENT; try++) {
		err = mkdir_p(root, 0700);
		if (err) {
			uptrkv_errno(e, err, "create %s", root);
			goto err_free;
		}
		err = make_deploy_dir(d, e);
	}
	if (err)
		goto err_free;
	d->dir_fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dir_fd < 0) {
		err = uptrkv_errno(e, -errno, "open %s", d->dir);
		goto err_rm;
	}
	err = uptrkv_deploy__lock(d, 0, e);
	err = err ?: create_maps(d, e);
	if (err)
		goto err_rm;
	*out = d;
	return 0;
err_rm:
	uptrkv_deploy__remove_dir(d->dir, NULL);
err_free:
	uptrkv_deploy__close(d);
	return err;
}

static int remove_tree(int dirfd, const char *path, int *first_err)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			remove_tree(fd, de->d_name, first_err);
		else if (unlinkat(fd, de->d_name, 0) && !*first_err)
			*first_err = -errno;
	}
	closedir(dir);
	if (unlinkat(dirfd, path, AT_REMOVEDIR) && !*first_err)
		*first_err = -errno;
	return 0;
}

int uptrkv_deploy__remove_dir(const char *dir, struct uptrkv_error *e)
{
	int err = 0, ret;

	ret = remove_tree(AT_FDCWD, dir, &err);
	err = err ?: ret;
	if (err)
		return uptrkv_errno(e, err, "remove %s", dir);
	return 0;
}

static int state_write(struct uptrkv_deploy *d, __u32 idx, const void *page, struct uptrkv_error *e)
{
	if (bpf_map_update_elem(d->state_fd, &idx, page, 0))
		return uptrkv_errno(e, -errno, "deployment %s: write state", d->name);
	return 0;
}

/* The recorded copy resolves object: against the original folder. */
static int manifest_dir(const struct uptrkv_manifest *m, char *buf, size_t sz,
			struct uptrkv_error *e)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = m->path ? strrchr(m->path, '/') : NULL;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - m->path), m->path);
	/* A manifest kept in the history names the folder it was in; that
	 * folder may be gone, and is still what object: was resolved against. */
	if (!realpath(dir, real) && !(dir[0] == '/' && snprintf(real, sizeof(real), "%s", dir) > 0))
		return uptrkv_errno(e, -errno, "%s: cannot resolve its folder", m->path);
	if (strlen(real) >= sz)
		return uptrkv_err(e, -ENAMETOOLONG, "%s: folder path too long", m->path);
	strcpy(buf, real);
	return 0;
}

int uptrkv_deploy__record(struct uptrkv_deploy *d, __u32 slot, const struct uptrkv_manifest *m,
			  const struct uptrkv_state_prog *progs, size_t nr_progs,
			  struct uptrkv_error *e)
{
	__u32 base = slot * UPTRKV_STATE_SLOT_PAGES;
	struct uptrkv_state_rec *rec;
	char page[UPTRKV_STATE_PAGE];
	int err = 0;

	_Static_assert(sizeof(*rec) <= UPTRKV_STATE_PAGE, "state record fits a page");
	if (m->text_len > UPTRKV_MANIFEST_MAX)
		return uptrkv_err(e, -E2BIG, "%s: manifest is %zu bytes, at most %u can be recorded",
				  m->path, m->text_len, UPTRKV_MANIFEST_MAX);
	if (nr_progs > ARRAY_SIZE(rec->progs))
		return uptrkv_err(e, -E2BIG, "%s: %zu programs, at most %zu per deployment",
				  m->path, nr_progs, ARRAY_SIZE(rec->progs));
	/* Text first, record last: a record never points at missing text. */
	for (size_t off = 0, i = 1; off < m->text_len; off += UPTRKV_STATE_PAGE, i++) {
		size_t n = m->text_len - off < UPTRKV_STATE_PAGE ? m->text_len - off : UPTRKV_STATE_PAGE;

		memset(page, 0, sizeof(page));
		memcpy(page, m->text + off, n);
		err = state_write(d, base + i, page, e);
		if (err)
			return err;
	}
	memset(page, 0, sizeof(page));
	rec = (struct uptrkv_state_rec *)page;
	rec->magic = UPTRKV_STATE_MAGIC;
	rec->format = UPTRKV_STATE_FORMAT;
	rec->version = m->version;
	rec->layout_hash = m->layout_hash;
	rec->text_len = m->text_len;
	rec->deployed_at = time(NULL);
	rec->nr_progs = nr_progs;
	if (nr_progs)
		memcpy(rec->progs, progs, nr_progs * sizeof(*progs));
	err = manifest_dir(m, rec->base_dir, sizeof(rec->base_dir), e);
	if (err)
		return err;
	return state_write(d, base, page, e);
}

int uptrkv_deploy__clear_slot(struct uptrkv_deploy *d, __u32 slot, struct uptrkv_error *e)
{
	char page[UPTRKV_STATE_PAGE] = {};

	return state_write(d, slot * UPTRKV_STATE_SLOT_PAGES, page, e);
}

int uptrkv_deploy__read_rec(struct uptrkv_deploy *d, __u32 slot, struct uptrkv_state_rec *rec,
			    struct uptrkv_error *e)
{
	char page[UPTRKV_STATE_PAGE];
	__u32 idx = slot * UPTRKV_STATE_SLOT_PAGES;

	if (slot >= UPTRKV_NR_SLOTS)
		return uptrkv_err(e, -EINVAL, "deployment %s: bad slot %u", d->name, slot);
	if (bpf_map_lookup_elem(d->state_fd, &idx, page))
		return uptrkv_errno(e, -errno, "deployment %s: read state", d->name);
	memcpy(rec, page, sizeof(*rec));
	if (rec->magic != UPTRKV_STATE_MAGIC)
		return uptrkv_err(e, -ENOENT, "deployment %s: slot %u holds no version", d->name, slot);
	if (rec->format > UPTRKV_STATE_FORMAT)
		return uptrkv_err(e, -EPROTONOSUPPORT,
				  "deployment %s: state format %u is newer than this uptrkv (%u); upgrade uptrkv",
				  d->name, rec->format, UPTRKV_STATE_FORMAT);
	if (rec->text_len > UPTRKV_MANIFEST_MAX || rec->nr_progs > ARRAY_SIZE(rec->progs))
		return uptrkv_err(e, -EINVAL, "deployment %s: slot %u record is corrupt", d->name, slot);
	rec->base_dir[sizeof(rec->base_dir) - 1] = '\0';
	return 0;
}

int uptrkv_deploy__manifest(struct uptrkv_deploy *d, int slot, struct uptrkv_manifest **out,
			    struct uptrkv_error *e)
{
	UPTRKV_OPTS(uptrkv_manifest_opts, mo);
	struct uptrkv_diags diags = {};
	struct uptrkv_state_rec rec;
	char page[UPTRKV_STATE_PAGE];
	char display[128];
	char *text = NULL;
	__u32 s, base;
	int err;

	*out = NULL;
	s = slot < 0 ? UPTRKV_SLOT(d->ctl->gen) : (__u32)slot;
	err = uptrkv_deploy__read_rec(d, s, &rec, e);
	if (err)
		return err;
	text = malloc(rec.text_len + 1);
	if (!text)
		return uptrkv_err(e, -ENOMEM, "deployment %s: out of memory", d->name);
	base = s * UPTRKV_STATE_SLOT_PAGES;
	for (size_t off = 0, i = 1; off < rec.text_len; off += UPTRKV_STATE_PAGE, i++) {
		__u32 idx = base + i;
		size_t n = rec.text_len - off < UPTRKV_STATE_PAGE ? rec.text_len - off : UPTRKV_STATE_PAGE;

		if (bpf_map_lookup_elem(d->state_fd, &idx, page)) {
			err = uptrkv_errno(e, -errno, "deployment %s: read state", d->name);
			goto out;
		}
		memcpy(text + off, page, n);
	}
	text[rec.text_len] = '\0';
	snprintf(display, sizeof(display), "deployed:%s", d->name);
	mo.base_dir = rec.base_dir;
	mo.display_name = display;
	err = uptrkv_manifest__parse(text, rec.text_len, &mo, out, &diags);
	if (err)
		uptrkv_err(e, err, "deployment %s: recorded manifest does not parse: %s", d->name,
			   diags.n ? diags.v[0].msg : "unknown error");
	uptrkv_diags__free(&diags);
out:
	free(text);
	return err;
}

int uptrkv_deploy__sync_rcu(struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	__u32 zero = 0;
	int inner, err = 0;

	/* Updating a map-in-map slot calls synchronize_rcu() before returning:
	 * every non-sleepable program run that began before now has ended. */
	inner = create_map("uptrkv_sync_in", BPF_MAP_TYPE_ARRAY, 4, 1, 0, -1, e);
	if (inner < 0)
		return inner;
	if (bpf_map_update_elem(d->sync_fd, &zero, &inner, 0))
		err = uptrkv_errno(e, -errno, "deployment %s: wait for old programs", d->name);
	close(inner);
	return err;
}

static void *sync_rcu_thread(void *arg)
{
	struct uptrkv_rcu_wait *w = arg;

	w->err = uptrkv_deploy__sync_rcu(w->d, &w->e);
	return NULL;
}

void uptrkv_deploy__sync_rcu_start(struct uptrkv_deploy *d, struct uptrkv_rcu_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->d = d;
	/* No thread (out of resources): the join waits instead. */
	w->running = !pthread_create(&w->th, NULL, sync_rcu_thread, w);
}

int uptrkv_deploy__sync_rcu_join(struct uptrkv_rcu_wait *w, struct uptrkv_error *e)
{
	if (!w->d)
		return uptrkv_err(e, -EINVAL, "no grace period was started");
	if (!w->running)
		return uptrkv_deploy__sync_rcu(w->d, e);
	pthread_join(w->th, NULL);
	w->running = false;
	if (w->err && e)
		*e = w->e;
	return w->err;
}
