// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Carrying a version's globals and shared maps over a switch, in the
 * kernel (the plan is lib/globals.c's). The consistency argument is in
 * docs/design.md, "Globals and shared maps".
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "convert.h"
#include "globals.h"
#include "version.h"

#define MAX_PROG_MAPS 64

/* Whether fd is a BPF map: a pin under maps/ could be anything, and
 * bpf_obj_get_info_by_fd would fill a map's info from a program's. */
static bool is_map_fd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:bpf-map");
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* If map id is a .bss or .data map, takes it into g. */
static int take_map(__u32 id, struct uptrkv_gmaps *g, struct uptrkv_error *e)
{
	struct bpf_map_info info;
	const struct btf_type *t;
	struct btf *btf = NULL;
	int fd, sec = -1, err;

	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "open map id %u", id);
	err = map_info(fd, &info);
	if (err || info.type != BPF_MAP_TYPE_ARRAY || !info.btf_id || !info.btf_value_type_id)
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		goto out;
	t = btf__type_by_id(btf, info.btf_value_type_id);
	if (t && btf_is_datasec(t))
		sec = uptrkv_gsec__of(btf__name_by_offset(btf, t->name_off));
	if (sec < 0 || g->fd[sec] >= 0)
		goto out;
	err = uptrkv_globals__add_datasec(btf, info.btf_value_type_id, sec, &g->st, e);
	if (err)
		goto out;
	g->fd[sec] = fd;
	g->id[sec] = info.id;
	g->size[sec] = info.value_size;
	g->mmapable[sec] = info.map_flags & BPF_F_MMAPABLE;
	fd = -1;
out:
	btf__free(btf);
	if (fd >= 0)
		close(fd);
	return err;
}

static int prog_map_ids(int prog_fd, __u32 *ids, __u32 *n)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*n = info.nr_map_ids < MAX_PROG_MAPS ? info.nr_map_ids : MAX_PROG_MAPS;
	return 0;
}

int uptrkv_gmaps__from_progs(const int *prog_fds, size_t n, struct uptrkv_gmaps *out,
			     struct uptrkv_error *e)
{
	int err = 0;

	memset(out, 0, sizeof(*out));
	for (int s = 0; s < UPTRKV_NR_GSECS; s++)
		out->fd[s] = -1;
	for (size_t i = 0; !err && i < n; i++) {
		__u32 ids[MAX_PROG_MAPS], nr = 0;

		err = prog_map_ids(prog_fds[i], ids, &nr);
		if (err) {
			err = uptrkv_errno(e, err, "read the maps of a program");
			break;
		}
		for (__u32 j = 0; !err && j < nr; j++)
			err = take_map(ids[j], out, e);
	}
	if (err)
		uptrkv_gmaps__close(out);
	return err;
}

void uptrkv_gmaps__close(struct uptrkv_gmaps *g)
{
	/* id 0: never opened (a zeroed struct's fd 0 is not ours). */
	for (int s = 0; s < UPTRKV_NR_GSECS; s++) {
		if (g->id[s] && g->fd[s] >= 0)
			close(g->fd[s]);
		g->fd[s] = -1;
		g->id[s] = 0;
	}
	uptrkv_objstate__free(&g->st);
}

/* ---- shared maps, as pinned ---- */

static int add_pinned_map(struct uptrkv_objstate *st, const char *dir, const char *name,
			  struct uptrkv_error *e)
{
	struct uptrkv_map_def *d, *v;
	struct bpf_map_info info;
	char path[PATH_MAX];
	int fd, err;

	if (uptrkv_pin_path(path, sizeof(path), dir, "%s", name))
		return uptrkv_err(e, -ENAMETOOLONG, "%s: path too long", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "open %s", path);
	err = is_map_fd(fd) ? map_info(fd, &info) : -EINVAL;
	close(fd);
	if (err == -EINVAL)
		return uptrkv_err(e, err, "%s: not a BPF map", path);
	if (err)
		return uptrkv_errno(e, err, "read %s", path);
	v = realloc(st->maps, (st->nr_maps + 1) * sizeof(*v));
	if (!v)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	st->maps = v;
	d = &v[st->nr_maps++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%.*s", (int)sizeof(d->name) - 1, name);
	d->type = info.type;
	d->key_size = info.key_size;
	d->value_size = info.value_size;
	d->max_entries = info.max_entries;
	d->flags = info.map_flags;
	return 0;
}

int uptrkv_deploy__shared_maps(struct uptrkv_deploy *d, struct uptrkv_objstate *st,
			       struct uptrkv_error *e)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *dh;
	int err = 0;

	uptrkv_pin_path(dir, sizeof(dir), d->dir, "%s", UPTRKV_PIN_MAPS);
	dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "open %s", dir);
	while (!err && (de = readdir(dh)))
		if (de->d_name[0] != '.')
			err = add_pinned_map(st, dir, de->d_name, e);
	closedir(dh);
	return err;
}

int uptrkv_deploy__objstate(struct uptrkv_deploy *d, struct uptrkv_objstate *out,
			    struct uptrkv_error *e)
{
	struct uptrkv_version *v = NULL;
	struct uptrkv_gmaps g;
	int fds[UPTRKV_MAX_PROGS];
	int err;

	memset(out, 0, sizeof(*out));
	err = uptrkv_version__open_pinned(d, UPTRKV_SLOT(d->ctl->gen), &v, e);
	if (err)
		return err;
	for (size_t i = 0; i < v->nr_progs; i++)
		fds[i] = v->progs[i].fd;
	err = uptrkv_gmaps__from_progs(fds, v->nr_progs, &g, e);
	uptrkv_version__free(v);
	if (err)
		return err;
	*out = g.st;
	memset(&g.st, 0, sizeof(g.st));
	uptrkv_gmaps__close(&g);
	err = uptrkv_deploy__shared_maps(d, out, e);
	if (err)
		uptrkv_objstate__free(out);
	return err;
}

/* The map of the live version's programs (prog_fds) named like a pin's
 * name (the kernel keeps BPF_OBJ_NAME_LEN - 1 characters), or -1. */
static int used_map(const int *prog_fds, size_t n, const char *name, __u32 *id)
{
	for (size_t i = 0; i < n; i++) {
		__u32 ids[MAX_PROG_MAPS], nr = 0;

		if (prog_map_ids(prog_fds[i], ids, &nr))
			continue;
		for (__u32 j = 0; j < nr; j++) {
			struct bpf_map_info info;
			int fd = bpf_map_get_fd_by_id(ids[j]);

			if (fd < 0)
				continue;
			if (!map_info(fd, &info) && !strncmp(info.name, name, BPF_OBJ_NAME_LEN - 1) &&
			    info.type != BPF_MAP_TYPE_TASK_STORAGE) {
				*id = info.id;
				return fd;
			}
			close(fd);
		}
	}
	return -1;
}

int uptrkv_deploy__repin_used_maps(struct uptrkv_deploy *d, const int *prog_fds, size_t n,
				   struct uptrkv_error *e)
{
	struct uptrkv_objstate st = {};
	int err = uptrkv_deploy__shared_maps(d, &st, e);

	for (size_t i = 0; !err && i < st.nr_maps; i++) {
		char path[PATH_MAX];
		struct bpf_map_info info;
		__u32 id = 0;
		int pin, fd = used_map(prog_fds, n, st.maps[i].name, &id);

		if (fd < 0)
			continue;
		uptrkv_pin_path(path, sizeof(path), d->dir, "%s/%s", UPTRKV_PIN_MAPS, st.maps[i].name);
		pin = bpf_obj_get(path);
		if (pin >= 0 && !map_info(pin, &info) && info.id != id) {
			unlink(path);
			if (bpf_obj_pin(fd, path))
				err = uptrkv_errno(e, -errno, "pin %s", path);
		}
		if (pin >= 0)
			close(pin);
		close(fd);
	}
	uptrkv_objstate__free(&st);
	return err;
}

/* ---- globals ---- */

static bool carried(const struct uptrkv_gplan_entry *pe, __u32 sec)
{
	return pe->has_old && pe->has_new && pe->new.sec == sec &&
	       (pe->action == UPTRKV_GACT_COPY || pe->action == UPTRKV_GACT_CONVERT);
}

static enum uptrkv_conv conv_of(const struct uptrkv_gplan_entry *pe)
{
	if (pe->action == UPTRKV_GACT_COPY)
		return UPTRKV_CONV_ZERO_EXTEND;
	return uptrkv_type__is_signed(pe->old.itype) ? UPTRKV_CONV_SINT : UPTRKV_CONV_UINT;
}

/* Whether the old value fits in the old section as the map holds it. */
static bool in_bounds(const struct uptrkv_global *g, __u32 size)
{
	return g->offset <= size && g->size <= size - g->offset;
}

static int read_sec(int fd, __u32 size, void **out, struct uptrkv_error *e)
{
	__u32 zero = 0;

	*out = calloc(1, size ? size : 1);
	if (!*out)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(fd, &zero, *out))
		return uptrkv_errno(e, -errno, "read a globals section");
	return 0;
}

/* Before the switch: the new version's programs cannot run yet, so a plain
 * read-modify-write of its section is safe. */
static int copy_sec(const struct uptrkv_plan *p, const struct uptrkv_gmaps *from,
		    const struct uptrkv_gmaps *to, __u32 s, struct uptrkv_gcarry *c,
		    struct uptrkv_error *e)
{
	__u32 zero = 0;
	void *buf = NULL;
	int err;

	err = read_sec(from->fd[s], from->size[s], &c->snap[s], e);
	err = err ?: read_sec(to->fd[s], to->size[s], &buf, e);
	for (size_t i = 0; !err && i < p->nr_globals; i++) {
		const struct uptrkv_gplan_entry *pe = &p->globals[i];

		if (!carried(pe, s) || !in_bounds(&pe->old, from->size[s]) ||
		    !in_bounds(&pe->new, to->size[s]))
			continue;
		uptrkv_convert_value((__u8 *)buf + pe->new.offset, pe->new.size,
				     (__u8 *)c->snap[s] + pe->old.offset, pe->old.size, conv_of(pe));
		c->nr_copied++;
	}
	if (!err && bpf_map_update_elem(to->fd[s], &zero, buf, BPF_ANY))
		err = uptrkv_errno(e, -errno, "write the new version's %s", uptrkv_gsec__str(s));
	free(buf);
	return err;
}

int uptrkv_globals__copy(const struct uptrkv_plan *p, const struct uptrkv_gmaps *from,
			 const struct uptrkv_gmaps *to, struct uptrkv_gcarry *c,
			 struct uptrkv_error *e)
{
	int err = 0;

	for (__u32 s = 0; !err && s < UPTRKV_NR_GSECS; s++) {
		if (from->fd[s] < 0 || to->fd[s] < 0 || from->id[s] == to->id[s])
			continue;	/* nothing to carry, or one shared map */
		err = copy_sec(p, from, to, s, c, e);
	}
	return err;
}

static __s64 sext(__u64 v, __u32 width)
{
	__u32 shift = 64 - 8 * width;

	return (__s64)(v << shift) >> shift;
}

static __u64 load_int(const void *src, __u32 width)
{
	__u64 v = 0;

	switch (width) {
	case 1: v = *(const __u8 *)src; break;
	case 2: v = *(const __u16 *)src; break;
	case 4: v = *(const __u32 *)src; break;
	case 8: v = *(const __u64 *)src; break;
	}
	return v;
}

/* Adds delta to a live integer with one locked instruction: the new
 * version's programs may be adding to it at the same time. */
static void atomic_add(void *dst, __u32 width, __s64 delta)
{
	switch (width) {
	case 1: __atomic_fetch_add((__u8 *)dst, (__u8)delta, __ATOMIC_SEQ_CST); break;
	case 2: __atomic_fetch_add((__u16 *)dst, (__u16)delta, __ATOMIC_SEQ_CST); break;
	case 4: __atomic_fetch_add((__u32 *)dst, (__u32)delta, __ATOMIC_SEQ_CST); break;
	case 8: __atomic_fetch_add((__u64 *)dst, (__u64)delta, __ATOMIC_SEQ_CST); break;
	}
}

static bool is_counter(const struct uptrkv_gplan_entry *pe)
{
	__u32 w = uptrkv_type__width(pe->old.itype);

	return pe->old.itype != UPTRKV_T_BOOL && pe->new.itype != UPTRKV_T_BOOL && w &&
	       uptrkv_type__width(pe->new.itype) >= w;
}

/*
 * One variable after the switch: an integer gets what the old version
 * added since the copy (final - copied, as a signed number of the old
 * width), so increments of both versions count; anything else gets the old
 * version's last value if it changed since the copy.
 */
static void catch_up_var(const struct uptrkv_gplan_entry *pe, const __u8 *snap, const __u8 *fin,
			 __u8 *live, struct uptrkv_gcarry *c)
{
	const __u8 *o0 = snap + pe->old.offset, *o1 = fin + pe->old.offset;
	__u8 *dst = live + pe->new.offset;

	if (!memcmp(o0, o1, pe->old.size))
		return;
	c->nr_caught_up++;
	if (is_counter(pe)) {
		__u32 w = uptrkv_type__width(pe->old.itype);

		atomic_add(dst, uptrkv_type__width(pe->new.itype),
			   sext(load_int(o1, w) - load_int(o0, w), w));
		return;
	}
	uptrkv_convert_value(dst, pe->new.size, o1, pe->old.size, conv_of(pe));
}

static int catch_up_sec(const struct uptrkv_plan *p, const struct uptrkv_gmaps *from,
			const struct uptrkv_gmaps *to, __u32 s, struct uptrkv_gcarry *c,
			struct uptrkv_error *e)
{
	size_t len = (to->size[s] + 4095) & ~4095ul;
	void *fin = NULL, *live;
	int err;

	if (!to->mmapable[s])
		return uptrkv_err(e, -EOPNOTSUPP, "the new version's %s map is not mmapable: "
				  "changes the old version made after the copy cannot be added",
				  uptrkv_gsec__str(s));
	err = read_sec(from->fd[s], from->size[s], &fin, e);
	if (err)
		goto out;
	live = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, to->fd[s], 0);
	if (live == MAP_FAILED) {
		err = uptrkv_errno(e, -errno, "map the new version's %s", uptrkv_gsec__str(s));
		goto out;
	}
	for (size_t i = 0; i < p->nr_globals; i++) {
		const struct uptrkv_gplan_entry *pe = &p->globals[i];

		if (carried(pe, s) && in_bounds(&pe->old, from->size[s]) &&
		    in_bounds(&pe->new, to->size[s]))
			catch_up_var(pe, c->snap[s], fin, live, c);
	}
	munmap(live, len);
out:
	free(fin);
	return err;
}

int uptrkv_globals__catch_up(const struct uptrkv_plan *p, const struct uptrkv_gmaps *from,
			     const struct uptrkv_gmaps *to, struct uptrkv_gcarry *c,
			     struct uptrkv_error *e)
{
	int err = 0;

	for (__u32 s = 0; !err && s < UPTRKV_NR_GSECS; s++)
		if (c->snap[s])
			err = catch_up_sec(p, from, to, s, c, e);
	return err;
}

void uptrkv_gcarry__free(struct uptrkv_gcarry *c)
{
	for (int s = 0; s < UPTRKV_NR_GSECS; s++) {
		free(c->snap[s]);
		c->snap[s] = NULL;
	}
}

/* ---- the snapshot, pinned until the catch-up ---- */

#define CARRY_MAGIC		0x59524143u	/* "CARY" */

struct carry_hdr {
	__u32 magic;
	__u32 target_gen;
	__u32 size[UPTRKV_NR_GSECS];	/* 0: no snapshot of that section */
};

static void carry_path(struct uptrkv_deploy *d, char *buf, size_t sz)
{
	uptrkv_pin_path(buf, sz, d->dir, "%s", UPTRKV_PIN_CARRY);
}

void uptrkv_gcarry__drop(struct uptrkv_deploy *d)
{
	char path[PATH_MAX];

	carry_path(d, path, sizeof(path));
	unlink(path);
}

int uptrkv_gcarry__save(struct uptrkv_deploy *d, const struct uptrkv_gcarry *c,
			const struct uptrkv_gmaps *from, __u32 target_gen, struct uptrkv_error *e)
{
	struct carry_hdr h = { .magic = CARRY_MAGIC, .target_gen = target_gen };
	char path[PATH_MAX];
	size_t len = sizeof(h), off;
	__u32 zero = 0;
	__u8 *buf;
	int fd, err = 0;

	for (int s = 0; s < UPTRKV_NR_GSECS; s++) {
		h.size[s] = c->snap[s] ? from->size[s] : 0;
		len += h.size[s];
	}
	uptrkv_gcarry__drop(d);
	if (len == sizeof(h))
		return 0;
	buf = calloc(1, len);
	if (!buf)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	for (int s = 0; s < UPTRKV_NR_GSECS; s++) {
		if (h.size[s])
			memcpy(buf + off, c->snap[s], h.size[s]);
		off += h.size[s];
	}
	carry_path(d, path, sizeof(path));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "uptrkv_carry", 4, len, 1, NULL);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, buf, BPF_ANY) || bpf_obj_pin(fd, path))
		err = uptrkv_errno(e, -errno, "save the globals' snapshot in %s", path);
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

static int load_snap(struct uptrkv_gcarry *c, const struct carry_hdr *h, const __u8 *buf,
		     size_t len, struct uptrkv_error *e)
{
	size_t off = sizeof(*h);

	for (int s = 0; s < UPTRKV_NR_GSECS; s++) {
		if (!h->size[s])
			continue;
		if (h->size[s] > len - off)
			return uptrkv_err(e, -EINVAL, "the globals' snapshot is corrupt");
		c->snap[s] = malloc(h->size[s]);
		if (!c->snap[s])
			return uptrkv_err(e, -ENOMEM, "out of memory");
		memcpy(c->snap[s], buf + off, h->size[s]);
		off += h->size[s];
	}
	return 0;
}

int uptrkv_gcarry__load(struct uptrkv_deploy *d, __u32 target_gen, struct uptrkv_gcarry *c,
			bool *found, struct uptrkv_error *e)
{
	struct bpf_map_info info;
	struct carry_hdr h;
	char path[PATH_MAX];
	__u32 zero = 0;
	__u8 *buf = NULL;
	int fd, err;

	*found = false;
	carry_path(d, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "open %s", path);
	err = is_map_fd(fd) ? map_info(fd, &info) : -EINVAL;
	if (!err && (info.value_size < sizeof(h) || !(buf = malloc(info.value_size))))
		err = -EINVAL;
	if (!err && bpf_map_lookup_elem(fd, &zero, buf))
		err = -errno;
	close(fd);
	if (err) {
		free(buf);
		return uptrkv_errno(e, err, "read %s", path);
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic == CARRY_MAGIC && h.target_gen == target_gen) {
		*found = true;
		err = load_snap(c, &h, buf, info.value_size, e);
	}
	free(buf);
	return err;
}

/* ---- maps: {NAME: copy} ---- */

static int put_entry(struct uptrkv_mcopy *c, const void *key, const void *val, void *buf)
{
	memset(buf, 0, c->new_size);
	memcpy(buf, val, c->old_size);
	return bpf_map_update_elem(c->to_fd, key, buf, BPF_ANY) ? -errno : 0;
}

/* Every entry of from_fd; keys and vals are malloc'ed. An entry deleted while
 * the walk runs is skipped (the walk goes on from it). */
static int read_all(struct uptrkv_mcopy *c, __u8 **keys, __u8 **vals, size_t *n,
		    struct uptrkv_error *e)
{
	__u8 *k = NULL, *v = NULL, *cur = calloc(2, c->key_size);
	__u8 *next = cur ? cur + c->key_size : NULL;
	bool first = true, oom = false;
	size_t cap = 0;
	int err = 0;

	*n = 0;
	while (cur && !bpf_map_get_next_key(c->from_fd, first ? NULL : cur, next)) {
		first = false;
		memcpy(cur, next, c->key_size);
		if (*n == cap) {
			__u8 *nk = realloc(k, 2 * (cap ? cap : 32) * c->key_size), *nv;

			k = nk ? nk : k;
			nv = nk ? realloc(v, 2 * (cap ? cap : 32) * c->old_size) : NULL;
			v = nv ? nv : v;
			if (!nk || !nv) {
				oom = true;
				break;
			}
			cap = 2 * (cap ? cap : 32);
		}
		if (bpf_map_lookup_elem(c->from_fd, cur, v + *n * c->old_size))
			continue;
		memcpy(k + *n * c->key_size, cur, c->key_size);
		(*n)++;
	}
	if (!cur || oom)
		err = uptrkv_err(e, -ENOMEM, "out of memory");
	free(cur);
	*keys = k;
	*vals = v;
	return err;
}

int uptrkv_mcopy__pass1(struct uptrkv_mcopy *c, struct uptrkv_error *e)
{
	__u8 *buf = calloc(1, c->new_size);
	int err;

	if (!buf)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	err = read_all(c, &c->keys, &c->vals, &c->n, e);
	for (size_t i = 0; !err && i < c->n; i++)
		if ((err = put_entry(c, c->keys + i * c->key_size, c->vals + i * c->old_size, buf)))
			err = uptrkv_errno(e, err, "copy a map entry");
	free(buf);
	return err;
}

static const __u8 *find_entry(const struct uptrkv_mcopy *c, const __u8 *keys, const __u8 *vals,
			      size_t n, const void *key)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(keys + i * c->key_size, key, c->key_size))
			return vals + i * c->old_size;
	return NULL;
}

int uptrkv_mcopy__pass2(struct uptrkv_mcopy *c, struct uptrkv_error *e)
{
	__u8 *keys = NULL, *vals = NULL, *buf = calloc(1, c->new_size);
	size_t n = 0;
	int err;

	if (!buf)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	err = read_all(c, &keys, &vals, &n, e);
	for (size_t i = 0; !err && i < n; i++) {
		const __u8 *was = find_entry(c, c->keys, c->vals, c->n, keys + i * c->key_size);

		if (was && !memcmp(was, vals + i * c->old_size, c->old_size))
			continue;
		if ((err = put_entry(c, keys + i * c->key_size, vals + i * c->old_size, buf)))
			err = uptrkv_errno(e, err, "copy a changed map entry");
	}
	for (size_t i = 0; !err && i < c->n; i++)
		if (!find_entry(c, keys, vals, n, c->keys + i * c->key_size))
			bpf_map_delete_elem(c->to_fd, c->keys + i * c->key_size);
	free(keys);
	free(vals);
	free(buf);
	return err;
}

void uptrkv_mcopy__free(struct uptrkv_mcopy *c)
{
	free(c->keys);
	free(c->vals);
	c->keys = c->vals = NULL;
	if (c->from_fd >= 0)
		close(c->from_fd);
	c->from_fd = -1;
}
