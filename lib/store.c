// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * App-side store API: open a store map, register the calling thread's
 * memory, get/put/delete values, grow on demand. See docs/store.md.
 *
 * Memory of one registered thread: one 3-page anonymous mapping (hdr, meta
 * slot 0, meta slot 1; the thread's own state after the hdr, THREAD_OFF)
 * plus one anonymous page per data page, registered lazily. A registered
 * thread holds no file descriptor (store_lock, thread_pidfd). Free space is derived from the live meta slots on every
 * allocation; extents that stopped being referenced since the previous scan
 * are quarantined until an RCU grace period has passed, so a BPF program
 * that is still reading an old entry never sees its extent reused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "convert.h"
#include "internal.h"
#include "keyrec.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define META_PAGES (1 + UPTRKV_NR_SLOTS)	/* hdr + meta[0] + meta[1] */
#define USER_READ_TRIES 10000
#define COMPACT_PASSES 3

struct uptrkv_store {
	int map_fd;
	/*
	 * The deployment folder, opened once: the app's shared lock on it.
	 * flock locks belong to an open file, so the threads that share this
	 * fd share one lock: the first of them to need it takes LOCK_SH, the
	 * last to finish drops it (lock_users, under lock_mu). A rollout's
	 * LOCK_EX, on its own open file, waits while any thread of the app
	 * is inside a structural change, and no thread gets in while a
	 * rollout holds it. One fd per app, not one per thread. -1 if
	 * standalone.
	 */
	int dir_fd;
	pthread_mutex_t lock_mu;
	int lock_users;			/* threads inside store_lock */
	pid_t lock_pid;			/* the process dir_fd's lock is for */
	int ctl_fd;
	void *ctl_mem;
	const struct uptrkv_ctl *ctl;	/* NULL if standalone */
	/* The deployment's key types per slot (lib/types.c); NULL if
	 * standalone or deployed before the table existed. */
	const struct uptrkv_types *types;
	int types_fd;
	/* The deployment's key record per slot (lib/keyrec.h); NULL if
	 * standalone or deployed before records existed. */
	const struct uptrkv_keyrec *keys;
	pthread_mutex_t lock;		/* guards the grace-period maps */
	int grace_outer_fd, grace_inner_fd;
	bool grace_failed;
};

struct uptrkv_thread {
	struct uptrkv_store *s;
	pid_t pid, tid;
	void *meta_mem;			/* META_PAGES pages */
	struct uptrkv_hdr *hdr;
	struct uptrkv_meta *meta[UPTRKV_NR_SLOTS];
	struct uptrkv_page *data[UPTRKV_MAX_PAGES];
	__u32 page_mask;
	__u32 slot;			/* standalone: the slot keys live in */
	struct uptrkv_alloc seen;	/* referenced at the last scan */
	struct uptrkv_alloc quar;	/* freed since the last grace period */
	struct uptrkv_alloc view;	/* scratch: what may not be allocated */
	__u32 last_seq;			/* hdr->struct_seq after our last change */
	/* Each key's type (uptrkv_type + 1) in the layout the thread was
	 * registered for, for ids below nr_reg_type; 0: unknown, not
	 * checked. In the header page after this struct when it fits
	 * there, else malloc'ed (reg_type_heap). */
	__u8 *reg_type;
	__u32 nr_reg_type;
	bool reg_type_heap;
	bool foreign;			/* someone else (BPF, a rollout) changed
					 * the meta since: wait a grace period
					 * before allocating */
};

/*
 * A thread's own state lives in its header page, after struct uptrkv_hdr:
 * BPF and uptrkv's admin programs see only the header's bytes (the uptr's
 * type bounds them), and the rest of the page, pinned anyway, would be
 * wasted. So a registration allocates nothing from the heap for layouts
 * whose key ids fit the space left (docs/benchmarks.md, "Memory per thread").
 */
#define THREAD_OFF	((sizeof(struct uptrkv_hdr) + 63) & ~(size_t)63)
_Static_assert(THREAD_OFF + sizeof(struct uptrkv_thread) <= UPTRKV_PAGE_SIZE,
	       "thread state fits the header page");

/* ------------------------------------------------------------------ */
/* store                                                              */
/* ------------------------------------------------------------------ */

static int check_store_map(int fd, struct uptrkv_error *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	const struct btf_type *t;
	const char *name;
	struct btf *btf;
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		return uptrkv_errno(e, -errno, "store map: get info");
	if (info.type != BPF_MAP_TYPE_TASK_STORAGE)
		return uptrkv_err(e, -EINVAL, "store map '%s': not a uptrkv store: map type %u is not task storage",
				  info.name, info.type);
	if (info.key_size != sizeof(int) || info.value_size != sizeof(struct uptrkv_task_store))
		return uptrkv_err(e, -EINVAL,
				  "store map '%s': not a uptrkv store: key/value size %u/%u, expected %zu/%zu",
				  info.name, info.key_size, info.value_size, sizeof(int),
				  sizeof(struct uptrkv_task_store));
	if (!info.btf_id || !info.btf_value_type_id)
		return uptrkv_err(e, -EINVAL, "store map '%s': not a uptrkv store: no BTF value type",
				  info.name);
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return uptrkv_errno(e, -errno, "store map '%s': load BTF %u", info.name, info.btf_id);
	t = btf__type_by_id(btf, info.btf_value_type_id);
	name = t ? btf__name_by_offset(btf, t->name_off) : NULL;
	err = name && !strcmp(name, "uptrkv_task_store") ? 0 : -EINVAL;
	if (err)
		uptrkv_err(e, err, "store map '%s': not a uptrkv store: value type is '%s', expected 'uptrkv_task_store'",
			   info.name, name ? name : "?");
	btf__free(btf);
	return err;
}

static int open_ctl(struct uptrkv_store *s, const char *dir, struct uptrkv_error *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[4096];
	void *mem;

	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0)
		return uptrkv_errno(e, -errno, "open deployment %s", dir);
	snprintf(path, sizeof(path), "%s/%s", dir, UPTRKV_PIN_CTL);
	s->ctl_fd = bpf_obj_get(path);
	if (s->ctl_fd < 0)
		return uptrkv_errno(e, -errno, "open %s", path);
	if (bpf_obj_get_info_by_fd(s->ctl_fd, &info, &len))
		return uptrkv_errno(e, -errno, "%s: get info", path);
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct uptrkv_ctl) ||
	    !(info.map_flags & BPF_F_MMAPABLE))
		return uptrkv_err(e, -EINVAL, "%s: not a uptrkv control map (type %u, value size %u, flags 0x%x)",
				  path, info.type, info.value_size, info.map_flags);
	mem = mmap(NULL, UPTRKV_PAGE_SIZE, PROT_READ, MAP_SHARED, s->ctl_fd, 0);
	if (mem == MAP_FAILED)
		return uptrkv_errno(e, -errno, "%s: mmap", path);
	s->ctl_mem = mem;
	s->ctl = mem;
	if (__atomic_load_n(&s->ctl->magic, __ATOMIC_ACQUIRE) != UPTRKV_CTL_MAGIC)
		return uptrkv_err(e, -EINVAL, "%s: bad control magic 0x%x", path, s->ctl->magic);
	return 0;
}

/* The types table is optional: deployments made before it have none, and
 * their apps keep the exact-size behaviour. */
static int open_types(struct uptrkv_store *s, const char *dir, struct uptrkv_error *e)
{
	char path[4096];
	void *mem;

	snprintf(path, sizeof(path), "%s/%s", dir, UPTRKV_PIN_TYPES);
	s->types_fd = bpf_obj_get(path);
	if (s->types_fd < 0)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "open %s", path);
	mem = mmap(NULL, UPTRKV_PAGE_SIZE, PROT_READ, MAP_SHARED, s->types_fd, 0);
	if (mem == MAP_FAILED)
		return uptrkv_errno(e, -errno, "%s: mmap", path);
	s->types = mem;
	return 0;
}

/* The key record, if the deployment has one (made by a rollout of this
 * uptrkv or a later one). The mapping keeps the map; the fd is closed. */
static int open_keys(struct uptrkv_store *s, const char *dir, struct uptrkv_error *e)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[4096];
	void *mem;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, UPTRKV_PIN_KEYS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "open %s", path);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = uptrkv_errno(e, -errno, "%s: get info", path);
	else if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct uptrkv_keyrec) ||
		 info.max_entries != UPTRKV_NR_SLOTS || !(info.map_flags & BPF_F_MMAPABLE))
		err = uptrkv_err(e, -EINVAL, "%s: not a uptrkv key record (type %u, value size %u)",
				 path, info.type, info.value_size);
	if (!err) {
		mem = mmap(NULL, UPTRKV_KEYREC_MAP_BYTES, PROT_READ, MAP_SHARED, fd, 0);
		if (mem == MAP_FAILED)
			err = uptrkv_errno(e, -errno, "%s: mmap", path);
		else
			s->keys = mem;
	}
	close(fd);
	return err;
}

static struct uptrkv_store *store_new(void)
{
	struct uptrkv_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->map_fd = s->dir_fd = s->ctl_fd = s->types_fd = -1;
	s->grace_outer_fd = s->grace_inner_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->lock_mu, NULL);
	s->lock_pid = getpid();
	return s;
}

static int store_finish(struct uptrkv_store *s, const struct uptrkv_store_opts *opts,
			struct uptrkv_error *e)
{
	const char *dir = UPTRKV_OPTS_GET(opts, deploy_dir, NULL);
	int err;

	err = check_store_map(s->map_fd, e);
	if (!err && dir)
		err = open_ctl(s, dir, e);
	if (!err && dir)
		err = open_types(s, dir, e);
	if (!err && dir)
		err = open_keys(s, dir, e);
	return err;
}

int uptrkv_store__open_fd(int map_fd, const struct uptrkv_store_opts *opts,
			  struct uptrkv_store **out, struct uptrkv_error *e)
{
	struct uptrkv_store *s;
	int err;

	*out = NULL;
	if (!UPTRKV_OPTS_VALID(opts, uptrkv_store_opts, deploy_dir))
		return uptrkv_err(e, -EINVAL, "open store: bad opts (sz %zu; fields unknown to this libuptrkv set)",
				  opts->sz);
	if (map_fd < 0)
		return uptrkv_err(e, -EBADF, "open store: bad map fd %d", map_fd);
	s = store_new();
	if (!s)
		return uptrkv_err(e, -ENOMEM, "open store: out of memory");
	s->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);
	if (s->map_fd < 0) {
		err = uptrkv_errno(e, -errno, "open store: dup map fd");
		goto fail;
	}
	err = store_finish(s, opts, e);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	uptrkv_store__close(s);
	return err;
}

int uptrkv_store__open(const char *map_path, const struct uptrkv_store_opts *opts,
		       struct uptrkv_store **out, struct uptrkv_error *e)
{
	const char *dir = UPTRKV_OPTS_GET(opts, deploy_dir, NULL);
	char path[4096];
	int fd, err;

	*out = NULL;
	if (!map_path && dir) {
		snprintf(path, sizeof(path), "%s/%s", dir, UPTRKV_PIN_STORE);
		map_path = path;
	}
	if (!map_path)
		return uptrkv_err(e, -EINVAL, "open store: no map path and no deployment");
	fd = bpf_obj_get(map_path);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "open store %s", map_path);
	/* open_fd keeps its own duplicate of the fd. */
	err = uptrkv_store__open_fd(fd, opts, out, e);
	close(fd);
	return err;
}

void uptrkv_store__close(struct uptrkv_store *s)
{
	if (!s)
		return;
	if (s->ctl_mem)
		munmap(s->ctl_mem, UPTRKV_PAGE_SIZE);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	if (s->types)
		munmap((void *)s->types, UPTRKV_PAGE_SIZE);
	if (s->types_fd >= 0)
		close(s->types_fd);
	if (s->keys)
		munmap((void *)s->keys, UPTRKV_KEYREC_MAP_BYTES);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->map_fd >= 0)
		close(s->map_fd);
	if (s->grace_outer_fd >= 0)
		close(s->grace_outer_fd);
	if (s->grace_inner_fd >= 0)
		close(s->grace_inner_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->lock_mu);
	free(s);
}

/*
 * Waits until every non-sleepable BPF program run that started before the
 * call has finished: updating an ARRAY_OF_MAPS element from the syscall
 * calls synchronize_rcu(). The two small maps are created on first use.
 */
static int grace_period(struct uptrkv_store *s)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int zero = 0, err = 0;

	pthread_mutex_lock(&s->lock);
	if (s->grace_outer_fd < 0 && !s->grace_failed) {
		s->grace_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "uptrkv_gp_in", 4, 4, 1, NULL);
		if (s->grace_inner_fd >= 0) {
			o.inner_map_fd = s->grace_inner_fd;
			s->grace_outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "uptrkv_gp",
							   4, 4, 1, &o);
		}
		if (s->grace_outer_fd < 0)
			s->grace_failed = true;
	}
	if (s->grace_failed)
		err = -EPERM;
	else if (bpf_map_update_elem(s->grace_outer_fd, &zero, &s->grace_inner_fd, BPF_ANY))
		err = -errno;
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ------------------------------------------------------------------ */
/* thread helpers                                                     */
/* ------------------------------------------------------------------ */

static inline bool is_deployed(const struct uptrkv_thread *t)
{
	return t->s->ctl != NULL;
}

static inline __u32 cur_slot(const struct uptrkv_thread *t)
{
	if (is_deployed(t))
		return UPTRKV_SLOT(__atomic_load_n(&t->s->ctl->gen, __ATOMIC_ACQUIRE));
	return t->slot;
}

/*
 * The slot a call uses now, or -ESTALE when this store has no layout there
 * that the deployment's live programs share: a rollout left it out
 * (--skip-corrupt), and the thread must register again. A slot retired
 * just after we read the generation is not that: read it again.
 */
static int use_slot(const struct uptrkv_thread *t, __u32 *slot)
{
	for (int i = 0; i < 8; i++) {
		*slot = cur_slot(t);
		if (!is_deployed(t) || __atomic_load_n(&t->hdr->layout_hash[*slot], __ATOMIC_ACQUIRE) ==
				       t->s->ctl->layout_hash[*slot])
			return 0;
		if (*slot == cur_slot(t))
			return -ESTALE;
	}
	return -ESTALE;
}

/*
 * A fork child shares dir_fd's open file, and so its lock, with the
 * parent: it gets an open file of its own, and forgets the parent's
 * threads. Called with lock_mu held.
 */
static int lock_reopen_after_fork(struct uptrkv_store *s)
{
	int fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* Closing our copy does not drop the parent's lock: its fd is open. */
	close(s->dir_fd);
	s->dir_fd = fd;
	s->lock_users = 0;
	s->lock_pid = getpid();
	return 0;
}

/*
 * The app's shared lock on the deployment (see struct uptrkv_store): held
 * by the process while at least one of its threads is between store_lock
 * and store_unlock. The first thread in blocks in flock with lock_mu held;
 * the others would wait for the lock anyway.
 */
static int store_lock(struct uptrkv_store *s)
{
	int err = 0;

	if (s->dir_fd < 0)
		return 0;
	pthread_mutex_lock(&s->lock_mu);
	if (s->lock_pid != getpid())
		err = lock_reopen_after_fork(s);
	while (!err && !s->lock_users && flock(s->dir_fd, LOCK_SH))
		err = errno == EINTR ? 0 : -errno;
	if (!err)
		s->lock_users++;
	pthread_mutex_unlock(&s->lock_mu);
	return err;
}

static void store_unlock(struct uptrkv_store *s)
{
	if (s->dir_fd < 0)
		return;
	pthread_mutex_lock(&s->lock_mu);
	if (!--s->lock_users)
		flock(s->dir_fd, LOCK_UN);
	pthread_mutex_unlock(&s->lock_mu);
}

/* Structural changes (new key, delete, grow, compaction) exclude a rollout,
 * which holds LOCK_EX on the deployment directory while it migrates. */
static int struct_lock(struct uptrkv_thread *t)
{
	if (getpid() != t->pid)
		return -ECHILD;	/* handle inherited across fork */
	return store_lock(t->s);
}

static void struct_unlock(struct uptrkv_thread *t)
{
	store_unlock(t->s);
}

/* The thread's pidfd, the key of its store, opened only to update the
 * store and closed after: no fd is held per thread. */
static int thread_pidfd(const struct uptrkv_thread *t)
{
	int fd = (int)syscall(SYS_pidfd_open, t->tid, PIDFD_THREAD);

	return fd < 0 ? -errno : fd;
}

/* bpf_map_update_elem of the thread's store, or a delete if v is NULL. */
static int update_store(const struct uptrkv_thread *t, const struct uptrkv_task_store *v,
			__u64 flags)
{
	int fd = thread_pidfd(t), err = 0;

	if (fd < 0)
		return fd;
	if (v ? bpf_map_update_elem(t->s->map_fd, &fd, v, flags) : bpf_map_delete_elem(t->s->map_fd, &fd))
		err = -errno;
	close(fd);
	return err;
}

static void seq_lock(struct uptrkv_hdr *h, __u32 key)
{
	__u32 *seq = &h->seq[key % UPTRKV_NR_SEQ];
	unsigned int spins = 0;

	for (;;) {
		__u32 v = __atomic_load_n(seq, __ATOMIC_RELAXED);

		if (!(v & 1) && __atomic_compare_exchange_n(seq, &v, v + 1, false, __ATOMIC_SEQ_CST,
							    __ATOMIC_RELAXED))
			break;
		if (++spins % 64 == 0)
			sched_yield();
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void seq_unlock(struct uptrkv_hdr *h, __u32 key)
{
	__atomic_fetch_add(&h->seq[key % UPTRKV_NR_SEQ], 1, __ATOMIC_RELEASE);
}

static bool atomic_size(__u32 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static void store_value(void *dst, const void *src, __u32 size)
{
	switch (size) {
	case 1: { __u8 v; memcpy(&v, src, 1); __atomic_store_n((__u8 *)dst, v, __ATOMIC_RELAXED); break; }
	case 2: { __u16 v; memcpy(&v, src, 2); __atomic_store_n((__u16 *)dst, v, __ATOMIC_RELAXED); break; }
	case 4: { __u32 v; memcpy(&v, src, 4); __atomic_store_n((__u32 *)dst, v, __ATOMIC_RELAXED); break; }
	case 8: { __u64 v; memcpy(&v, src, 8); __atomic_store_n((__u64 *)dst, v, __ATOMIC_RELAXED); break; }
	default: memcpy(dst, src, size);
	}
}

static void load_value(void *dst, const void *src, __u32 size)
{
	switch (size) {
	case 1: { __u8 v = __atomic_load_n((const __u8 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 1); break; }
	case 2: { __u16 v = __atomic_load_n((const __u16 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 2); break; }
	case 4: { __u32 v = __atomic_load_n((const __u32 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 4); break; }
	case 8: { __u64 v = __atomic_load_n((const __u64 *)src, __ATOMIC_RELAXED); memcpy(dst, &v, 8); break; }
	default: memcpy(dst, src, size);
	}
}

/* Address of an entry's value; NULL if the entry is malformed or its page
 * is not registered (never trust shared memory). */
static void *ent_addr(const struct uptrkv_thread *t, __u32 ent)
{
	__u32 pg = UPTRKV_ENT_PAGE(ent), size = UPTRKV_ENT_SIZE(ent), off = UPTRKV_ENT_OFF(ent);

	if (!UPTRKV_ENT_IS_VALID(ent) || (ent & UPTRKV_ENT_FLAGS_MASK) || size < 1 ||
	    size > UPTRKV_MAX_VALUE || off + size > UPTRKV_PAGE_SIZE || !t->data[pg])
		return NULL;
	return t->data[pg]->bytes + off;
}

/*
 * The move of a forwarded value into meta slot `slot` (UPTRKV_ENT_FWD in
 * uptrkv_layout.h), as bpf/uptrkv_move.bpf.h's uptrkv__move_value does it
 * for BPF: the same conversion, the same order of publication. The caller
 * holds key's seqcount. 0, or -ENOENT (the previous version deleted the
 * key: now neither slot has it), -EAGAIN (changed meanwhile), -EINVAL.
 */
static int move_in(struct uptrkv_thread *t, __u32 slot, __u32 key)
{
	__u32 *ment = &t->meta[slot]->ent[key], *oent = &t->meta[slot ^ 1]->ent[key];
	__u32 e = __atomic_load_n(ment, __ATOMIC_ACQUIRE), eo, conv;
	__u8 *dst, *src;

	if (!UPTRKV_ENT_IS_FWD(e))
		return 0;
	eo = __atomic_load_n(oent, __ATOMIC_ACQUIRE);
	if (!UPTRKV_ENT_IS_VALID(eo)) {
		__atomic_compare_exchange_n(ment, &e, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
		return -ENOENT;
	}
	dst = ent_addr(t, UPTRKV_ENT_PLAIN(e));
	src = ent_addr(t, eo);
	if (!dst || !src || (e & UPTRKV_ENT_RSVD_MASK))
		return -EINVAL;
	conv = UPTRKV_ENT_CONV(e);
	if (uptrkv_convert_over(dst, UPTRKV_ENT_SIZE(e), src, UPTRKV_ENT_SIZE(eo), conv))
		return -EINVAL;
	if (!__atomic_compare_exchange_n(ment, &e, UPTRKV_ENT_PLAIN(e), false, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return -EAGAIN;
	__atomic_compare_exchange_n(oent, &eo,
				    UPTRKV_ENT_FORWARD(eo, conv == UPTRKV_ENT_CONV_STRING ?
						       UPTRKV_ENT_CONV_STRING : UPTRKV_ENT_CONV_PREFIX),
				    false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	return 0;
}

/*
 * key's entry in `slot` is forwarded. In the live slot it is moved in, and
 * the caller tries again; in the other one (this thread read the generation
 * just before a switch) the value has moved on to the live slot, and the
 * caller tries again there. `locked`: the caller holds the seqcount.
 */
static int forwarded(struct uptrkv_thread *t, __u32 slot, __u32 key, bool locked)
{
	int err;

	if (slot != cur_slot(t))
		return 0;
	if (!locked)
		seq_lock(t->hdr, key);
	err = move_in(t, slot, key);
	if (!locked)
		seq_unlock(t->hdr, key);
	return err == -EAGAIN ? 0 : err;
}

static const struct uptrkv_meta *const *metas(const struct uptrkv_thread *t)
{
	return (const struct uptrkv_meta *const *)t->meta;
}

/*
 * Rebuilds the used-space bitmap from the live meta slots. Extents that were
 * referenced at the previous scan and are not now (deleted or moved, by us
 * or by BPF) join the quarantine. t->view = used | quarantine.
 */
static void scan(struct uptrkv_thread *t)
{
	struct uptrkv_alloc cur;
	__u32 sq = __atomic_load_n(&t->hdr->struct_seq, __ATOMIC_ACQUIRE);

	if (sq != t->last_seq) {
		/* BPF deleted a key, or a rollout changed the meta: extents
		 * we never saw may have been referenced meanwhile. */
		t->foreign = true;
		t->last_seq = sq;
	}
	uptrkv_alloc__init(&cur, t->page_mask);
	/* Malformed entries are skipped: they own nothing. */
	uptrkv_alloc__mark_store(&cur, t->hdr, metas(t));
	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++)
		for (__u32 w = 0; w < UPTRKV_UNITS_PER_PAGE / 64; w++)
			t->quar.used[pg][w] |= t->seen.used[pg][w] & ~cur.used[pg][w];
	t->seen = cur;
	t->view = cur;
	uptrkv_alloc__merge(&t->view, &t->quar);
}

/* Our own meta change: bump struct_seq, noticing foreign changes. */
static void bump_seq(struct uptrkv_thread *t)
{
	__u32 old = __atomic_fetch_add(&t->hdr->struct_seq, 1, __ATOMIC_RELEASE);

	if (old != t->last_seq)
		t->foreign = true;
	t->last_seq = old + 1;
}

/* Every unit free now joins the quarantine. */
static void quarantine_free(struct uptrkv_thread *t)
{
	for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++) {
		if (!(t->page_mask & (1u << pg)))
			continue;
		for (__u32 w = 0; w < UPTRKV_UNITS_PER_PAGE / 64; w++)
			t->quar.used[pg][w] |= ~t->seen.used[pg][w];
	}
	t->view = t->seen;
	uptrkv_alloc__merge(&t->view, &t->quar);
}

static void release_quarantine(struct uptrkv_thread *t)
{
	if (uptrkv_alloc__empty(&t->quar))
		return;
	if (grace_period(t->s))
		return;	/* cannot prove readers are gone: keep it */
	uptrkv_alloc__init(&t->quar, t->page_mask);
	t->view = t->seen;
}

static void store_ptrs(const struct uptrkv_thread *t, struct uptrkv_task_store *v,
		       struct uptrkv_page *extra, __u32 extra_idx)
{
	memset(v, 0, sizeof(*v));
	v->hdr = t->hdr;
	for (__u32 i = 0; i < UPTRKV_NR_SLOTS; i++)
		v->meta[i] = t->meta[i];
	for (__u32 i = 0; i < UPTRKV_MAX_PAGES; i++)
		v->data[i] = i == extra_idx ? extra : t->data[i];
}

static void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * UPTRKV_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Adds one data page, the one the allocator's order picks for a value of
 * size bytes (0: a reservation). Before registration only locally; afterwards
 * with a BPF_EXIST update that carries every current pointer plus the new one. */
static int grow(struct uptrkv_thread *t, bool registered, __u32 size)
{
	struct uptrkv_task_store v;
	struct uptrkv_page *pg;
	int next = uptrkv_alloc__next_page(t->page_mask, size);
	__u32 i;

	if (next < 0)
		return next;
	i = (__u32)next;
	pg = map_pages(1);
	if (!pg)
		return -ENOMEM;
	if (registered) {
		int err;

		store_ptrs(t, &v, pg, i);
		err = update_store(t, &v, BPF_EXIST);
		if (err) {
			munmap(pg, UPTRKV_PAGE_SIZE);
			return err;
		}
	}
	t->data[i] = pg;
	t->page_mask |= 1u << i;
	t->seen.page_mask = t->quar.page_mask = t->view.page_mask = t->page_mask;
	__atomic_store_n(&t->hdr->page_mask, t->page_mask, __ATOMIC_RELEASE);
	return 0;
}

struct kent { __u32 key, ent; };

static int cmp_kent_size_desc(const void *a, const void *b)
{
	__u32 x = UPTRKV_ENT_SIZE(((const struct kent *)a)->ent);
	__u32 y = UPTRKV_ENT_SIZE(((const struct kent *)b)->ent);

	return x > y ? -1 : x < y;
}

/* Moves one value to new_ent: under the value's seqcount (user writers
 * wait, BPF writers get -EBUSY), copy, publish, quarantine the old extent. */
static bool move_value(struct uptrkv_thread *t, __u32 slot, __u32 key, __u32 old, __u32 ne)
{
	__u32 *slotp = &t->meta[slot]->ent[key];

	seq_lock(t->hdr, key);
	if (__atomic_load_n(slotp, __ATOMIC_ACQUIRE) != old) {
		/* deleted by BPF meanwhile */
		seq_unlock(t->hdr, key);
		uptrkv_alloc__free(&t->view, ne);
		return false;
	}
	memcpy(ent_addr(t, ne), ent_addr(t, old), UPTRKV_ENT_SIZE(ne));
	__atomic_store_n(slotp, ne, __ATOMIC_RELEASE);
	bump_seq(t);
	seq_unlock(t->hdr, key);
	uptrkv_alloc__free(&t->seen, old);
	uptrkv_alloc__mark(&t->seen, ne);
	uptrkv_alloc__mark(&t->quar, old);
	return true;
}

/*
 * Compaction: evacuates the least used page whose values all fit in the
 * other pages, so that after the next grace period it is entirely free.
 * Returns the number of values moved (0: nothing could be done).
 *
 * Only done when exactly one meta slot is live: two live slots may share an
 * extent, and two entries cannot be switched in one store.
 */
static int compact(struct uptrkv_thread *t)
{
	struct kent *v;
	__u32 n = 0, live = 0, slot = 0, tried = 0;
	int moved = 0;

	for (__u32 s = 0; s < UPTRKV_NR_SLOTS; s++)
		if (uptrkv_slot_live(t->hdr, s)) {
			live++;
			slot = s;
		}
	if (live != 1)
		return 0;
	v = malloc(sizeof(*v) * UPTRKV_MAX_KEYS);
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
		__u32 e = __atomic_load_n(&t->meta[slot]->ent[k], __ATOMIC_ACQUIRE);

		if (ent_addr(t, e))
			v[n++] = (struct kent){ k, e };
	}
	qsort(v, n, sizeof(*v), cmp_kent_size_desc);
	for (;;) {
		__u32 victim = UPTRKV_MAX_PAGES, best = ~0u;
		struct uptrkv_alloc sim;
		bool fits = true;

		/* least used page not tried yet; page 0 last, as its small
		 * values would leave it for good (BPF's fast path reads them
		 * there) */
		for (__u32 pg = 0; pg < UPTRKV_MAX_PAGES; pg++) {
			__u32 used = uptrkv_alloc__page_used(&t->view, pg);

			if (!(t->page_mask & (1u << pg)) || (tried & (1u << pg)) || !used)
				continue;
			if (!pg)
				used += UPTRKV_PAGE_SIZE;
			if (used < best) {
				best = used;
				victim = pg;
			}
		}
		if (victim == UPTRKV_MAX_PAGES)
			break;
		tried |= 1u << victim;
		sim = t->view;
		for (__u32 i = 0; i < n && fits; i++) {
			__u32 ne;

			if (UPTRKV_ENT_PAGE(v[i].ent) == victim)
				fits = !uptrkv_alloc__alloc_avoid(&sim, UPTRKV_ENT_SIZE(v[i].ent),
								 1u << victim, &ne);
		}
		if (!fits)
			continue;
		for (__u32 i = 0; i < n; i++) {
			__u32 ne;

			if (UPTRKV_ENT_PAGE(v[i].ent) != victim)
				continue;
			if (uptrkv_alloc__alloc_avoid(&t->view, UPTRKV_ENT_SIZE(v[i].ent), 1u << victim, &ne))
				break;	/* cannot happen: simulated above */
			moved += move_value(t, slot, v[i].key, v[i].ent, ne);
		}
		break;
	}
	free(v);
	return moved;
}

/* Finds room for size bytes; grows or compacts as needed. */
static int alloc_extent(struct uptrkv_thread *t, __u32 size, bool registered, __u32 *ent)
{
	int err, pass = 0;

	/* A store being built is private: every extent in it is one we
	 * allocated and marked, so there is nothing to scan for. */
	if (registered)
		scan(t);
	if (t->foreign && registered) {
		/* One grace period makes every currently free unit safe. If it
		 * cannot be had (no CAP_BPF for the two small maps), no free
		 * unit is: others may have freed it while a reader held it (a
		 * non-sleepable reader does not re-check its entry). They all
		 * join the quarantine, and new values go to fresh pages. */
		if (!grace_period(t->s)) {
			uptrkv_alloc__init(&t->quar, t->page_mask);
			t->view = t->seen;
		} else {
			quarantine_free(t);
		}
		t->foreign = false;
	}
	/* Small values live in page 0 (BPF's fast path): register it first
	 * rather than fit one in another page. If that fails, any page does. */
	if (size <= UPTRKV_SMALL_MAX && !(t->page_mask & 1u) && !grow(t, registered, size) &&
	    registered)
		scan(t);
	for (;;) {
		err = uptrkv_alloc__alloc(&t->view, size, ent);
		if (!err) {
			uptrkv_alloc__mark(&t->seen, *ent);
			return 0;
		}
		if (!uptrkv_alloc__empty(&t->quar)) {
			struct uptrkv_alloc before = t->quar;

			release_quarantine(t);
			if (memcmp(&before, &t->quar, sizeof(before)))
				continue;
		}
		/* Fragmented: enough free bytes, no hole large enough. */
		if (registered && pass < COMPACT_PASSES &&
		    uptrkv_alloc__free_bytes(&t->view) >= (size + 7) / 8 * 8) {
			pass++;
			if (compact(t) > 0)
				continue;
		}
		err = grow(t, registered, size);
		if (err)
			return err == -ENOSPC ? -ENOSPC : err;
		if (registered)
			scan(t);
	}
}

/* Writes key's value in m, the seqcount held. A smaller size writes the
 * prefix, if `prefix` allows it, and leaves the rest as it was. */
static int write_locked(struct uptrkv_thread *t, struct uptrkv_meta *m, __u32 key,
			const void *buf, __u32 size, bool prefix)
{
	__u32 e = __atomic_load_n(&m->ent[key], __ATOMIC_ACQUIRE);
	void *p;

	if (!UPTRKV_ENT_IS_VALID(e))
		return -ENOENT;
	if (UPTRKV_ENT_SIZE(e) != size && !(prefix && size < UPTRKV_ENT_SIZE(e)))
		return -EMSGSIZE;
	p = ent_addr(t, e);
	if (!p)
		return -EINVAL;
	/* Extents are 8-byte aligned: a 1/2/4/8-byte prefix is one store. */
	store_value(p, buf, size);
	return 0;
}

/* ---- apps built for another layout (docs/store.md) ---- */

static __u8 live_type(const struct uptrkv_thread *t, __u32 slot, __u32 key)
{
	const struct uptrkv_types *ty = t->s->types;

	return ty ? __atomic_load_n(&ty->type[slot][key], __ATOMIC_RELAXED) : 0;
}

static __u8 registered_type(const struct uptrkv_thread *t, __u32 key)
{
	return key < t->nr_reg_type ? t->reg_type[key] : 0;
}

/* -EPROTO: the key has another type in the live layout than in the one
 * the thread registered for; its bytes mean something else now. */
static int check_type(const struct uptrkv_thread *t, __u32 slot, __u32 key)
{
	__u8 live = live_type(t, slot, key), reg = registered_type(t, key);

	return reg && live && reg != live ? -EPROTO : 0;
}

/* Whether a smaller size reads or writes a prefix: bytes and strings
 * only (the prefix of an integer is not its value). */
static bool prefix_ok(const struct uptrkv_thread *t, __u32 slot, __u32 key)
{
	__u8 live = live_type(t, slot, key);

	return live == UPTRKV_T_BYTES + 1 || live == UPTRKV_T_STRING + 1;
}

/* The thread's layout had key and the live one has not: removed. */
static bool removed(const struct uptrkv_thread *t, __u32 slot, __u32 key)
{
	return t->s->types && registered_type(t, key) && !live_type(t, slot, key);
}

/* Writes an existing value in `slot`; -ENOENT if it is gone, -EMSGSIZE on
 * size mismatch, -ESTALE if the slot is no longer the live one and the
 * value moved on (try again in the live slot). */
static int write_existing(struct uptrkv_thread *t, __u32 slot, __u32 key,
			  const void *buf, __u32 size, bool strict)
{
	struct uptrkv_meta *m = t->meta[slot];
	int err = strict ? 0 : check_type(t, slot, key);

	if (err)
		return err;
	seq_lock(t->hdr, key);
	/* Under the seqcount: a move cannot happen now. */
	if (UPTRKV_ENT_IS_FWD(__atomic_load_n(&m->ent[key], __ATOMIC_ACQUIRE)))
		err = slot == cur_slot(t) ? move_in(t, slot, key) : -ESTALE;
	if (err == -EAGAIN)
		err = -ESTALE;
	err = err ?: write_locked(t, m, key, buf, size, !strict && prefix_ok(t, slot, key));
	seq_unlock(t->hdr, key);
	return err;
}

/* Creates key in meta m with the given bytes. */
static int create_key(struct uptrkv_thread *t, struct uptrkv_meta *m, __u32 key,
		      const void *buf, __u32 size, bool registered)
{
	__u32 ne, zero = 0;
	void *p;
	int err;

	err = alloc_extent(t, size, registered, &ne);
	if (err)
		return err;
	p = ent_addr(t, ne);
	if (buf)
		memcpy(p, buf, size);
	else
		memset(p, 0, size);
	/* Publish: one aligned 32-bit store after the bytes (release). */
	if (!__atomic_compare_exchange_n(&m->ent[key], &zero, ne, false, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED)) {
		uptrkv_alloc__free(&t->seen, ne);
		return -EEXIST;
	}
	bump_seq(t);
	return 0;
}

/* ------------------------------------------------------------------ */
/* thread API                                                         */
/* ------------------------------------------------------------------ */

/* t lives in its own header page: that goes last. */
static void thread_free(struct uptrkv_thread *t)
{
	void *meta_mem = t->meta_mem;

	for (__u32 i = 0; i < UPTRKV_MAX_PAGES; i++)
		if (t->data[i])
			munmap(t->data[i], UPTRKV_PAGE_SIZE);
	if (t->reg_type_heap)
		free(t->reg_type);
	munmap(meta_mem, META_PAGES * UPTRKV_PAGE_SIZE);
}

/*
 * What a registration builds: the slot and layout, the space, and the keys,
 * either the caller's (keys) or a deployment's key record (rec).
 */
struct reg {
	__u32 slot, hash, gen;
	__u32 reserve;
	const struct uptrkv_init_key *keys;
	size_t nr_keys;
	const struct uptrkv_keyrec *rec;
	bool replace;
};

/* Step 1: the caller's options make sense. */
static int check_reg(const struct reg *r, struct uptrkv_error *e)
{
	if (r->nr_keys && !r->keys)
		return uptrkv_err(e, -EINVAL, "register thread: nr_keys without keys");
	if (r->slot >= UPTRKV_NR_SLOTS)
		return uptrkv_err(e, -EINVAL, "register thread: slot %u out of range (0..%u)", r->slot,
				  UPTRKV_NR_SLOTS - 1);
	if (r->reserve > UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE)
		return uptrkv_err(e, -ENOSPC, "register thread: reserve of %u bytes exceeds %u",
				  r->reserve, UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE);
	for (size_t i = 0; i < r->nr_keys; i++) {
		const struct uptrkv_init_key *k = &r->keys[i];

		if (k->id >= UPTRKV_MAX_KEYS)
			return uptrkv_err(e, -EINVAL, "register thread: key %u out of range (0..%u)",
					  k->id, UPTRKV_MAX_KEYS - 1);
		if (k->size < 1 || k->size > UPTRKV_MAX_VALUE)
			return uptrkv_err(e, -EINVAL, "register thread: key %u: size %u out of range (1..%u)",
					  k->id, k->size, UPTRKV_MAX_VALUE);
		for (size_t j = 0; j < i; j++)
			if (r->keys[j].id == k->id)
				return uptrkv_err(e, -EINVAL, "register thread: key %u given twice", k->id);
	}
	return 0;
}

/* Step 2, deployed stores, under the shared lock: the live slot, whose
 * layout the caller's keys must be built for (if it names one). */
static int pick_live_slot(const struct uptrkv_store *s, struct reg *r, struct uptrkv_error *e)
{
	r->gen = __atomic_load_n(&s->ctl->gen, __ATOMIC_ACQUIRE);
	r->slot = UPTRKV_SLOT(r->gen);
	if (r->hash && r->hash != s->ctl->layout_hash[r->slot])
		return uptrkv_err(e, -ESTALE,
				  "register thread: built for layout 0x%08x, deployment runs 0x%08x (version %u)",
				  r->hash, s->ctl->layout_hash[r->slot], s->ctl->version[r->slot]);
	r->hash = s->ctl->layout_hash[r->slot];
	if (!r->hash)
		return uptrkv_err(e, -EINVAL, "register thread: deployment slot %u has no layout", r->slot);
	return 0;
}

/* The largest key id r registers, plus one. */
static __u32 nr_ids(const struct reg *r)
{
	size_t n = r->rec ? r->rec->nr_keys : r->nr_keys;
	__u32 top = 0;

	for (size_t i = 0; i < n; i++) {
		__u32 id = r->rec ? r->rec->keys[i].id : r->keys[i].id;

		top = id + 1 > top ? id + 1 : top;
	}
	return top;
}

/* Each registered key's type, in the header page after t if it fits. */
static int fill_reg_types(struct uptrkv_thread *t, const struct reg *r)
{
	size_t off = THREAD_OFF + sizeof(*t);

	t->nr_reg_type = nr_ids(r);
	if (off + t->nr_reg_type <= UPTRKV_PAGE_SIZE) {
		t->reg_type = (__u8 *)t->meta_mem + off;
	} else {
		t->reg_type = calloc(t->nr_reg_type, 1);
		if (!t->reg_type)
			return -ENOMEM;
		t->reg_type_heap = true;
	}
	for (size_t i = 0; r->rec && i < r->rec->nr_keys; i++)
		t->reg_type[r->rec->keys[i].id] = r->rec->keys[i].type + 1;
	for (size_t i = 0; !r->rec && i < r->nr_keys; i++)
		t->reg_type[r->keys[i].id] = r->keys[i].type ? r->keys[i].type + 1 : 0;
	return 0;
}

/* Step 3: the header and meta pages, private until published; the thread's
 * own state in the header page. */
static int map_meta(struct uptrkv_store *s, const struct reg *r, struct uptrkv_thread **out,
		    struct uptrkv_error *e)
{
	void *mem = map_pages(META_PAGES);
	struct uptrkv_thread *t;

	if (!mem)
		return uptrkv_errno(e, -errno, "register thread: mmap");
	t = (struct uptrkv_thread *)((char *)mem + THREAD_OFF);
	t->s = s;
	t->pid = getpid();
	t->tid = gettid();
	t->meta_mem = mem;
	*out = t;
	if (fill_reg_types(t, r))
		return uptrkv_err(e, -ENOMEM, "register thread: out of memory");
	t->hdr = t->meta_mem;
	for (__u32 i = 0; i < UPTRKV_NR_SLOTS; i++)
		t->meta[i] = (void *)((char *)t->meta_mem + (1 + i) * UPTRKV_PAGE_SIZE);
	t->hdr->magic = UPTRKV_MAGIC;
	t->hdr->format = UPTRKV_FORMAT;
	t->hdr->flags = t->s->ctl ? UPTRKV_HDR_F_MANAGED : 0;
	t->hdr->owner_tid = (__u32)t->tid;
	t->hdr->layout_hash[r->slot] = r->hash;
	t->hdr->meta_gen[r->slot] = r->gen;
	t->slot = r->slot;
	uptrkv_alloc__init(&t->seen, 0);
	uptrkv_alloc__init(&t->quar, 0);
	return 0;
}

/* Step 4: the data pages asked for, then every key at its default. */
static int fill_keys(struct uptrkv_thread *t, const struct reg *r, struct uptrkv_error *e)
{
	const struct uptrkv_keyrec *rec = r->rec;
	size_t n = rec ? rec->nr_keys : r->nr_keys;
	int err;

	while (t->page_mask != (1u << UPTRKV_MAX_PAGES) - 1 &&
	       __builtin_popcount(t->page_mask) * UPTRKV_PAGE_SIZE < r->reserve) {
		err = grow(t, false, 0);
		if (err)
			return uptrkv_errno(e, err, "register thread: reserve %u bytes", r->reserve);
	}
	for (size_t i = 0; i < n; i++) {
		const struct uptrkv_keyrec_key *rk = rec ? &rec->keys[i] : NULL;
		__u32 id = rk ? rk->id : r->keys[i].id, size = rk ? rk->size : r->keys[i].size;
		const void *def = !rk ? r->keys[i].def :
				  rk->flags & UPTRKV_KEYREC_K_DEF ? rec->defs + rk->def_off : NULL;

		err = create_key(t, t->meta[r->slot], id, def, size, false);
		if (err)
			return uptrkv_errno(e, err, "register thread: create key %u (%u bytes)", id, size);
	}
	return 0;
}

/* Step 5: one update makes the store visible to BPF and to rollouts. */
static int publish(struct uptrkv_thread *t, const struct reg *r, struct uptrkv_error *e)
{
	struct uptrkv_task_store v;
	int err;

	store_ptrs(t, &v, NULL, UPTRKV_MAX_PAGES);
	err = update_store(t, &v, r->replace ? BPF_ANY : BPF_NOEXIST);
	if (err == -EEXIST)
		return uptrkv_err(e, err,
				  "register thread %d: it already has a store (registered twice, or kept across exec; set opts.replace)",
				  t->tid);
	if (err)
		return uptrkv_errno(e, err, "register thread %d: store map update", t->tid);
	return 0;
}

/* Steps 3 to 5, for the slot and keys r names (the lock held if deployed). */
static int build(struct uptrkv_store *s, const struct reg *r, struct uptrkv_thread **out,
		 struct uptrkv_error *e)
{
	struct uptrkv_thread *t = NULL;
	int err;

	err = map_meta(s, r, &t, e);
	err = err ?: fill_keys(t, r, e);
	err = err ?: publish(t, r, e);
	if (err) {
		if (t)
			thread_free(t);
		return err;
	}
	*out = t;
	return 0;
}

int uptrkv_thread__register(struct uptrkv_store *s, const struct uptrkv_thread_opts *opts,
			    struct uptrkv_thread **out, struct uptrkv_error *e)
{
	struct reg r = {
		.keys = UPTRKV_OPTS_GET(opts, keys, NULL),
		.nr_keys = UPTRKV_OPTS_GET(opts, nr_keys, 0),
		.reserve = UPTRKV_OPTS_GET(opts, reserve_bytes, 0),
		.hash = UPTRKV_OPTS_GET(opts, layout_hash, 0),
		.slot = UPTRKV_OPTS_GET(opts, slot, 0),
		.replace = UPTRKV_OPTS_GET(opts, replace, false),
	};
	int err;

	*out = NULL;
	if (!s)
		return uptrkv_err(e, -EINVAL, "register thread: no store");
	if (!UPTRKV_OPTS_VALID(opts, uptrkv_thread_opts, replace))
		return uptrkv_err(e, -EINVAL, "register thread: bad opts (sz %zu; fields unknown to this libuptrkv set)",
				  opts->sz);
	err = check_reg(&r, e);
	if (err)
		return err;
	if (!s->ctl) {
		if (r.slot != 0 && !r.hash)
			return uptrkv_err(e, -EINVAL,
					  "register thread: meta slot %u needs a nonzero layout hash", r.slot);
		return build(s, &r, out, e);
	}
	err = store_lock(s);
	if (err)
		return uptrkv_errno(e, err, "register thread: lock deployment");
	err = pick_live_slot(s, &r, e);
	err = err ?: build(s, &r, out, e);
	store_unlock(s);
	return err;
}

/* Room for the next layout beside this one; at least a page, at most all. */
static __u32 default_reserve(__u32 need)
{
	__u64 twice = (__u64)need * 2;

	if (twice < UPTRKV_PAGE_SIZE)
		return UPTRKV_PAGE_SIZE;
	return twice > UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE ? UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE
							   : (__u32)twice;
}

/* The live slot's key record; under the shared lock, so no rollout is
 * writing it. */
static int live_keyrec(const struct uptrkv_store *s, struct reg *r, struct uptrkv_error *e)
{
	const struct uptrkv_keyrec *rec;
	int err;

	if (!s->ctl || !s->keys)
		return uptrkv_err(e, -ENOENT,
				  "register thread: the deployment has no key record (deployed by an older uptrkv): roll it out again");
	err = pick_live_slot(s, r, e);
	if (err)
		return err;
	rec = &s->keys[r->slot];
	if (rec->magic != UPTRKV_KEYREC_MAGIC || rec->format != UPTRKV_KEYREC_FORMAT ||
	    rec->slot != r->slot || rec->nr_keys > UPTRKV_MAX_KEYS || rec->layout_hash != r->hash)
		return uptrkv_err(e, -EINVAL,
				  "register thread: key record of slot %u does not match the live layout 0x%08x",
				  r->slot, r->hash);
	if (rec->flags & UPTRKV_KEYREC_F_TOO_BIG)
		return uptrkv_err(e, -ENOSPC, "register thread: layout 0x%08x needs more than %u bytes",
				  rec->layout_hash, UPTRKV_KEYREC_DEFS);
	r->rec = rec;
	if (!r->reserve)
		r->reserve = default_reserve(rec->need);
	return 0;
}

int uptrkv_store__register_live(struct uptrkv_store *s, __u32 reserve, struct uptrkv_thread **out,
				struct uptrkv_error *e)
{
	struct reg r = { .reserve = reserve };
	int err;

	*out = NULL;
	err = check_reg(&r, e);
	if (err)
		return err;
	err = store_lock(s);
	if (err)
		return uptrkv_errno(e, err, "register thread: lock deployment");
	err = live_keyrec(s, &r, e);
	err = err ?: build(s, &r, out, e);
	store_unlock(s);
	return err;
}

void uptrkv_thread__unregister(struct uptrkv_thread *t)
{
	if (!t)
		return;
	/* Only the thread itself knows its tid still names it: from another
	 * thread (or a fork child) the tid may be reused. The kernel deletes
	 * the element when the thread exits. */
	if (gettid() == t->tid && getpid() == t->pid)
		update_store(t, NULL, 0);
	/* The kernel unpins the pages after a grace period; until then they
	 * stay allocated even though they are unmapped here. */
	thread_free(t);
}

/* Copies n bytes of a value of vsize bytes at p (n <= vsize). */
static void read_value(void *buf, const void *p, __u32 vsize, __u32 n)
{
	__u64 v;

	if (n == vsize) {
		load_value(buf, p, vsize);
		return;
	}
	load_value(&v, p, vsize);
	memcpy(buf, &v, n);
}

/*
 * Reads key into buf (size bytes). strict: the value must fit (-EMSGSIZE);
 * otherwise a retyped key gives -EPROTO and a bytes or string value larger
 * than buf gives its prefix. Returns the bytes copied.
 */
static int get_value(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size, bool strict)
{
	struct uptrkv_meta *m;

	if (!t || key >= UPTRKV_MAX_KEYS || !buf)
		return -EINVAL;
	for (int i = 0; i < USER_READ_TRIES; i++) {
		__u32 slot, vsize, n, s1, s2, e;
		__u32 *seq = &t->hdr->seq[key % UPTRKV_NR_SEQ];
		void *p;
		int err;

		err = use_slot(t, &slot);
		if (err)
			return err;
		m = t->meta[slot];
		e = __atomic_load_n(&m->ent[key], __ATOMIC_ACQUIRE);
		if (!UPTRKV_ENT_IS_VALID(e))
			return -ENOENT;
		if (UPTRKV_ENT_IS_FWD(e)) {
			err = forwarded(t, slot, key, false);
			if (err)
				return err;
			continue;
		}
		err = strict ? 0 : check_type(t, slot, key);
		if (err)
			return err;
		vsize = UPTRKV_ENT_SIZE(e);
		p = ent_addr(t, e);
		if (!p)
			return -EINVAL;
		if (vsize > size && (strict || !prefix_ok(t, slot, key)))
			return -EMSGSIZE;
		n = vsize < size ? vsize : size;
		if (atomic_size(vsize)) {
			read_value(buf, p, vsize, n);
			if (__atomic_load_n(&m->ent[key], __ATOMIC_ACQUIRE) == e)
				return (int)n;
			continue;
		}
		s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			if (i % 64 == 63)
				sched_yield();
			continue;
		}
		memcpy(buf, p, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(seq, __ATOMIC_RELAXED);
		if (s1 == s2 && __atomic_load_n(&m->ent[key], __ATOMIC_ACQUIRE) == e)
			return (int)n;
	}
	return -EAGAIN;
}

int uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size)
{
	return get_value(t, key, buf, size, false);
}

int uptrkv_thread__get_exact(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size)
{
	return get_value(t, key, buf, size, true);
}

int uptrkv_thread__size(struct uptrkv_thread *t, __u32 key)
{
	__u32 e;

	if (!t || key >= UPTRKV_MAX_KEYS)
		return -EINVAL;
	/* A forwarded entry already has the new size. */
	e = __atomic_load_n(&t->meta[cur_slot(t)]->ent[key], __ATOMIC_ACQUIRE);
	return UPTRKV_ENT_IS_VALID(e) ? (int)UPTRKV_ENT_SIZE(e) : -ENOENT;
}

static int put_value(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size,
		     bool strict)
{
	struct uptrkv_meta *m;
	int err;

	if (!t || key >= UPTRKV_MAX_KEYS || !buf || size < 1 || size > UPTRKV_MAX_VALUE)
		return -EINVAL;
	for (int tries = 0; tries < 16; tries++) {
		__u32 slot;

		err = use_slot(t, &slot);
		if (err)
			return err;
		err = write_existing(t, slot, key, buf, size, strict);
		if (err == -ESTALE)
			continue;	/* the value moved on to the live slot */
		if (err != -ENOENT)
			return err;
		/* A key the layout removed is not created again behind its back. */
		if (!strict && removed(t, cur_slot(t), key))
			return -ENOENT;
		err = struct_lock(t);
		if (err)
			return err;
		m = t->meta[cur_slot(t)];
		err = create_key(t, m, key, buf, size, true);
		struct_unlock(t);
		if (err != -EEXIST)
			return err;
	}
	return -EAGAIN;
}

int uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size)
{
	return put_value(t, key, buf, size, false);
}

int uptrkv_thread__put_exact(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size)
{
	return put_value(t, key, buf, size, true);
}

int uptrkv_thread__delete(struct uptrkv_thread *t, __u32 key)
{
	struct uptrkv_meta *m;
	__u32 e;
	int err;

	if (!t || key >= UPTRKV_MAX_KEYS)
		return -EINVAL;
	err = struct_lock(t);
	if (err)
		return err;
	m = t->meta[cur_slot(t)];
	e = __atomic_load_n(&m->ent[key], __ATOMIC_ACQUIRE);
	if (!UPTRKV_ENT_IS_VALID(e))
		err = -ENOENT;
	else if (!__atomic_compare_exchange_n(&m->ent[key], &e, 0, false, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED))
		err = -ENOENT;	/* deleted by BPF meanwhile */
	else
		bump_seq(t);
	/* The extent joins the quarantine at the next scan. */
	struct_unlock(t);
	return err;
}

int uptrkv_thread__reserve(struct uptrkv_thread *t, __u32 bytes)
{
	int err = 0;

	if (!t)
		return -EINVAL;
	if (bytes > UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE)
		return -ENOSPC;
	err = struct_lock(t);
	if (err)
		return err;
	scan(t);
	while (uptrkv_alloc__free_bytes(&t->seen) < bytes) {
		err = grow(t, true, 0);
		if (err)
			break;
		scan(t);
	}
	struct_unlock(t);
	return err;
}

__u32 uptrkv_thread__free_bytes(struct uptrkv_thread *t)
{
	if (!t)
		return 0;
	scan(t);
	return uptrkv_alloc__free_bytes(&t->seen);
}
