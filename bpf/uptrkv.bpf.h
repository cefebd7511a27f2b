/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * uptrkv BPF-side API: int-keyed values in the calling thread's own memory.
 *
 *	#include "vmlinux.h"
 *	#include <bpf/bpf_helpers.h>
 *	#include "uptrkv.bpf.h"
 *
 *	SEC("tp_btf/sys_enter")
 *	int prog(u64 *ctx)
 *	{
 *		struct uptrkv_task_store *s = uptrkv_open(&uptrkv_store);
 *		__u64 v;
 *
 *		if (!s || uptrkv_get(s, KEY_RX, &v, 8) < 0)
 *			return 0;
 *		v++;
 *		uptrkv_put(s, KEY_RX, &v, 8);
 *		return 0;
 *	}
 *
 * uptrkv_open does the only helper call (bpf_task_storage_get); get, put,
 * ptr and delete are plain loads and stores after it. For hot paths, open
 * a struct uptrkv_ctx instead (uptrkv_open_ctx, below): every accessor
 * takes either handle, and the ctx saves a dependent load per call.
 * Sizes passed to uptrkv_get/uptrkv_put/uptrkv_ptr must be compile-time constants; use
 * uptrkv_get_var/uptrkv_put_var for sizes known only at run time.
 *
 * Errors (negative): -EINVAL key >= 1024 or a corrupt entry, -ENOENT no such
 * key, -EMSGSIZE size mismatch, -EAGAIN a value kept changing under a reader,
 * -EBUSY a writer holds the value's seqcount (retry later).
 *
 * Concurrency (see docs/store.md): every writer of a value, BPF or user
 * space, holds the value's seqcount stripe hdr->seq[key % 512] odd while it
 * writes. Readers of 1/2/4/8-byte values do one aligned load; readers of
 * other sizes use the seqcount. After a rollout that resized a key, its
 * entry is forwarded until someone moves the value in (uptrkv_layout.h,
 * UPTRKV_ENT_FWD): the first get, put or ptr that meets it does, on the
 * slow path, so the value read is always the last one written. A reader re-checks the meta entry after
 * reading, so a value that was deleted or moved meanwhile is not returned.
 * For 1/2/4/8 bytes that re-check matters only to sleepable programs
 * (SEC("syscall"), *.s): the allocator's quarantine waits for an RCU grace
 * period, which covers every non-sleepable run but not them. An object whose
 * loader sets uptrkv_sleepable = 0 (below) skips it (docs/store.md).
 */
#ifndef __UPTRKV_BPF_H
#define __UPTRKV_BPF_H

/* clang < 15 parses btf_type_tag("uptr") but leaves it out of BTF, so the
 * kernel sees the store's uptr field as a plain scalar and the build fails
 * later with confusing errors ("invalid operand for instruction") or an
 * object the kernel rejects. Stop here and say so. */
#if defined(__clang__) && __clang_major__ < 15
#error "uptrkv.bpf.h needs clang >= 15: older clang silently drops btf_type_tag(\"uptr\"), so the kernel would see the uptr field as a scalar. Install clang-15 or newer (e.g. Debian's clang-19) and build with it."
#endif

#ifndef __VMLINUX_H__
#include "vmlinux.h"
#endif
#include <bpf/bpf_helpers.h>
#include "uptrkv_layout.h"
#include "uptrkv_bind.h"

#ifndef ENOENT
#define ENOENT		2
#endif
#ifndef EAGAIN
#define EAGAIN		11
#endif
#ifndef EBUSY
#define EBUSY		16
#endif
#ifndef EINVAL
#define EINVAL		22
#endif
#ifndef EMSGSIZE
#define EMSGSIZE	90
#endif
#ifndef EXDEV
#define EXDEV		18	/* internal: the entry is forwarded, never returned */
#endif
#include "uptrkv_move.bpf.h"

#ifndef UPTRKV_READ_TRIES
#define UPTRKV_READ_TRIES	8	/* seqcount retries before -EAGAIN */
#endif
#ifndef UPTRKV_WRITE_TRIES
#define UPTRKV_WRITE_TRIES	8	/* seqcount take attempts before -EBUSY */
#endif
/* Constant-size copies up to this size are inlined loads/stores; larger ones
 * use bpf_probe_read_kernel (one helper call, ~45x faster than a byte loop). */
#ifndef UPTRKV_INLINE_COPY_MAX
#define UPTRKV_INLINE_COPY_MAX	256
#endif

/*
 * Set by the loader (bpf_object rodata) before load: the meta slot this
 * program version reads, and the layout hash it was built for (0: not
 * managed by a deployment, the check is skipped).
 */
const volatile __u32 uptrkv_slot = 0;
const volatile __u32 uptrkv_layout_hash = 0;
/*
 * Also set by the loader: 0 when no program of the object is sleepable.
 * uptrkv's own loader sets it, as every hook it deploys is non-sleepable;
 * skeleton users may set it the same way. A program run is then inside one
 * RCU read-side section, which the quarantine of freed extents waits for, so
 * a 1/2/4/8-byte get needs no entry re-check and the verifier drops it.
 * The default, 1, keeps the re-check: a sleepable run can be preempted
 * between the two loads and synchronize_rcu() does not wait for it.
 */
const volatile __u32 uptrkv_sleepable = 1;

/* Pointee structs complete in BTF; UPTRKV_STORE_MAP is in uptrkv_layout.h. */
UPTRKV_BTF_COMPLETE(uptrkv_);

#ifndef UPTRKV_NO_DEFAULT_STORE
UPTRKV_STORE_MAP(uptrkv_store);
#endif

#define UPTRKV_READ_ONCE(x)	(*(volatile __typeof__(x) *)&(x))
#define UPTRKV_WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))
#define uptrkv__barrier_var(v)	asm volatile("" : "+r"(v))

/*
 * The T at base + o0 or at base + o1, as (slot & 1) says, with slot a
 * loader-set rodata constant. Both loads are in one asm, laid out as
 *
 *	if slot & 1 goto +2; r = *(base + o0); goto +1; r = *(base + o1)
 *
 * The verifier knows the constant and follows one side only. It then
 * (privileged programs) removes the dead load and the jumps, which have
 * become jumps to the next instruction, so either slot runs one load at a
 * constant offset: no select of offsets and add in front of it, on the chain
 * from the task-storage element to the value, and no taken jump. In C (a
 * ternary, or an asm goto on the slot) clang merges the two loads into one
 * at base + a selected offset, or lays one slot's load out of line.
 * r may share a register with base or slot: each is read before r is
 * written on either path.
 */
#define uptrkv__SLOT_LD(T, W, RC, slot, base, o0, o1) ({				\
	T __uptrkv_r;								\
	asm volatile("if %[s] & 1 goto +2\n\t"					\
		     "%[r] = *(" #W " *)(%[b] + %[a])\n\t"			\
		     "goto +1\n\t"						\
		     "%[r] = *(" #W " *)(%[b] + %[c])"				\
		     : [r] "=" RC(__uptrkv_r)					\
		     : [s] "r"(slot), [b] "r"(base), [a] "i"(o0), [c] "i"(o1));	\
	__uptrkv_r; })
/* s->meta[slot & 1] and s->meta[!(slot & 1)] */
#define uptrkv__META_LD(slot, s) uptrkv__SLOT_LD(struct uptrkv_meta *, u64, "r", slot, s,	\
	__builtin_offsetof(struct uptrkv_task_store, meta[0]),			\
	__builtin_offsetof(struct uptrkv_task_store, meta[1]))
#define uptrkv__OTHER_META_LD(slot, s) uptrkv__SLOT_LD(struct uptrkv_meta *, u64, "r", slot, s, \
	__builtin_offsetof(struct uptrkv_task_store, meta[1]),			\
	__builtin_offsetof(struct uptrkv_task_store, meta[0]))

static __always_inline struct uptrkv_meta *uptrkv__meta(struct uptrkv_task_store *s)
{
	return uptrkv__META_LD(uptrkv_slot, s);
}

/* The other slot's meta, where a forwarded entry's value still is. */
static __always_inline struct uptrkv_meta *uptrkv__other_meta(struct uptrkv_task_store *s)
{
	return uptrkv__OTHER_META_LD(uptrkv_slot, s);
}

/*
 * Data page of meta entry e (page index in bits 22-24), or NULL if that
 * page is not registered.
 *
 * The verifier takes a uptr field only at a constant offset in the map
 * value, so s->data[pg] with a variable pg is refused. A switch over the
 * eight constant indexes is what C offers; clang made it up to five
 * compares and two taken jumps (a binary tree in asm still took two taken
 * jumps, and measured slower and more placement-sensitive than this).
 *
 * Here the byte offset pg * 8 is computed, then three bit tests on it jump
 * to the next instruction whichever way they go: the same path for the CPU
 * (though a set bit is a taken jump, so page 0 is cheapest and the fast path
 * skips this for it), but the verifier follows both
 * outcomes of each and learns the bit, so on each of its 8 paths the offset
 * is a known constant and the load below is the constant-offset uptr load it
 * accepts (6.18 refines a register on BPF_JSET with a single-bit mask). "+r"
 * ties the load to the tested register, after the tests.
 */
static __always_inline struct uptrkv_page *uptrkv__page_of(struct uptrkv_task_store *s, __u32 e)
{
	__u64 off = (e >> (UPTRKV_ENT_PAGE_SHIFT - 3)) & (UPTRKV_ENT_PAGE_MASK << 3);

	_Static_assert(UPTRKV_MAX_PAGES == 8 && sizeof(s->data[0]) == 8, "3 bit tests of pg * 8");
	asm volatile("if %[off] & 0x20 goto +0\n\t"
		     "if %[off] & 0x10 goto +0\n\t"
		     "if %[off] & 0x8 goto +0"
		     : [off] "+r"(off));
	/* data[0] of s moved by off: data's offset stays the constant
	 * displacement of the load */
	struct uptrkv_page *pg = ((struct uptrkv_task_store *)((void *)s + off))->data[0];

	/* A jump target (the JIT and the verifier drop the jump itself) is a
	 * point where the verifier compares states: its 8 paths differ only
	 * in `off`, dead now, so 7 of them end here. Without it a move,
	 * which picks two pages, went on as 64 paths, and a program with 20
	 * gets took 180K verified instructions instead of 72K. */
	asm volatile("goto +0" : "+r"(pg));
	return pg;
}

static __always_inline struct uptrkv_page *uptrkv__page(struct uptrkv_task_store *s, __u32 pg)
{
	return uptrkv__page_of(s, (pg & UPTRKV_ENT_PAGE_MASK) << UPTRKV_ENT_PAGE_SHIFT);
}

/* hdr->magic and hdr->format, read as one 8-byte word: flags, the other two
 * bytes of that word, are shifted out. */
typedef __u64 __attribute__((may_alias)) uptrkv__u64_alias;
_Static_assert(__builtin_offsetof(struct uptrkv_hdr, magic) == 0 &&
	       __builtin_offsetof(struct uptrkv_hdr, format) == 4 &&
	       __builtin_offsetof(struct uptrkv_hdr, flags) == 6, "magic, format, flags: one word");
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define uptrkv__HDR_ID(w)	((w) << 16)
#define uptrkv__HDR_ID_OK	((((__u64)UPTRKV_FORMAT << 32) | UPTRKV_MAGIC) << 16)
#else
#define uptrkv__HDR_ID(w)	((w) >> 16)
#define uptrkv__HDR_ID_OK	(((__u64)UPTRKV_MAGIC << 16) | UPTRKV_FORMAT)
#endif

/*
 * Whether this program may use store s (not NULL) with header h and meta m
 * of its slot: h and m registered, magic and format ours, and the layout
 * hash of the slot the one this program was built for (when it has one).
 * The caller loads h, m (and whatever else it needs from s) first, so that
 * these loads issue together, all one load away from s.
 */
static __always_inline bool uptrkv__usable(struct uptrkv_hdr *h, struct uptrkv_meta *m,
					   __u32 slot, __u32 hash)
{
	__u32 lh;
	__u64 id;

	/* asm goto: the success path is a straight line (clang would lay the
	 * likely side out as taken jumps). The verifier learns h and m are not
	 * NULL from these tests as from C ones. */
	asm goto("if %[h] == 0 goto %l[no]\n\t"
		 "if %[m] == 0 goto %l[no]"
		 :: [h] "r"(h), [m] "r"(m) :: no);
	/*
	 * The layout hash of the slot, if this program has one. The test of
	 * hash == 0 is in the asm too, and jumps to an insn of its own (the
	 * last, "goto +0"): a jump to an insn also reached by falling through
	 * is one the verifier keeps, seen or not, so a C "if (hash)" left
	 * a test and a branch on every run of a deployed hook. Here, hash
	 * known 0 or not, one side of each test is never reached and the
	 * verifier removes it with the test, so a program with a hash runs
	 * the load and the compare, and one without runs nothing.
	 * First, so that slot and hash are dead before the header word needs
	 * two registers, and no callee-saved one is used. lh may share the
	 * register of slot or h (read before lh is written on either path),
	 * not hash's: hash is an output too for that.
	 */
	asm goto("if %[hash] == 0 goto +6\n\t"
		 "if %[slot] & 1 goto +2\n\t"
		 "%[lh] = *(u32 *)(%[h] + %[o0])\n\t"
		 "goto +1\n\t"
		 "%[lh] = *(u32 *)(%[h] + %[o1])\n\t"
		 "if %[lh] != %[hash] goto %l[no]\n\t"
		 "goto +1\n\t"
		 "goto +0"
		 : [lh] "=w"(lh), [hash] "+w"(hash)
		 : [slot] "r"(slot), [h] "r"(h),
		   [o0] "i"(__builtin_offsetof(struct uptrkv_hdr, layout_hash[0])),
		   [o1] "i"(__builtin_offsetof(struct uptrkv_hdr, layout_hash[1]))
		 :: no);
	id = uptrkv__HDR_ID(*(uptrkv__u64_alias *)h);
	/* keep the shift: as a mask, the compare costs one more 64-bit constant */
	uptrkv__barrier_var(id);
	asm goto("if %[id] != %[ok] goto %l[no]" :: [id] "r"(id), [ok] "r"(uptrkv__HDR_ID_OK) :: no);
	return true;
no:
	return false;
}

static __always_inline struct uptrkv_task_store *uptrkv__check(struct uptrkv_task_store *s)
{
	__u32 slot = uptrkv_slot, hash = uptrkv_layout_hash;

	if (!s)
		return NULL;
	return uptrkv__usable(s->hdr, uptrkv__META_LD(slot, s), slot, hash) ?
	       s : NULL;
}

/* The store of the current thread, or NULL if it has none or it is not
 * usable by this program (bad magic/format, other layout). */
static __always_inline struct uptrkv_task_store *uptrkv_open(void *map)
{
	return uptrkv__check(bpf_task_storage_get(map, bpf_get_current_task_btf(), 0, 0));
}

static __always_inline struct uptrkv_task_store *uptrkv_open_task(void *map, struct task_struct *task)
{
	return uptrkv__check(bpf_task_storage_get(map, task, 0, 0));
}

/*
 * The fast handle: the store, this program's meta page and data page 0, all
 * resolved once per run by uptrkv_open_ctx. Every accessor below takes
 * either handle, a struct uptrkv_task_store * or a struct uptrkv_ctx *; with
 * the ctx a get skips the dependent load of s->meta[slot] (and its NULL
 * check and the uptrkv_slot load) on every call, and a value of up to 8
 * bytes in page 0 (where the allocator puts them first) is one load away
 * from its entry.
 *
 *	struct uptrkv_ctx kv;
 *
 *	if (!uptrkv_open_ctx(&kv, &uptrkv_store))
 *		return 0;
 *	uptrkv_get(&kv, KEY_RX, &v, 8);
 *
 * Holding m and p0 for the run is as safe as holding s, which the API already
 * does: both are fields of the same element, and an element is never changed
 * in place (an update links a new element and frees the old one, and unpins
 * its pages, only after a grace period).
 */
struct uptrkv_ctx {
	struct uptrkv_task_store *s;
	struct uptrkv_meta *m;
	struct uptrkv_page *p0;		/* data page 0, or NULL: the fast path's page */
};

/* uptrkv_open_ctx on the task-storage element s (maybe NULL): one check of
 * s, then its header, meta and page-0 pointers are loaded together, and the
 * header is checked (uptrkv__usable). On failure *c is all NULL. */
static __always_inline struct uptrkv_ctx *uptrkv__ctx_open(struct uptrkv_ctx *c,
							    struct uptrkv_task_store *s)
{
	__u32 slot = uptrkv_slot, hash = uptrkv_layout_hash;
	struct uptrkv_meta *m;
	struct uptrkv_hdr *h;

	if (!s)
		goto fail;
	h = s->hdr;
	m = uptrkv__META_LD(slot, s);
	c->p0 = s->data[0];
	if (!uptrkv__usable(h, m, slot, hash))
		goto fail;
	c->s = s;
	c->m = m;
	return c;
fail:
	c->s = NULL;
	c->m = NULL;
	c->p0 = NULL;
	return NULL;
}

/* Fills *c and returns c, or NULL as uptrkv_open/uptrkv_open_task would. */
#define uptrkv_open_ctx(c, map)							\
	uptrkv__ctx_open(c, bpf_task_storage_get(map, bpf_get_current_task_btf(), 0, 0))
#define uptrkv_open_task_ctx(c, map, task)					\
	uptrkv__ctx_open(c, bpf_task_storage_get(map, task, 0, 0))

static __always_inline struct uptrkv_meta *uptrkv__ctx_meta(struct uptrkv_ctx *c)
{
	struct uptrkv_meta *m = c->m;

	/* uptrkv_open_ctx succeeded, so m is not NULL: no test per call.
	 * (The verifier still knows and checks it.) */
	__builtin_assume(m != NULL);
	return m;
}

/* The store and the meta page of either handle (h evaluated once by callers). */
#define uptrkv__S(h) _Generic((h),						\
	struct uptrkv_ctx *: ((struct uptrkv_ctx *)(void *)(h))->s,		\
	struct uptrkv_task_store *: (struct uptrkv_task_store *)(void *)(h))
#define uptrkv__M(h) _Generic((h),						\
	struct uptrkv_ctx *: uptrkv__ctx_meta((struct uptrkv_ctx *)(void *)(h)), \
	struct uptrkv_task_store *: uptrkv__meta((struct uptrkv_task_store *)(void *)(h)))
/* Data page 0 of either handle (maybe NULL): the ctx has it at hand. */
#define uptrkv__P0(h) _Generic((h),						\
	struct uptrkv_ctx *: ((struct uptrkv_ctx *)(void *)(h))->p0,		\
	struct uptrkv_task_store *: ((struct uptrkv_task_store *)(void *)(h))->data[0])
/* Calls fn(store, meta, args...) for handle h. */
#define uptrkv__CALL(fn, h, ...) ({						\
	__auto_type __uptrkv_h = (h);						\
	fn(uptrkv__S(__uptrkv_h), uptrkv__M(__uptrkv_h), __VA_ARGS__); })
/* Calls fn(store, meta, page 0, args...) for handle h. */
#define uptrkv__CALL_P0(fn, h, ...) ({						\
	__auto_type __uptrkv_h = (h);						\
	fn(uptrkv__S(__uptrkv_h), uptrkv__M(__uptrkv_h), uptrkv__P0(__uptrkv_h), __VA_ARGS__); })

/* Why entry e does not give a value of `size` bytes in a registered page.
 * -EXDEV: forwarded; the accessor moves the value in and tries again. */
static __always_inline int uptrkv__ent_err(__u32 e, const __u32 size)
{
	if (!(e & UPTRKV_ENT_VALID))
		return -ENOENT;
	if (e & UPTRKV_ENT_FWD)
		return -EXDEV;
	return UPTRKV_ENT_SIZE(e) != size ? -EMSGSIZE : -EINVAL;
}

/*
 * Finds key's value for an access of exactly `size` bytes (constant).
 * Returns 0 and the value's address in *pp and its entry in *entp.
 */
static __always_inline int uptrkv__locate(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					  __u32 key, __u32 size, void **pp, __u32 *entp)
{
	struct uptrkv_page *p;
	__u32 e, off;

	e = UPTRKV_READ_ONCE(m->ent[key & (UPTRKV_MAX_KEYS - 1)]);
	*entp = e;
	/* valid, no reserved bits, exactly `size` bytes: one compare */
	if ((e & (UPTRKV_ENT_VALID | UPTRKV_ENT_FLAGS_MASK | UPTRKV_ENT_SIZE_MASK)) !=
	    (UPTRKV_ENT_VALID | size))
		return uptrkv__ent_err(e, size);
	off = UPTRKV_ENT_OFF(e);
	/* off <= 4088 by its mask, so sizes up to 8 need no check */
	if (size > UPTRKV_ALIGN && off > UPTRKV_PAGE_SIZE - size)
		return -EINVAL;
	p = uptrkv__page_of(s, e);
	if (__builtin_expect(!p, 0))
		return -EINVAL;
	*pp = (void *)p->bytes + off;
	return 0;
}

/* Takes key's seqcount stripe (even -> odd). */
static __always_inline int uptrkv__lock(struct uptrkv_hdr *h, __u32 key)
{
	__u32 v;
	int i;

	for (i = 0; i < UPTRKV_WRITE_TRIES; i++) {
		v = UPTRKV_READ_ONCE(h->seq[key % UPTRKV_NR_SEQ]);
		if (v & 1)
			continue;
		if (__sync_val_compare_and_swap(&h->seq[key % UPTRKV_NR_SEQ], v, v + 1) == v)
			return 0;
	}
	return -EBUSY;
}

static __always_inline void uptrkv__unlock(struct uptrkv_hdr *h, __u32 key)
{
	__sync_fetch_and_add(&h->seq[key % UPTRKV_NR_SEQ], 1);
}

/*
 * key's entry in m is forwarded (a rollout resized it and nobody has
 * touched it since the switch): move the value in from the other slot, so
 * that this version reads the last write and writes where the other
 * version will look. Under the key's seqcount, taken here unless `locked`.
 * size: the access's size (constant); up to 8 bytes the move is inline
 * and makes no call. Returns 0 when the entry is no longer forwarded, or a
 * negative errno (-EAGAIN: the seqcount stayed busy).
 */
static __always_inline int uptrkv__fetch(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					 __u32 key, const bool locked, const __u32 size)
{
	struct uptrkv_meta *o = uptrkv__other_meta(s);
	struct uptrkv_hdr *h = s->hdr;
	struct uptrkv_page *pd, *ps;
	__u32 e, eo;
	int err = 0;

	key &= UPTRKV_MAX_KEYS - 1;
	if (!h || !o)
		return -EINVAL;
	if (!locked && uptrkv__lock(h, key))
		return -EAGAIN;
	e = UPTRKV_READ_ONCE(m->ent[key]);
	if (e & UPTRKV_ENT_FWD) {
		eo = UPTRKV_READ_ONCE(o->ent[key]);
		pd = uptrkv__page_of(s, e);
		ps = uptrkv__page_of(s, eo);
		if (size <= UPTRKV_SMALL_MAX && UPTRKV_ENT_SIZE(e) <= UPTRKV_SMALL_MAX)
			err = uptrkv__move_small(&m->ent[key], &o->ent[key], pd, ps, e, eo);
		else if (size <= UPTRKV_SMALL_MAX)
			err = -EMSGSIZE;	/* the access will fail: leave it */
		else
			err = uptrkv__move_value(&m->ent[key], &o->ent[key], pd, ps,
						 (__u64)e << 32 | eo);
		/* A global function's result is any scalar to the verifier:
		 * say it is never positive, which callers rely on. */
		if (err > 0)
			err = -EINVAL;
	}
	if (!locked)
		uptrkv__unlock(h, key);
	return err;
}

/* One aligned load of a 1/2/4/8-byte value: single-copy atomic. */
static __always_inline void uptrkv__load_small(void *dst, const void *p, const __u32 size)
{
	switch (size) {
	case 1: *(__u8 *)dst = UPTRKV_READ_ONCE(*(const __u8 *)p); break;
	case 2: *(__u16 *)dst = UPTRKV_READ_ONCE(*(const __u16 *)p); break;
	case 4: *(__u32 *)dst = UPTRKV_READ_ONCE(*(const __u32 *)p); break;
	case 8: *(__u64 *)dst = UPTRKV_READ_ONCE(*(const __u64 *)p); break;
	}
}

/*
 * The fast path of an access of up to 8 bytes. The allocator puts such
 * values in data page 0 first (docs/store.md), so for them the page is at
 * hand before the entry is read, and one test of the entry covers all of
 * it: valid, no reserved bits, exactly `size` bytes, page 0. Reads key's
 * entry into e; then either sets p to the value's address in page 0, or
 * jumps to `miss` (where UPTRKV__FAR_OR_GOTO goes on to `slow` unless only
 * the page differs; the caller then picks the page from e) or to `slow`
 * (page 0 not registered). The general path at `slow` sorts out the rest:
 * no key, another size. An offset is at most 4088 by its mask, so 8 bytes
 * at it stay in the page with no further check.
 *
 * The tests are asm goto so that the fast path falls through: clang's BPF
 * backend lays a plain `if` out with a taken jump on the likely side.
 * x = e ^ (VALID | size), zero-extended: a valid entry of exactly `size`
 * bytes has every bit of the check mask clear, and in page 0 the page bits
 * too. The masks as sign-extended imm32 also cover x's upper half, which is 0.
 * Measured (docs/benchmarks.md): one test for all, then a second one only on
 * a miss, beat a test for the page of its own on the fast path.
 */
#define UPTRKV__CHECK_MASK	(UPTRKV_ENT_VALID | UPTRKV_ENT_FLAGS_MASK | UPTRKV_ENT_SIZE_MASK)
#define UPTRKV__PAGE_BITS	(UPTRKV_ENT_PAGE_MASK << UPTRKV_ENT_PAGE_SHIFT)
_Static_assert(UPTRKV_ALIGN == 8, "offset in 8-byte units: x >> (shift - 3)");
#define UPTRKV__FAST_OR_GOTO(m, p0, key, size, e, x, p, miss, slow) do {	\
	struct uptrkv_page *__p0 = (p0);					\
										\
	(e) = UPTRKV_READ_ONCE((m)->ent[(key) & (UPTRKV_MAX_KEYS - 1)]);	\
	(x) = (__u32)((e) ^ (UPTRKV_ENT_VALID | (size)));			\
	asm goto("if %[x] & %[all] goto %l[" #miss "]\n\t"			\
		 "if %[p0] == 0 goto %l[" #slow "]"				\
		 :: [x] "r"(x), [all] "i"((int)(UPTRKV__CHECK_MASK | UPTRKV__PAGE_BITS)), \
		    [p0] "r"(__p0)						\
		 :: miss, slow);						\
	/* Only the offset bits can be left in x here: x >> 10 is the byte \
	 * offset (UPTRKV_ENT_OFF without its mask), one op less between the \
	 * entry and the value. The barrier keeps clang from rewriting it on \
	 * e, whose other bits the verifier does not know clear. */		\
	uptrkv__barrier_var(x);							\
	(p) = (void *)__p0->bytes + ((x) >> (UPTRKV_ENT_OFF_SHIFT - 3));	\
} while (0)
/* At `miss`: on to `slow` unless the entry is right but for its page. */
#define UPTRKV__FAR_OR_GOTO(x, slow)						\
	asm goto("if %[x] & %[check] goto %l[" #slow "]"			\
		 :: [x] "r"(x), [check] "i"((int)UPTRKV__CHECK_MASK) :: slow)

/* The second attempt of a sleepable run's 1/2/4/8-byte get, after the
 * entry changed under the first: the general path, then -EAGAIN if it
 * changed again. Out of the fast path's way (its registers, its layout);
 * dead code, not verified, when uptrkv_sleepable is 0. */
static __always_inline int uptrkv__get_again(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					     __u32 key, void *dst, const __u32 size)
{
	void *p;
	__u32 e;
	int err;

	err = uptrkv__locate(s, m, key, size, &p, &e);
	if (err)
		return err == -EXDEV ? -EAGAIN : err;
	uptrkv__load_small(dst, p, size);
	if (UPTRKV_READ_ONCE(m->ent[key & (UPTRKV_MAX_KEYS - 1)]) == e)
		return size;
	return -EAGAIN;
}

/*
 * A 1/2/4/8-byte get of a forwarded key whose seqcount someone else holds
 * (uptrkv moving the same value, or a writer of the other version): read
 * the value where it still is and convert it, as the move would. While the
 * entry is forwarded, no writer of this version can run (it moves first,
 * under the seqcount), so that value is the last write. e: our entry.
 */
static __always_inline int uptrkv__get_through(struct uptrkv_task_store *s, __u32 key,
					       void *dst, const __u32 size, __u32 e)
{
	struct uptrkv_meta *o = uptrkv__other_meta(s);
	struct uptrkv_page *p;
	__u32 eo, ssz, conv = UPTRKV_ENT_CONV(e);
	__u64 v;
	void *sp;

	if (!o)
		return -EAGAIN;
	eo = UPTRKV_READ_ONCE(o->ent[key & (UPTRKV_MAX_KEYS - 1)]);
	if (!(eo & UPTRKV_ENT_VALID))
		return -ENOENT;
	p = uptrkv__page_of(s, eo);
	if ((eo & UPTRKV_ENT_FLAGS_MASK) || !p)
		return -EAGAIN;
	sp = (void *)p->bytes + UPTRKV_ENT_OFF(eo);
	ssz = UPTRKV_ENT_SIZE(eo);
	/* One load, so that a writer of the other version (it holds the
	 * seqcount too) cannot tear it: the old value's own size, or for a
	 * prefix (truncation) this get's size, from an 8-aligned offset. */
	if (!uptrkv__conv_int(conv) && ssz >= size)
		ssz = size;
	switch (ssz) {
	case 1: v = conv == UPTRKV_ENT_CONV_SEXT ? (__u64)*(volatile __s8 *)sp : *(volatile __u8 *)sp; break;
	case 2: v = conv == UPTRKV_ENT_CONV_SEXT ? (__u64)*(volatile __s16 *)sp : *(volatile __u16 *)sp; break;
	case 4: v = conv == UPTRKV_ENT_CONV_SEXT ? (__u64)*(volatile __s32 *)sp : *(volatile __u32 *)sp; break;
	case 8: v = *(volatile __u64 *)sp; break;
	default: return -EAGAIN;	/* no single load */
	}
	/* little endian: the low bytes are the prefix, zero- or sign-extended */
	if (conv == UPTRKV_ENT_CONV_STRING && UPTRKV_ENT_SIZE(eo) > size)
		v &= ~(0xffull << (8 * (size - 1)));
	uptrkv__load_small(dst, &v, size);
	return size;
}

/*
 * The slow paths of the 1/2/4/8-byte get and of uptrkv_ptr are out of
 * line. Inline, their code (the move, a few pointers at once) takes
 * callee-saved registers for the whole program, saved and restored on
 * every run: `make bench` measured 0.35 ns on a 0.2 ns get. Out of line,
 * only the caller's own values live across the call need one.
 *
 * `used`: when no caller in an object looks at a get's result, clang
 * drops the result of a static function, and the subprogram then exits
 * with whatever r0 held, once a stack pointer, which the verifier refuses
 * ("cannot return stack pointer to the caller"). tests/bpf/test_get_noresult.bpf.c.
 */
static __attribute__((noinline, used)) int uptrkv__fetch_out(struct uptrkv_task_store *s,
						       struct uptrkv_meta *m, __u32 key, __u32 size)
{
	return uptrkv__fetch(s, m, key, false, size <= UPTRKV_SMALL_MAX ? 1 : UPTRKV_MAX_VALUE);
}

/* uptrkv__fetch_out with s, m and key kept in memory across the call (the
 * ptr path goes on with them after it), not in callee-saved registers. */
static __always_inline int uptrkv__fetch_spilled(struct uptrkv_task_store **s,
						 struct uptrkv_meta **m, __u32 *key, __u32 size)
{
	struct {
		struct uptrkv_task_store *s;
		struct uptrkv_meta *m;
		__u64 key;
	} volatile sv = { *s, *m, *key };
	int err = uptrkv__fetch_out(sv.s, sv.m, sv.key, size);

	*s = sv.s;
	*m = sv.m;
	*key = sv.key;
	return err;
}

/* A 1/2/4/8-byte get that found its entry forwarded: move the value in,
 * or read it through when the mover holds the seqcount. Called in tail
 * position. ek: the entry in the high half, the key in the low one. */
static __attribute__((noinline, used)) int uptrkv__get_fwd(struct uptrkv_task_store *s,
						     struct uptrkv_meta *m, void *dst, __u64 ek,
						     __u32 size)
{
	__u32 e = ek >> 32, key = (__u32)ek;
	int err = uptrkv__fetch(s, m, key, false, 1);

	if (err == -EAGAIN)
		return uptrkv__get_through(s, key, dst, size, e);
	return err ?: uptrkv__get_again(s, m, key, dst, size);
}

static __always_inline int uptrkv__get(struct uptrkv_task_store *s, struct uptrkv_meta *m,
				       struct uptrkv_page *p0, __u32 key, void *dst, const __u32 size)
{
	struct uptrkv_hdr *h;
	__u32 e, s1, s2;
	__u64 x;
	void *p;
	int err, i;

	if (key >= UPTRKV_MAX_KEYS || size < 1 || size > UPTRKV_MAX_VALUE)
		return -EINVAL;
	if (!m)
		return -ENOENT;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		/* Single-copy atomic: no seqcount. A sleepable run re-checks
		 * the entry, so that a value deleted or moved meanwhile is not
		 * returned. */
		UPTRKV__FAST_OR_GOTO(m, p0, key, size, e, x, p, miss, bad);
load:
		uptrkv__load_small(dst, p, size);
		/* asm goto again: the verifier drops this jump when the
		 * constant is 0, and the path stays a straight line */
		asm goto("if %[sl] != 0 goto %l[recheck]" :: [sl] "r"(uptrkv_sleepable) :: recheck);
		return size;
miss:
		/* right but for its page: pick the page and load */
		UPTRKV__FAR_OR_GOTO(x, bad);
		p = uptrkv__page_of(s, e);
		if (!p)
			return -EINVAL;
		p += UPTRKV_ENT_OFF(e);
		goto load;
recheck:
		if (UPTRKV_READ_ONCE(m->ent[key & (UPTRKV_MAX_KEYS - 1)]) == e)
			return size;
		/* The entry changed under us (a delete or a move): once more. */
		return uptrkv__get_again(s, m, key, dst, size);
bad:
		/* One exit for every error, sharing no page selection: each
		 * path costs the verifier a walk of its own. */
		err = uptrkv__ent_err(e, size);
		if (err != -EXDEV)
			return err;
		return uptrkv__get_fwd(s, m, dst, (__u64)e << 32 | key, size);
	}
	h = s->hdr;
	if (!h)
		return -ENOENT;
	for (i = 0; i < UPTRKV_READ_TRIES; i++) {
		s1 = UPTRKV_READ_ONCE(h->seq[key % UPTRKV_NR_SEQ]);
		if (s1 & 1)
			continue;
		err = uptrkv__locate(s, m, key, size, &p, &e);
		if (err == -EXDEV && i < UPTRKV_READ_TRIES - 1) {
			err = uptrkv__fetch(s, m, key, false, size);
			if (err)
				return err;
			continue;
		}
		if (err)
			return err == -EXDEV ? -EAGAIN : err;
		if (size <= UPTRKV_INLINE_COPY_MAX)
			__builtin_memcpy(dst, p, size);
		else
			bpf_probe_read_kernel(dst, size, p);
		/* fully ordered: the copy is done before seq is re-read */
		s2 = __sync_fetch_and_add(&h->seq[key % UPTRKV_NR_SEQ], 0);
		if (s2 == s1 && UPTRKV_READ_ONCE(m->ent[key]) == e)
			return size;
	}
	return -EAGAIN;
}

/* Copies key's value into dst. size must be a compile-time constant equal
 * to the value's size. Returns size, or a negative errno. */
#define uptrkv_get(h, key, dst, size) ({					\
	_Static_assert(__builtin_constant_p(size), "uptrkv_get: size must be constant; use uptrkv_get_var"); \
	uptrkv__CALL_P0(uptrkv__get, h, key, dst, size); })

/*
 * Pointer to key's value (no copy), or NULL if it is missing or its size is
 * not `size` (constant). The verifier allows size bytes of access. The
 * pointer is for this program run only; reading it gives no protection
 * against a concurrent writer (fine for 1/2/4/8 bytes, which are single-copy
 * atomic), and if user space deletes the key meanwhile its extent is not
 * reused before an RCU grace period, so the memory stays the old value.
 */
static __always_inline void *uptrkv__ptr(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					 struct uptrkv_page *p0, __u32 key, const __u32 size)
{
	void *p;
	__u32 e;
	__u64 x;
	int err;

	if (key >= UPTRKV_MAX_KEYS || size < 1 || size > UPTRKV_MAX_VALUE)
		return NULL;
	if (!m)
		return NULL;
	if (size <= UPTRKV_ALIGN) {
		UPTRKV__FAST_OR_GOTO(m, p0, key, size, e, x, p, miss, bad);
		return p;
miss:
		UPTRKV__FAR_OR_GOTO(x, bad);
		p = uptrkv__page_of(s, e);
		if (!p)
			return NULL;
		/* the verifier wants the NULL test before the add */
		uptrkv__barrier_var(p);
		return p + UPTRKV_ENT_OFF(e);
bad:
		if (uptrkv__ent_err(e, size) != -EXDEV)
			return NULL;
		/* forwarded: moved in below, then the general path */
	}
	err = uptrkv__locate(s, m, key, size, &p, &e);
	if (err == -EXDEV && !uptrkv__fetch_spilled(&s, &m, &key, size))
		err = uptrkv__locate(s, m, key, size, &p, &e);
	return err ? NULL : p;
}
#define uptrkv_ptr(h, key, size) ({					\
	_Static_assert(__builtin_constant_p(size), "uptrkv_ptr: size must be constant"); \
	uptrkv__CALL_P0(uptrkv__ptr, h, key, size); })

static __always_inline int uptrkv__put(struct uptrkv_task_store *s, struct uptrkv_meta *m,
				       __u32 key, const void *src, const __u32 size)
{
	struct uptrkv_hdr *h;
	void *p;
	__u32 e;
	int err;

	if (key >= UPTRKV_MAX_KEYS || size < 1 || size > UPTRKV_MAX_VALUE)
		return -EINVAL;
	h = s->hdr;
	if (!m || !h)
		return -ENOENT;
	err = uptrkv__lock(h, key);
	if (err)
		return err;
	/* The entry is read under the seqcount: a value is only moved with
	 * the seqcount held, so this is where the value lives now. */
	err = uptrkv__locate(s, m, key, size, &p, &e);
	if (err == -EXDEV) {
		err = uptrkv__fetch(s, m, key, true, size);
		err = err ?: uptrkv__locate(s, m, key, size, &p, &e);
		err = err == -EXDEV ? -EAGAIN : err;
	}
	if (!err) {
		switch (size) {
		case 1: UPTRKV_WRITE_ONCE(*(__u8 *)p, *(const __u8 *)src); break;
		case 2: UPTRKV_WRITE_ONCE(*(__u16 *)p, *(const __u16 *)src); break;
		case 4: UPTRKV_WRITE_ONCE(*(__u32 *)p, *(const __u32 *)src); break;
		case 8: UPTRKV_WRITE_ONCE(*(__u64 *)p, *(const __u64 *)src); break;
		default:
			if (size <= UPTRKV_INLINE_COPY_MAX)
				__builtin_memcpy(p, src, size);
			else
				bpf_probe_read_kernel(p, size, src);
		}
		err = size;
	}
	uptrkv__unlock(h, key);
	return err;
}

/* Overwrites key's value; the key must exist with this size (BPF never
 * allocates: user space creates keys). size must be constant. Returns size,
 * -ENOENT, -EMSGSIZE, -EBUSY. */
#define uptrkv_put(h, key, src, size) ({					\
	_Static_assert(__builtin_constant_p(size), "uptrkv_put: size must be constant; use uptrkv_put_var"); \
	uptrkv__CALL(uptrkv__put, h, key, src, size); })

/* Deletes key from this program's meta slot. Its space becomes free for
 * user space's next allocation. */
static __always_inline int uptrkv__delete(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					  __u32 key)
{
	struct uptrkv_hdr *h;
	__u32 e;

	if (key >= UPTRKV_MAX_KEYS)
		return -EINVAL;
	h = s->hdr;
	if (!m || !h)
		return -ENOENT;
	e = UPTRKV_READ_ONCE(m->ent[key]);
	if (!(e & UPTRKV_ENT_VALID))
		return -ENOENT;
	if (__sync_val_compare_and_swap(&m->ent[key], e, 0) != e)
		return -EAGAIN;
	__sync_fetch_and_add(&h->struct_seq, 1);
	return 0;
}
#define uptrkv_delete(h, key)	uptrkv__CALL(uptrkv__delete, h, key)

/* Size of key's value, or a negative errno. */
static __always_inline int uptrkv__size(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					__u32 key)
{
	__u32 e;

	(void)s;
	if (key >= UPTRKV_MAX_KEYS)
		return -EINVAL;
	if (!m)
		return -ENOENT;
	e = UPTRKV_READ_ONCE(m->ent[key]);
	if (!(e & UPTRKV_ENT_VALID))
		return -ENOENT;
	return UPTRKV_ENT_SIZE(e);
}
#define uptrkv_size(h, key)	uptrkv__CALL(uptrkv__size, h, key)

/* Entry of a variable-size access, validated so that it stays in its page. */
static __always_inline int uptrkv__locate_var(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					      __u32 key, struct uptrkv_page **pp, __u32 *offp,
					      __u32 *entp)
{
	struct uptrkv_page *p;
	__u32 e, off, len;

	e = UPTRKV_READ_ONCE(m->ent[key & (UPTRKV_MAX_KEYS - 1)]);
	*entp = e;
	if (!(e & UPTRKV_ENT_VALID))
		return -ENOENT;
	if (e & UPTRKV_ENT_FWD)
		return -EXDEV;
	len = UPTRKV_ENT_SIZE(e);
	off = UPTRKV_ENT_OFF(e);
	if (len < 1 || len > UPTRKV_MAX_VALUE || off + len > UPTRKV_PAGE_SIZE)
		return -EINVAL;
	p = uptrkv__page_of(s, e);
	if (!p)
		return -EINVAL;
	*pp = p;
	*offp = off;
	return len;
}

/*
 * Copies key's value (any size) into dst, a buffer of dst_size bytes
 * (dst_size constant). Returns the value's size, -EMSGSIZE if it does not
 * fit, or another negative errno. Uses bpf_probe_read_kernel for the copy.
 */
static __always_inline int uptrkv__get_var(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					   __u32 key, void *dst, const __u32 dst_size)
{
	struct uptrkv_page *p;
	struct uptrkv_hdr *h;
	__u32 e, off, s1, s2;
	int len, i;

	if (key >= UPTRKV_MAX_KEYS)
		return -EINVAL;
	h = s->hdr;
	if (!m || !h)
		return -ENOENT;
	for (i = 0; i < UPTRKV_READ_TRIES; i++) {
		s1 = UPTRKV_READ_ONCE(h->seq[key % UPTRKV_NR_SEQ]);
		if (s1 & 1)
			continue;
		len = uptrkv__locate_var(s, m, key, &p, &off, &e);
		if (len == -EXDEV && i < UPTRKV_READ_TRIES - 1) {
			len = uptrkv__fetch(s, m, key, false, UPTRKV_MAX_VALUE);
			if (len)
				return len;
			continue;
		}
		if (len < 0)
			return len == -EXDEV ? -EAGAIN : len;
		if (len > dst_size)
			return -EMSGSIZE;
		/* off + len <= 4096 was checked: the source stays in the page. */
		bpf_probe_read_kernel(dst, len, (void *)p->bytes + off);
		s2 = __sync_fetch_and_add(&h->seq[key % UPTRKV_NR_SEQ], 0);
		if (s2 == s1 && UPTRKV_READ_ONCE(m->ent[key]) == e)
			return len;
	}
	return -EAGAIN;
}
#define uptrkv_get_var(h, key, dst, dst_size) ({				\
	_Static_assert(__builtin_constant_p(dst_size), "uptrkv_get_var: dst_size must be constant"); \
	uptrkv__CALL(uptrkv__get_var, h, key, dst, dst_size); })

/* One power-of-two chunk of a variable-size write: constant length C at a
 * bounded offset, so the verifier can prove it stays in the page. */
#define UPTRKV__PUT_CHUNK(C)							\
	if (len & (C)) {							\
		__u32 o = off + done;						\
		if (o > UPTRKV_PAGE_SIZE - (C))					\
			goto out;						\
		uptrkv__barrier_var(o);						\
		bpf_probe_read_kernel((void *)p->bytes + o, (C), (const char *)src + done); \
		done += (C);							\
	}

/*
 * Overwrites key's value from src; len must equal the value's size (it may
 * be a run-time value). src must hold len bytes (it is read with
 * bpf_probe_read_kernel). Returns len or a negative errno.
 */
static __always_inline int uptrkv__put_var(struct uptrkv_task_store *s, struct uptrkv_meta *m,
					   __u32 key, const void *src, __u32 len)
{
	struct uptrkv_page *p;
	struct uptrkv_hdr *h;
	__u32 e, off, done = 0;
	int err, vlen;

	if (key >= UPTRKV_MAX_KEYS || len < 1 || len > UPTRKV_MAX_VALUE)
		return -EINVAL;
	h = s->hdr;
	if (!m || !h)
		return -ENOENT;
	err = uptrkv__lock(h, key);
	if (err)
		return err;
	vlen = uptrkv__locate_var(s, m, key, &p, &off, &e);
	if (vlen == -EXDEV) {
		vlen = uptrkv__fetch(s, m, key, true, UPTRKV_MAX_VALUE);
		vlen = vlen ?: uptrkv__locate_var(s, m, key, &p, &off, &e);
		vlen = vlen == -EXDEV ? -EAGAIN : vlen;
	}
	if (vlen < 0) {
		err = vlen;
		goto out;
	}
	if ((__u32)vlen != len) {
		err = -EMSGSIZE;
		goto out;
	}
	err = -EINVAL;
	UPTRKV__PUT_CHUNK(4096)
	UPTRKV__PUT_CHUNK(2048)
	UPTRKV__PUT_CHUNK(1024)
	UPTRKV__PUT_CHUNK(512)
	UPTRKV__PUT_CHUNK(256)
	UPTRKV__PUT_CHUNK(128)
	UPTRKV__PUT_CHUNK(64)
	UPTRKV__PUT_CHUNK(32)
	UPTRKV__PUT_CHUNK(16)
	UPTRKV__PUT_CHUNK(8)
	UPTRKV__PUT_CHUNK(4)
	UPTRKV__PUT_CHUNK(2)
	UPTRKV__PUT_CHUNK(1)
	err = len;
out:
	uptrkv__unlock(h, key);
	return err;
}
#define uptrkv_put_var(h, key, src, len) uptrkv__CALL(uptrkv__put_var, h, key, src, len)

#endif /* __UPTRKV_BPF_H */
