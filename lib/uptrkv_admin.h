/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Admin access to other processes' stores, and dump. Included through
 * uptrkv.h; the structs the admin BPF programs share with it are in
 * uptrkv_admin_abi.h (beside uptrkv_layout.h, in bpf/).
 *
 * A process's uptr pages cannot be reached from another process's user
 * space (a map lookup returns the uptr fields as 0), so every access goes
 * through the admin BPF programs: an iter/task program lists the registered
 * tasks, and SEC("syscall") programs run with BPF_PROG_TEST_RUN copy a
 * task's regions out (snapshot) or apply a batch of writes to them.
 */
#ifndef __UPTRKV_ADMIN_H
#define __UPTRKV_ADMIN_H

#include "uptrkv_common.h"
#include "uptrkv_manifest.h"
#include "uptrkv_store.h"
/* The programs' side of the ABI (regions, snapshot, writes). */
#include "uptrkv_admin_abi.h"

/* ------------------------------------------------------------------ */
/* Admin handle (lib/admin.c)                                           */
/* ------------------------------------------------------------------ */

struct uptrkv_admin;

struct uptrkv_admin_opts {
	size_t sz;
	/* Load the programs with libbpf debug output (the caller's libbpf
	 * print callback decides where it goes). Reserved, may be 0. */
	__u32 flags;
	/* A bpffs folder (a deployment's) where uptrkv_admin__pin() kept the
	 * programs: they are reused from there instead of loaded and verified
	 * again, if they are this build's and run against store_fd's map.
	 * NULL: always load. */
	const char *pin_dir;
};

/*
 * A handle is for one thread at a time (list attaches its iterator lazily);
 * open one per thread for parallel use. The programs hold no state between
 * runs: every result goes to the caller's buffer.
 *
 * Loads the admin programs against the store map store_fd (a task-storage
 * map with struct uptrkv_task_store values). The fd is duplicated; the
 * caller keeps its own. -EINVAL "not an uptrkv store map" if it is not one;
 * -EPERM when CAP_BPF/CAP_PERFMON are missing.
 */
int uptrkv_admin__open(int store_fd, const struct uptrkv_admin_opts *opts,
		       struct uptrkv_admin **out, struct uptrkv_error *e);
void uptrkv_admin__close(struct uptrkv_admin *a);
/* True when the programs came from opts->pin_dir, not a load. */
bool uptrkv_admin__reused(const struct uptrkv_admin *a);
/*
 * Keeps the programs pinned in the bpffs folder dir (as dir/admin-HASH/,
 * HASH naming the embedded admin object), for later opens with that
 * pin_dir; removes the sets other builds pinned there. 0 if they came from
 * there already. A failure (no write access, a race with another pin)
 * only means the next open loads them again.
 */
int uptrkv_admin__pin(struct uptrkv_admin *a, const char *dir);

/* Checks that fd is an uptrkv store map, without loading anything. */
int uptrkv_store_map__check(int fd, struct uptrkv_error *e);

/*
 * Every task that has an element in the store, in the order the kernel
 * walks tasks. *tasks is malloc'ed (free() it); *n may be 0.
 */
int uptrkv_admin__list(struct uptrkv_admin *a, struct uptrkv_task_ref **tasks, size_t *n,
		       struct uptrkv_error *e);

/*
 * Copies tid's regions into *snap (45 KiB; callers usually heap-allocate
 * it and reuse it). -ESRCH: no such task; -ENOENT: the task has no store
 * element; -EFAULT: its element has no header. Regions that are not
 * registered are left zeroed and their bit in snap->present is clear.
 */
int uptrkv_admin__snapshot(struct uptrkv_admin *a, __u32 tid, struct uptrkv_snapshot *snap,
			   struct uptrkv_error *e);
/*
 * As uptrkv_admin__snapshot, but only the header, the metas, the regions
 * present and the seqcounts read after them (struct uptrkv_snap_meta), in
 * one program run: snap->data is left as it was, so no value may be read
 * from it (uptrkv_snapshot__value only says where a value is). For
 * callers that need the layout, not the values: planning a rollout.
 */
int uptrkv_admin__snapshot_meta(struct uptrkv_admin *a, __u32 tid, struct uptrkv_snapshot *snap,
				struct uptrkv_error *e);

/* Copies one page-sized region of tid's store (see struct uptrkv_page_read);
 * errors as for snapshot, -EFAULT if the region is not registered. */
int uptrkv_admin__read_page(struct uptrkv_admin *a, __u32 tid, unsigned int region,
			    __u32 seq_idx, struct uptrkv_page_read *r, struct uptrkv_error *e);

/*
 * Applies n writes to tid's store, in order, in as few program runs as
 * possible (one per 8192 writes). Every write is checked in user space
 * before the first is applied (-EINVAL: bad region, offset, length or
 * alignment), and each run checks that every region the whole batch
 * touches is registered before writing anything (-EFAULT otherwise).
 * Copies of 1..8 bytes are sent inline; an aligned 1/2/4/8-byte one is a
 * single store. -ESRCH, -ENOENT as for snapshot.
 * Writes are plain stores into live memory: a value that BPF programs or
 * the application may read concurrently must be unpublished, single-word,
 * or bracketed with ADD32 on its seq.
 */
int uptrkv_admin__write(struct uptrkv_admin *a, __u32 tid, const struct uptrkv_write *w,
			size_t n, struct uptrkv_error *e);
/* The same, and *skipped gets the number of LOCK groups skipped, *busy
 * how many of those for a seqcount that stayed busy (both may be NULL).
 * A group is never split between program runs. */
int uptrkv_admin__write_groups(struct uptrkv_admin *a, __u32 tid, const struct uptrkv_write *w,
			       size_t n, size_t *skipped, size_t *busy, struct uptrkv_error *e);

/*
 * Moves every forwarded value of meta slot `slot` of tid's store into its
 * own extent, in one program run, each as a UPTRKV_W_MOVE of its key
 * would (docs/design.md, "Moving a resized value"). out gets the counts:
 * moved; busy (the seqcount stayed busy or the entry changed meanwhile:
 * run again); gone (deleted meanwhile: nothing to move). -EINVAL when a
 * key's two entries are not a forwarded pair (a corrupt store; out->err_key
 * names it, and the walk, stripe by stripe, stops there); -ESRCH, -ENOENT,
 * -EFAULT as for snapshot.
 */
int uptrkv_admin__move_slot(struct uptrkv_admin *a, __u32 tid, __u32 slot,
			    struct uptrkv_move_ctx *out, struct uptrkv_error *e);

/* Write constructors. */
static inline struct uptrkv_write uptrkv_write__copy(__u8 region, __u16 off,
						     const void *src, __u16 len)
{
	struct uptrkv_write w = { .op = UPTRKV_W_COPY, .region = region, .off = off,
				  .len = len, .src = (__u64)(unsigned long)src };
	return w;
}

static inline struct uptrkv_write uptrkv_write__store32(__u8 region, __u16 off, __u32 val)
{
	struct uptrkv_write w = { .op = UPTRKV_W_STORE32, .region = region, .off = off,
				  .len = 4, .val = val };
	return w;
}

static inline struct uptrkv_write uptrkv_write__add32(__u8 region, __u16 off, __u32 val)
{
	struct uptrkv_write w = { .op = UPTRKV_W_ADD32, .region = region, .off = off,
				  .len = 4, .val = val };
	return w;
}

/* A conditional group on the seqcount word of key (see UPTRKV_W_LOCK). */
static inline struct uptrkv_write uptrkv_write__lock(__u32 key)
{
	struct uptrkv_write w = { .op = UPTRKV_W_LOCK, .region = UPTRKV_R_HDR, .len = 4,
				  .off = __builtin_offsetof(struct uptrkv_hdr, seq) + 4 * (key % UPTRKV_NR_SEQ) };
	return w;
}

static inline struct uptrkv_write uptrkv_write__cmp(__u8 region, __u16 off,
						    const void *expect, __u16 len)
{
	struct uptrkv_write w = { .op = UPTRKV_W_CMP, .region = region, .off = off,
				  .len = len, .src = (__u64)(unsigned long)expect };
	return w;
}

static inline struct uptrkv_write uptrkv_write__unlock(void)
{
	struct uptrkv_write w = { .op = UPTRKV_W_UNLOCK, .region = UPTRKV_R_HDR };
	return w;
}

/* Moves key's forwarded value into meta slot `slot` (see UPTRKV_W_MOVE). */
static inline struct uptrkv_write uptrkv_write__move(__u32 slot, __u32 key)
{
	struct uptrkv_write w = { .op = UPTRKV_W_MOVE, .region = UPTRKV_R_META(slot),
				  .off = 4 * (key % UPTRKV_MAX_KEYS), .len = 4, .val = key };
	return w;
}

/* Size of a region: the header is smaller than a page. */
static inline __u32 uptrkv_region__size(unsigned int region)
{
	return region == UPTRKV_R_HDR ? sizeof(struct uptrkv_hdr) : UPTRKV_PAGE_SIZE;
}

/* ------------------------------------------------------------------ */
/* Reading a snapshot                                                   */
/* ------------------------------------------------------------------ */

/* -EPROTO (with a message) unless the header's magic and format are ours. */
int uptrkv_snapshot__check(const struct uptrkv_snapshot *s, struct uptrkv_error *e);

/*
 * The value of key in meta slot slot: *ptr points into s->data, *size is
 * its size. -ENOENT: no such key (or slot/meta not registered); -EFAULT:
 * its data page is not registered; -EUCLEAN: malformed entry.
 */
int uptrkv_snapshot__value(const struct uptrkv_snapshot *s, unsigned int slot, __u32 key,
			   const void **ptr, __u32 *size);

/*
 * True if the copy of key's value can be trusted: 1/2/4/8-byte values are
 * single-copy atomic; longer ones need their seq even and unchanged across
 * the copy. Also false if the meta changed during the copy.
 */
bool uptrkv_snapshot__stable(const struct uptrkv_snapshot *s, __u32 key, __u32 size);
/*
 * Key's current value in slot, copied to buf (UPTRKV_MAX_VALUE bytes), as
 * a reader of that slot gets it: a forwarded entry's value is taken from the
 * other slot's extent and converted, as the move would. Errors as for
 * uptrkv_snapshot__value.
 */
int uptrkv_snapshot__read(const struct uptrkv_snapshot *s, unsigned int slot, __u32 key,
			  void *buf, __u32 *size);

/* ------------------------------------------------------------------ */
/* Dump: a live process's keys, decoded (lib/dump.c)                    */
/* ------------------------------------------------------------------ */

struct uptrkv_dump_key {
	__u32 id;
	const char *name;		/* from the manifest; NULL if not in it */
	enum uptrkv_type type;		/* UPTRKV_T_BYTES without a manifest entry,
					 * or when the store's size disagrees */
	__u32 size;			/* the size in the store */
	__u8 *value;			/* size bytes */
	__u8 page;			/* the data page of its extent: 0 is the
					 * BPF fast path's (docs/store.md) */
	bool changing;			/* never read stable in every try */
};

struct uptrkv_dump_thread {
	__u32 tid;
	__u32 slot;			/* meta slot decoded */
	__u16 flags;			/* hdr->flags */
	__u32 page_mask;		/* data pages registered */
	struct uptrkv_dump_key *keys;	/* sorted by id */
	size_t nr_keys;
	__u8 *values;			/* one block holding every keys[].value */
};

struct uptrkv_dump {
	__u32 pid;			/* as asked: a process or one thread */
	char *deployment;		/* NULL for a bare store */
	__u32 version;			/* manifest version; 0 without a manifest */
	__u32 gen;			/* deployment generation */
	/* The manifest the keys were decoded by, NULL without one. Freed
	 * with the dump when the dump read it (from a deployment), not when
	 * the caller lent it (uptrkv_dump__store). */
	struct uptrkv_manifest *manifest;
	bool manifest_owned;
	struct uptrkv_dump_thread *threads;	/* registered threads only */
	size_t nr_threads;
};

struct uptrkv_dump_opts {
	size_t sz;
	/* Only this deployment (uptrkv_dump__pid). */
	const char *deployment;
	/* Only these keys: each an id ("7") or a manifest name. A name no
	 * deployment knows is -EINVAL. */
	const char *const *keys;
	size_t nr_keys;
	/* Snapshots taken when a multi-word value changed during the copy,
	 * before the value is reported as changing. Default 8. */
	int tries;
	/* uptrkv_dump__store: the meta slot to decode (default 0). */
	__u32 slot;
};

/*
 * The threads of pid (a process: all its threads; a thread id: that one)
 * as the tids to read. -ESRCH if there is no such task.
 */
int uptrkv_pid__threads(__u32 pid, __u32 **tids, size_t *n, struct uptrkv_error *e);

/*
 * Dumps pid from one store map. m (may be NULL: keys by id, raw bytes) is
 * borrowed, not owned by the result. -ENOENT (with "no uptrkv store
 * registered for PID N") when no thread of pid has an element; -EPROTO
 * when a header's magic or format is not understood (nothing guessed).
 */
int uptrkv_dump__store(int store_fd, const struct uptrkv_manifest *m, __u32 pid,
		       const struct uptrkv_dump_opts *opts, struct uptrkv_dump **out,
		       struct uptrkv_error *e);

/*
 * Dumps pid from every deployment under bpffs whose store holds elements
 * of its threads (decoded by each one's active slot and recorded
 * manifest). *out gets one struct per matching deployment, sorted by name;
 * -ENOENT when none matches.
 */
int uptrkv_dump__pid(const char *bpffs, __u32 pid, const struct uptrkv_dump_opts *opts,
		     struct uptrkv_dump ***out, size_t *n, struct uptrkv_error *e);
void uptrkv_dump__free(struct uptrkv_dump *d);
void uptrkv_dumps__free(struct uptrkv_dump **v, size_t n);

/*
 * Formats a value for people: integers in decimal, bool true/false,
 * strings up to their NUL (quoted, with C escapes for quotes, backslashes
 * and bytes outside printable ASCII), bytes as 0x and hex. Strings and
 * bytes are cut after max_bytes bytes, marked with "..." (0: whole).
 * Returns the length it needed, like snprintf.
 */
int uptrkv_value__format(char *buf, size_t sz, enum uptrkv_type t, const void *v,
			 __u32 size, __u32 max_bytes);
/* Integer types and bool (uptrkv_type__width() != 0): the value sign- or
 * zero-extended to 64 bits. */
__s64 uptrkv_value__s64(enum uptrkv_type t, const void *v);
__u64 uptrkv_value__u64(enum uptrkv_type t, const void *v);

#endif
