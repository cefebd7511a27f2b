// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Admin programs: list, read and write other tasks' uptrkv stores.
 *
 * libuptrkv embeds this object (skeleton uptrkv_admin) and, before loading,
 * points uptrkv_store at the deployment's store map with
 * bpf_map__reuse_fd(), so these programs see the same elements as the
 * deployed programs and the applications.
 *
 * Self-contained on purpose: it only needs vmlinux.h and the layout, not
 * the BPF API header of user programs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef __uptr
#define __uptr __attribute__((btf_type_tag("uptr")))
#endif
#include "uptrkv_layout.h"
#include "uptrkv_admin_abi.h"

#ifndef EINVAL
#define EPERM	1
#define ENOENT	2
#define ESRCH	3
#define EAGAIN	11
#define EFAULT	14
#define EINVAL	22
#endif
#include "uptrkv_move.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The exact definition user programs use; replaced by reuse_fd at load. */
UPTRKV_STORE_MAP(uptrkv_store);
UPTRKV_BTF_COMPLETE(uptrkv_admin_);

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

static __always_inline __u32 present_mask(struct uptrkv_task_store *st)
{
	__u32 m = 0;

	if (st->hdr)
		m |= UPTRKV_R_BIT(UPTRKV_R_HDR);
	if (st->meta[0])
		m |= UPTRKV_R_BIT(UPTRKV_R_META0);
	if (st->meta[1])
		m |= UPTRKV_R_BIT(UPTRKV_R_META1);
#pragma unroll
	for (int i = 0; i < UPTRKV_MAX_PAGES; i++)
		if (st->data[i])
			m |= UPTRKV_R_BIT(UPTRKV_R_DATA(i));
	return m;
}

/* ---------------------------------------------------------------- list */

SEC("iter/task")
int uptrkv_admin_list(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct uptrkv_task_store *st;
	struct uptrkv_task_ref r = {};
	struct uptrkv_hdr *h;

	if (!task)
		return 0;
	st = bpf_task_storage_get(&uptrkv_store, task, 0, 0);
	if (!st)
		return 0;
	r.tgid = task->tgid;
	r.tid = task->pid;
	r.present = present_mask(st);
	h = st->hdr;
	if (h) {
		r.magic = h->magic;
		r.format = h->format;
		r.flags = h->flags;
		r.page_mask = h->page_mask;
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/* ------------------------------------------------------------ snapshot */

/*
 * Looks the task's element up. Returns it with *taskp holding a reference
 * the caller releases, or NULL with *err set.
 */
static __always_inline struct uptrkv_task_store *
store_of(__s32 tid, struct task_struct **taskp, int *err)
{
	struct uptrkv_task_store *st;
	struct task_struct *task;

	*taskp = NULL;
	if (tid <= 0) {
		*err = -EINVAL;
		return NULL;
	}
	task = bpf_task_from_pid(tid);
	if (!task) {
		*err = -ESRCH;
		return NULL;
	}
	st = bpf_task_storage_get(&uptrkv_store, task, 0, 0);
	if (!st) {
		bpf_task_release(task);
		*err = -ENOENT;
		return NULL;
	}
	*taskp = task;
	return st;
}

/*
 * Helpers cannot write into a syscall program's context on this kernel
 * (bpf_probe_read_kernel's dst must be stack, map value or mem, not ctx),
 * and clang does not inline a 4 KiB __builtin_memcpy for BPF. So regions
 * are copied by fully unrolled 8-byte loads and stores at constant
 * offsets: no helper call, no loop at run time, every access checked
 * statically. About 11K instructions in all, verified once at load.
 */
#define COPY_U64S(dst, src, size)					\
	do {								\
		__u64 *__d = (__u64 *)(dst);				\
		const __u64 *__s = (const __u64 *)(src);		\
		_Pragma("clang loop unroll(full)")			\
		for (int __j = 0; __j < (int)((size) / 8); __j++)	\
			__d[__j] = __s[__j];				\
	} while (0)

/* The header and both metas, as every snapshot program copies them. */
static __always_inline void copy_hdr_metas(struct uptrkv_hdr *dh, struct uptrkv_meta dm[2],
					   struct uptrkv_task_store *st, struct uptrkv_hdr *h)
{
	void *p;

	COPY_U64S(dh, h, sizeof(*dh));
	p = st->meta[0];
	if (p)
		COPY_U64S(&dm[0], p, sizeof(dm[0]));
	p = st->meta[1];
	if (p)
		COPY_U64S(&dm[1], p, sizeof(dm[1]));
}

SEC("syscall")
int uptrkv_admin_snapshot(struct uptrkv_snapshot *s)
{
	struct uptrkv_task_store *st;
	struct task_struct *task;
	struct uptrkv_hdr *h;
	void *p;
	int err = 0;

	st = store_of(s->tid, &task, &err);
	if (!st)
		return err;
	h = st->hdr;
	if (!h) {
		err = -EFAULT;
		goto out;
	}
	s->present = present_mask(st);
	copy_hdr_metas(&s->hdr, s->meta, st, h);
#pragma unroll
	for (int i = 0; i < UPTRKV_SNAP_SPLIT; i++) {
		p = st->data[i];
		if (p)
			COPY_U64S(&s->data[i], p, sizeof(s->data[i]));
	}
out:
	bpf_task_release(task);
	return err;
}

/* The second run: the last data pages, then the seqcounts again. */
SEC("syscall")
int uptrkv_admin_snapshot_tail(struct uptrkv_snap_tail *s)
{
	struct uptrkv_task_store *st;
	struct task_struct *task;
	struct uptrkv_hdr *h;
	void *p;
	int err = 0;

	st = store_of(s->tid, &task, &err);
	if (!st)
		return err;
	h = st->hdr;
	if (!h) {
		err = -EFAULT;
		goto out;
	}
	s->present = present_mask(st);
#pragma unroll
	for (int i = 0; i < UPTRKV_MAX_PAGES - UPTRKV_SNAP_SPLIT; i++) {
		p = st->data[UPTRKV_SNAP_SPLIT + i];
		if (p)
			COPY_U64S(&s->data[i], p, sizeof(s->data[i]));
	}
	/* Second read: a seq that moved means the value may be torn. */
	s->struct_seq_after = h->struct_seq;
	COPY_U64S(s->seq_after, h->seq, sizeof(s->seq_after));
out:
	bpf_task_release(task);
	return err;
}

/* The header and the metas only, in one run (struct uptrkv_snap_meta). */
SEC("syscall")
int uptrkv_admin_snapshot_meta(struct uptrkv_snap_meta *s)
{
	struct uptrkv_task_store *st;
	struct task_struct *task;
	struct uptrkv_hdr *h;
	int err = 0;

	st = store_of(s->tid, &task, &err);
	if (!st)
		return err;
	h = st->hdr;
	if (!h) {
		err = -EFAULT;
		goto out;
	}
	s->present = present_mask(st);
	copy_hdr_metas(&s->hdr, s->meta, st, h);
	/* As the whole snapshot's tail: read again after what they guard. */
	s->struct_seq_after = h->struct_seq;
	COPY_U64S(s->seq_after, h->seq, sizeof(s->seq_after));
out:
	bpf_task_release(task);
	return err;
}

static __always_inline struct uptrkv_page *page_of(struct uptrkv_task_store *st, __u32 r)
{
	switch (r) {
	case UPTRKV_R_META0: return (void *)st->meta[0];
	case UPTRKV_R_META1: return (void *)st->meta[1];
	case UPTRKV_R_DATA0 + 0: return st->data[0];
	case UPTRKV_R_DATA0 + 1: return st->data[1];
	case UPTRKV_R_DATA0 + 2: return st->data[2];
	case UPTRKV_R_DATA0 + 3: return st->data[3];
	case UPTRKV_R_DATA0 + 4: return st->data[4];
	case UPTRKV_R_DATA0 + 5: return st->data[5];
	case UPTRKV_R_DATA0 + 6: return st->data[6];
	case UPTRKV_R_DATA0 + 7: return st->data[7];
	}
	return NULL;
}

/* One page again, with the value's seqcount and struct_seq around it. */
SEC("syscall")
int uptrkv_admin_read_page(struct uptrkv_page_read *r)
{
	struct uptrkv_task_store *st;
	struct task_struct *task;
	struct uptrkv_page *p;
	struct uptrkv_hdr *h;
	__u32 idx = r->seq_idx & (UPTRKV_NR_SEQ - 1);
	int err = 0;

	st = store_of(r->tid, &task, &err);
	if (!st)
		return err;
	h = st->hdr;
	p = page_of(st, r->region);
	if (!h || !p) {
		err = -EFAULT;
		goto out;
	}
	r->struct_seq_before = h->struct_seq;
	r->seq_before = h->seq[idx];
	COPY_U64S(&r->page, p, sizeof(r->page));
	r->seq_after = h->seq[idx];
	r->struct_seq_after = h->struct_seq;
out:
	bpf_task_release(task);
	return err;
}

/* --------------------------------------------------------------- write */

/*
 * Writing len bytes at a variable offset: the verifier cannot relate two
 * variables (off + len <= 4096), so the copy is split into power-of-two
 * pieces, each of a constant size c at an offset the code bounds to
 * [0, limit - c]. The functions are global so that each is verified once,
 * not once per region and call site.
 */
#define COPY_PIECE(base, limit, c)					\
	do {								\
		if (len & (c)) {					\
			off &= 0xfff;					\
			if (off > (limit) - (c))			\
				return -EINVAL;				\
			if (bpf_copy_from_user((void *)(base) + off, (c), \
					       (const void *)src))	\
				return -EFAULT;				\
			off += (c);					\
			src += (c);					\
		}							\
	} while (0)

__noinline int put_page(struct uptrkv_page *pg, __u32 off, __u32 len, __u64 src)
{
	if (!pg)
		return -EFAULT;
	if (len == 4096) {
		if (off)
			return -EINVAL;
		if (bpf_copy_from_user(pg, 4096, (const void *)src))
			return -EFAULT;
		return 0;
	}
	COPY_PIECE(pg, 4096, 2048);
	COPY_PIECE(pg, 4096, 1024);
	COPY_PIECE(pg, 4096, 512);
	COPY_PIECE(pg, 4096, 256);
	COPY_PIECE(pg, 4096, 128);
	COPY_PIECE(pg, 4096, 64);
	COPY_PIECE(pg, 4096, 32);
	COPY_PIECE(pg, 4096, 16);
	COPY_PIECE(pg, 4096, 8);
	COPY_PIECE(pg, 4096, 4);
	COPY_PIECE(pg, 4096, 2);
	COPY_PIECE(pg, 4096, 1);
	return 0;
}

__noinline int put_hdr(struct uptrkv_hdr *h, __u32 off, __u32 len, __u64 src)
{
	if (!h)
		return -EFAULT;
	if (len > sizeof(*h))
		return -EINVAL;
	COPY_PIECE(h, sizeof(*h), 2048);
	COPY_PIECE(h, sizeof(*h), 1024);
	COPY_PIECE(h, sizeof(*h), 512);
	COPY_PIECE(h, sizeof(*h), 256);
	COPY_PIECE(h, sizeof(*h), 128);
	COPY_PIECE(h, sizeof(*h), 64);
	COPY_PIECE(h, sizeof(*h), 32);
	COPY_PIECE(h, sizeof(*h), 16);
	COPY_PIECE(h, sizeof(*h), 8);
	COPY_PIECE(h, sizeof(*h), 4);
	COPY_PIECE(h, sizeof(*h), 2);
	COPY_PIECE(h, sizeof(*h), 1);
	return 0;
}

/*
 * 32-bit store and add on live memory. The store is an xchg: one aligned
 * 32-bit write (readers see the old or the new entry) that is also a full
 * barrier, so the value bytes written before it in the batch are visible
 * before a meta entry that publishes them.
 */
__noinline int word_page(struct uptrkv_page *pg, __u32 off, __u32 op, __u32 val)
{
	__u32 *w;

	if (!pg)
		return -EFAULT;
	if (off & 3)
		return -EINVAL;
	off &= 0xfff;
	if (off > 4096 - 4)
		return -EINVAL;
	w = (void *)pg + off;
	if (op == UPTRKV_W_STORE32)
		__sync_lock_test_and_set(w, val);
	else
		__sync_fetch_and_add(w, val);
	return 0;
}

/*
 * A 32-bit op on a header word. UPTRKV_W_LOCK takes a seqcount word as
 * every writer of a value does, even -> odd by cmpxchg, and returns 1 if
 * another writer holds it (the group is skipped).
 */
__noinline int word_hdr(struct uptrkv_hdr *h, __u32 off, __u32 op, __u32 val)
{
	__u32 *w, v;

	if (!h)
		return -EFAULT;
	if (off & 3)
		return -EINVAL;
	off &= 0xfff;
	if (off > sizeof(*h) - 4)
		return -EINVAL;
	w = (void *)h + off;
	if (op == UPTRKV_W_LOCK) {
		/* as many tries as a BPF writer makes (uptrkv.bpf.h) */
		for (int i = 0; i < 8; i++) {
			v = *(volatile __u32 *)w;
			if (!(v & 1) && __sync_val_compare_and_swap(w, v, v + 1) == v)
				return 0;
		}
		return 1;
	}
	if (op == UPTRKV_W_STORE32)
		__sync_lock_test_and_set(w, val);
	else
		__sync_fetch_and_add(w, val);
	return 0;
}

/*
 * len (1..8) bytes from v (little endian, as they lay in memory) at off.
 * Aligned 1/2/4/8-byte values get one store, so a concurrent reader of a
 * live single-word value sees the old or the new value, never a mix.
 */
__noinline int put_inline(struct uptrkv_page *pg, __u32 off, __u32 len, __u64 v)
{
	__u8 *b;

	if (!pg)
		return -EFAULT;
	off &= 0xfff;
	if (len == 8 && !(off & 7)) {
		if (off > 4096 - 8)
			return -EINVAL;
		*(__u64 *)((void *)pg + off) = v;
		return 0;
	}
	if (len == 4 && !(off & 3)) {
		if (off > 4096 - 4)
			return -EINVAL;
		*(__u32 *)((void *)pg + off) = v;
		return 0;
	}
	if (len == 2 && !(off & 1)) {
		if (off > 4096 - 2)
			return -EINVAL;
		*(__u16 *)((void *)pg + off) = v;
		return 0;
	}
	if (len < 1 || len > 8)
		return -EINVAL;
	b = (__u8 *)pg;
#pragma unroll
	for (int j = 0; j < 8; j++) {
		__u32 o = (off + j) & 0x1fff;

		if (j >= len)
			break;
		if (o > 4095)
			return -EINVAL;
		b[o] = v >> (8 * j);
	}
	return 0;
}

/* The expected bytes of a CMP, copied from user memory. */
struct cmp_buf {
	__u8 b[UPTRKV_PAGE_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct cmp_buf);
} cmp_scratch SEC(".maps");

struct cmp_loop {
	struct uptrkv_page *pg;
	struct cmp_buf *buf;
	__u32 off;
	__u32 diff;
};

/* Byte i of the value against byte i of the expected copy. Bytes, not
 * words: a value's size need not be a multiple of 8, and a conditional
 * write is not on a hot path. */
static int cmp_byte(__u32 i, struct cmp_loop *c)
{
	/* off + len <= 4096 was checked: the masks only tell the verifier */
	__u32 o = (c->off + i) & (UPTRKV_PAGE_SIZE - 1), j = i & (UPTRKV_PAGE_SIZE - 1);

	if (c->pg->bytes[o] != c->buf->b[j]) {
		c->diff = 1;
		return 1;
	}
	return 0;
}

/* 0 if the len bytes at off equal the len bytes at src, 1 if not. */
__noinline int cmp_page(struct uptrkv_page *pg, __u32 off, __u32 len, __u64 src)
{
	struct cmp_loop c = {};
	int zero = 0;

	if (!pg)
		return -EFAULT;
	if (len < 1 || len > UPTRKV_PAGE_SIZE || off > UPTRKV_PAGE_SIZE - len)
		return -EINVAL;
	c.buf = bpf_map_lookup_elem(&cmp_scratch, &zero);
	if (!c.buf)
		return -EFAULT;
	if (bpf_copy_from_user(c.buf->b, len & 0x1fff, (const void *)src))
		return -EFAULT;
	c.pg = pg;
	c.off = off;
	bpf_loop(len, cmp_byte, &c, 0);
	return c.diff;
}

/* Group state: bit 31 set while skipping the rest of a group, bit 30 too if
 * because the seqcount stayed busy; below them, the offset of the seqcount
 * word held, plus 1 (0: none held). */
#define GROUP_SKIP	0x80000000u
#define GROUP_BUSY	0x40000000u
#define GROUP_FLAGS	(GROUP_SKIP | GROUP_BUSY)

/*
 * UPTRKV_W_LOCK, _CMP and _UNLOCK on group state *g. Returns 0, or when an
 * UNLOCK ends a skipped group 1 (a CMP differed) or 2 (the seqcount stayed
 * busy), or a negative errno. Global, so the verifier walks it once and not
 * once per path of the write loop.
 */
__noinline int group_op(struct uptrkv_hdr *h, struct uptrkv_page *pg, const struct uptrkv_write *w,
			__u32 *g)
{
	__u32 op, off;
	int err;

	if (!g || !w)
		return -EINVAL;
	op = w->op;
	off = w->off;
	if (op == UPTRKV_W_LOCK) {
		if (*g & ~GROUP_FLAGS)
			return -EINVAL;		/* nested */
		err = word_hdr(h, off, UPTRKV_W_LOCK, 0);
		if (err < 0)
			return err;
		*g = err ? GROUP_SKIP | GROUP_BUSY : (off & 0xfff) + 1;
		return 0;
	}
	if (op == UPTRKV_W_CMP) {
		err = cmp_page(pg, off, w->len, w->src);
		if (err < 0)
			return err;
		if (err)
			*g |= GROUP_SKIP;
		return 0;
	}
	/* UNLOCK */
	err = *g & GROUP_BUSY ? 2 : *g & GROUP_SKIP ? 1 : 0;
	if (*g & ~GROUP_FLAGS) {
		int e = word_hdr(h, (*g & ~GROUP_FLAGS) - 1, UPTRKV_W_ADD32, 1);

		if (e)
			return e;
	}
	*g = 0;
	return err;
}

/*
 * key's forwarded value moved into m (from o), its seqcount stripe held by
 * the caller. The entries are read again under it: a new version's
 * accessor may have moved the value since, or an application deleted it.
 * *moved: the entry was still forwarded. Returns 0, -ENOENT (deleted by
 * the previous version: nothing to move), -EAGAIN (the entry changed under
 * us), or -EINVAL for a corrupt pair. The one move of UPTRKV_W_MOVE and of
 * the move program.
 */
static __always_inline int move_locked(struct uptrkv_task_store *st, struct uptrkv_meta *m,
				       struct uptrkv_meta *o, __u32 key, bool *moved)
{
	__u32 e = *(volatile __u32 *)&m->ent[key];
	__u32 eo = *(volatile __u32 *)&o->ent[key];

	*moved = e & UPTRKV_ENT_FWD;
	if (!*moved)
		return 0;
	return uptrkv__move_value(&m->ent[key], &o->ent[key],
				  page_of(st, UPTRKV_R_DATA(UPTRKV_ENT_PAGE(e))),
				  page_of(st, UPTRKV_R_DATA(UPTRKV_ENT_PAGE(eo))),
				  (__u64)e << 32 | eo);
}

/*
 * UPTRKV_W_MOVE: moves key's forwarded value into meta slot `slot`, under
 * the key's seqcount, as a new version's accessor would have on first use.
 * Returns 0 (moved, or nothing left to move), 1 if the seqcount stayed busy
 * or the entry changed meanwhile (not done: try again), or a negative errno
 * for a corrupt pair of entries.
 */
static __always_inline int move_in(struct uptrkv_task_store *st, __u32 slot, __u32 key)
{
	struct uptrkv_meta *m = slot ? st->meta[1] : st->meta[0];
	struct uptrkv_meta *o = slot ? st->meta[0] : st->meta[1];
	__u32 off = offsetof(struct uptrkv_hdr, seq[key % UPTRKV_NR_SEQ]);
	bool moved;
	int err;

	if (!m || !o || key >= UPTRKV_MAX_KEYS)
		return -EFAULT;
	/* Most values were moved by the new version's first access: then
	 * the seqcount is not taken at all, so as not to make it busy. */
	if (!(*(volatile __u32 *)&m->ent[key] & UPTRKV_ENT_FWD))
		return 0;
	err = word_hdr(st->hdr, off, UPTRKV_W_LOCK, 0);
	if (err)
		return err;
	err = move_locked(st, m, o, key, &moved);
	word_hdr(st->hdr, off, UPTRKV_W_ADD32, 1);
	if (err == -ENOENT)
		return 0;	/* deleted by the previous version: nothing to move */
	return err == -EAGAIN ? 1 : err;
}

struct write_loop {
	struct uptrkv_task_store *st;
	__u64 writes;
	__u32 nr;
	int err;
	__u32 group;			/* group state, see GROUP_SKIP */
	__u32 skipped;			/* groups skipped */
	__u32 busy;			/* ... of which for a busy seqcount */
	/* Writes are read from user memory UPTRKV_WRITE_CHUNK at a time. */
	struct uptrkv_write chunk[UPTRKV_WRITE_CHUNK];
};

static int write_one(__u32 i, struct write_loop *l)
{
	struct uptrkv_write *w;
	struct uptrkv_page *pg;
	__u32 n;
	int err;

	if (!(i % UPTRKV_WRITE_CHUNK)) {
		n = l->nr - i;
		if (n > UPTRKV_WRITE_CHUNK)
			n = UPTRKV_WRITE_CHUNK;
		if (bpf_copy_from_user(l->chunk, n * sizeof(l->chunk[0]),
				       (const void *)(l->writes + (__u64)i * sizeof(l->chunk[0])))) {
			l->err = -EFAULT;
			return 1;
		}
	}
	w = &l->chunk[i % UPTRKV_WRITE_CHUNK];
	if (w->region >= __UPTRKV_R_MAX) {
		l->err = -EINVAL;
		return 1;
	}
	if ((l->group & GROUP_SKIP) && w->op != UPTRKV_W_UNLOCK)
		return 0;
	if (w->op == UPTRKV_W_LOCK || w->op == UPTRKV_W_CMP || w->op == UPTRKV_W_UNLOCK) {
		if ((w->op == UPTRKV_W_CMP) == (w->region == UPTRKV_R_HDR)) {
			err = w->op == UPTRKV_W_UNLOCK ? 0 : -EINVAL;
			pg = NULL;
		} else {
			err = 0;
			pg = w->op == UPTRKV_W_CMP ? page_of(l->st, w->region) : NULL;
		}
		err = err ?: group_op(l->st->hdr, pg, w, &l->group);
		if (err > 0) {
			l->skipped++;
			l->busy += err == 2;
			err = 0;
		}
	} else if (w->op == UPTRKV_W_COPY) {
		if (w->region == UPTRKV_R_HDR) {
			err = put_hdr(l->st->hdr, w->off, w->len, w->src);
		} else {
			pg = page_of(l->st, w->region);
			err = put_page(pg, w->off, w->len, w->src);
		}
	} else if (w->op == UPTRKV_W_INLINE) {
		/* The header is only ever changed with 32-bit ops. */
		pg = w->region == UPTRKV_R_HDR ? NULL : page_of(l->st, w->region);
		err = w->region == UPTRKV_R_HDR ? -EINVAL : put_inline(pg, w->off, w->len, w->src);
	} else if (w->op == UPTRKV_W_MOVE) {
		err = w->region == UPTRKV_R_META0 || w->region == UPTRKV_R_META1 ?
		      move_in(l->st, w->region - UPTRKV_R_META0, w->val) : -EINVAL;
		if (err > 0) {
			l->skipped++;
			l->busy++;
			err = 0;
		}
	} else if (w->op == UPTRKV_W_STORE32 || w->op == UPTRKV_W_ADD32) {
		if (w->region == UPTRKV_R_HDR) {
			err = word_hdr(l->st->hdr, w->off, w->op, w->val);
		} else {
			pg = page_of(l->st, w->region);
			err = word_page(pg, w->off, w->op, w->val);
		}
	} else {
		err = -EINVAL;
	}
	if (err) {
		l->err = err;
		return 1;
	}
	return 0;
}

SEC("syscall")
int uptrkv_admin_write(struct uptrkv_write_ctx *c)
{
	struct write_loop l = {};
	struct task_struct *task;
	__u32 nr = c->nr;
	int err = 0;
	long done;

	c->done = 0;
	c->skipped = 0;
	c->busy = 0;
	c->err = 0;
	if (nr > UPTRKV_WRITE_BATCH_MAX)
		return -EINVAL;
	l.st = store_of(c->tid, &task, &err);
	if (!l.st)
		goto out_noref;
	c->present = present_mask(l.st);
	/* All or nothing for missing regions: check before the first write. */
	if ((c->need & c->present) != c->need) {
		err = -EFAULT;
		goto out;
	}
	l.writes = c->writes;
	l.nr = nr;
	done = bpf_loop(nr, write_one, &l, 0);
	/* A batch that stopped inside a group still releases its lock. */
	if (l.group & ~GROUP_FLAGS)
		word_hdr(l.st->hdr, (l.group & ~GROUP_FLAGS) - 1, UPTRKV_W_ADD32, 1);
	c->skipped = l.skipped;
	c->busy = l.busy;
	if (done < 0) {
		err = done;
		goto out;
	}
	err = l.err;
	/* bpf_loop counts the iteration that stopped the loop. */
	c->done = err ? done - 1 : done;
out:
	bpf_task_release(task);
out_noref:
	c->err = err;
	return err;
}

/* ---------------------------------------------------------------- move */

/*
 * Moving every forwarded value of one meta slot in one run: after a
 * rollout's switch most of a store's resized keys are still forwarded, and
 * one run per store costs less than one UPTRKV_W_MOVE write per key: no
 * write read from user memory, no interpreter, sixteen keys with nothing
 * to move cost eight loads, and the two keys of a seqcount stripe (k and
 * k + 512) share one taking of it. Each key is moved exactly as move_in moves it,
 * so anything that may move a forwarded pair (the new version's accessors,
 * an application thread, this) may run meanwhile; moving every forwarded
 * pair, planned or not, is always right.
 */

/* Seqcount stripes per loop iteration: two 32-byte runs of entries (keys
 * k.. and k + 512..), tested for a forwarding bit with 8-byte loads. */
#define MOVE_CHUNK	8u
#define ENT_FWD2	((__u64)UPTRKV_ENT_FWD << 32 | UPTRKV_ENT_FWD)

struct move_loop {
	struct uptrkv_task_store *st;
	__u32 slot;
	__u32 base;			/* the chunk's first key */
	__u32 moved;
	__u32 busy;
	__u32 gone;
	__u32 err_key;
	int err;
};

static __always_inline bool forwarded(__u32 e)
{
	/* what finish_moves planned from a snapshot: valid and forwarded */
	return (e & (UPTRKV_ENT_VALID | UPTRKV_ENT_FWD)) == (UPTRKV_ENT_VALID | UPTRKV_ENT_FWD);
}

/*
 * key's forwarded value, its seqcount stripe held, as move_in. Returns 0
 * to go on, 1 to end the walk at a corrupt pair.
 */
static __always_inline int move_held(struct move_loop *l, struct uptrkv_meta *m,
				     struct uptrkv_meta *o, __u32 key)
{
	bool moved;
	int err;

	err = move_locked(l->st, m, o, key, &moved);
	if (!err) {
		l->moved += moved;
	} else if (err == -ENOENT) {
		l->gone++;		/* deleted by the previous version */
	} else if (err == -EAGAIN) {
		l->busy++;		/* the entry changed under us */
	} else {
		l->err = err;
		l->err_key = key;
		return 1;
	}
	return 0;
}

/*
 * Keys k = base + j and k + UPTRKV_NR_SEQ, which share a seqcount stripe:
 * it is taken once for both, as two movers in turn would take it (each
 * key's move is under its stripe, as move_in's; the stripe is held for
 * two moves instead of one). Returns 0 to go on, 1 to end the walk (a
 * corrupt pair, or the store gone from under us; l->err says which). A
 * callback of its own, so that the verifier walks the moves with an
 * unknown key, not once per key of a chunk, each with its 64 pairs of
 * data pages.
 */
static int move_stripe(__u32 j, struct move_loop *l)
{
	struct uptrkv_task_store *st = l->st;
	struct uptrkv_meta *m = l->slot ? st->meta[1] : st->meta[0];
	struct uptrkv_meta *o = l->slot ? st->meta[0] : st->meta[1];
	__u32 key = (l->base + j) & (UPTRKV_NR_SEQ - 1), off;
	bool lo, hi;
	int err;

	if (!m || !o) {
		l->err = -EFAULT;
		return 1;
	}
	lo = forwarded(*(volatile __u32 *)&m->ent[key]);
	hi = forwarded(*(volatile __u32 *)&m->ent[key + UPTRKV_NR_SEQ]);
	if (!lo && !hi)
		return 0;
	off = offsetof(struct uptrkv_hdr, seq[key]);
	err = word_hdr(st->hdr, off, UPTRKV_W_LOCK, 0);
	if (err > 0) {
		l->busy += lo + hi;
		return 0;
	}
	if (err) {
		l->err = err;
		return 1;
	}
	err = lo ? move_held(l, m, o, key) : 0;
	if (!err && hi)
		err = move_held(l, m, o, key + UPTRKV_NR_SEQ);
	word_hdr(st->hdr, off, UPTRKV_W_ADD32, 1);
	return err;
}

/* Stripes [i * MOVE_CHUNK, (i + 1) * MOVE_CHUNK): their sixteen keys'
 * entries in eight loads tell whether any is forwarded. */
static int move_chunk(__u32 i, struct move_loop *l)
{
	struct uptrkv_task_store *st = l->st;
	struct uptrkv_meta *m = l->slot ? st->meta[1] : st->meta[0];
	volatile __u64 *w, *w2;
	long n;

	if (!m) {
		l->err = -EFAULT;
		return 1;
	}
	l->base = (i * MOVE_CHUNK) & (UPTRKV_NR_SEQ - MOVE_CHUNK);
	w = (volatile __u64 *)&m->ent[l->base];
	w2 = (volatile __u64 *)&m->ent[l->base + UPTRKV_NR_SEQ];
	if (!((w[0] | w[1] | w[2] | w[3] | w2[0] | w2[1] | w2[2] | w2[3]) & ENT_FWD2))
		return 0;
	n = bpf_loop(MOVE_CHUNK, move_stripe, l, 0);
	if (n < 0)
		l->err = n;
	return l->err ? 1 : 0;
}

SEC("syscall")
int uptrkv_admin_move(struct uptrkv_move_ctx *c)
{
	struct move_loop l = {};
	struct task_struct *task;
	__u32 slot = c->slot;
	int err = 0;
	long n;

	c->moved = 0;
	c->busy = 0;
	c->gone = 0;
	c->err_key = 0;
	c->present = 0;
	if (slot >= UPTRKV_NR_SLOTS) {
		err = -EINVAL;
		goto out_noref;
	}
	l.st = store_of(c->tid, &task, &err);
	if (!l.st)
		goto out_noref;
	c->present = present_mask(l.st);
	if (!l.st->hdr || !l.st->meta[0] || !l.st->meta[1]) {
		err = -EFAULT;
		goto out;
	}
	l.slot = slot;
	n = bpf_loop(UPTRKV_NR_SEQ / MOVE_CHUNK, move_chunk, &l, 0);
	err = n < 0 ? n : l.err;
	c->moved = l.moved;
	c->busy = l.busy;
	c->gone = l.gone;
	c->err_key = l.err_key;
out:
	bpf_task_release(task);
out_noref:
	c->err = err;
	return err;
}
