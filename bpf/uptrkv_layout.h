/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The uptrkv per-task store layout. This is the single definition shared by
 * BPF programs (bpf/uptrkv.bpf.h), libuptrkv and the admin programs.
 *
 * One task-storage element per registered thread holds user pointers
 * ("uptr") to three kinds of regions in that thread's memory:
 *
 *   hdr      one page: magic, format, per-slot layout hash and generation,
 *            and striped sequence counters that make multi-word values
 *            readable without tearing.
 *   meta[2]  one page each: 1024 x 32-bit entries, key id -> (page, offset,
 *            size). Two slots so that a rollout can build the next layout
 *            beside the live one; a program version reads the slot it was
 *            loaded for, so the layout switches together with the programs.
 *   data[8]  up to eight 4 KiB pages, registered on demand.
 *
 * A meta entry is published with one aligned 32-bit store after the value's
 * bytes are written, so a reader sees either no key or a complete entry.
 */
#ifndef __UPTRKV_LAYOUT_H
#define __UPTRKV_LAYOUT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define UPTRKV_MAGIC		0x564b5455u	/* "UTKV" little endian */
#define UPTRKV_FORMAT		2u		/* bump on incompatible change; 2: forwarding */

#define UPTRKV_PAGE_SIZE	4096u
#define UPTRKV_MAX_KEYS		1024u
#define UPTRKV_MAX_VALUE	4096u
#define UPTRKV_MAX_PAGES	8u
#define UPTRKV_NR_SLOTS		2u
#define UPTRKV_ALIGN		8u	/* every value starts 8-byte aligned */
#define UPTRKV_NR_SEQ		512u	/* striped: key k uses seq[k % 512] */
/*
 * Values of at most this many bytes fill the data pages from page 0 up,
 * larger ones from the last page down (lib/alloc.c). A BPF get of a small
 * value in page 0 needs no page selection (uptrkv.bpf.h's fast path).
 */
#define UPTRKV_SMALL_MAX	8u

/*
 * Meta entry, 32 bits. A 12-bit size field cannot hold 4096 (the largest
 * value), so the size gets 13 bits and the offset is kept in 8-byte units (9 bits).
 *
 *   bit  31     valid
 *   bit  30     forward: the value is not here yet (below)
 *   bits 28-29  forward conversion, UPTRKV_CONV_*
 *   bits 25-27  reserved, zero
 *   bits 22-24  data page index (0..7)
 *   bits 13-21  offset in the page / 8 (0..511)
 *   bits  0-12  value size in bytes (1..4096)
 *
 * Forwarding is how a rollout moves a resized value with no stale read and
 * no lost write (docs/design.md, "Moving a resized value"). An entry with
 * UPTRKV_ENT_FWD owns its extent, but the key's current value is at the
 * same key's entry in the other meta slot, in that slot's size. Whoever
 * touches a forwarded entry first (the new version's BPF or app thread, or
 * uptrkv after the switch) moves the value, under the key's seqcount:
 * copies it here converted, sets FWD on the other slot's entry, clears it
 * here. So at every instant exactly one of the two extents is the value.
 * The fast path's check covers bits 25-30, so forwarding costs it nothing.
 */
#define UPTRKV_ENT_VALID	0x80000000u
#define UPTRKV_ENT_SIZE_MASK	0x1fffu
#define UPTRKV_ENT_OFF_SHIFT	13
#define UPTRKV_ENT_OFF_MASK	0x1ffu
#define UPTRKV_ENT_PAGE_SHIFT	22
#define UPTRKV_ENT_PAGE_MASK	0x7u
#define UPTRKV_ENT_FWD		0x40000000u
#define UPTRKV_ENT_CONV_SHIFT	28
#define UPTRKV_ENT_CONV_MASK	0x3u
#define UPTRKV_ENT_RSVD_MASK	0x0e000000u	/* must be zero */
/* Every bit but valid/page/offset/size: a plain entry has none of them. */
#define UPTRKV_ENT_FLAGS_MASK	0x7e000000u

/* How a forwarded value becomes this entry's value. The bytes past the
 * copied prefix are what the extent held: zero, as the rollout wrote them. */
enum uptrkv_ent_conv {
	UPTRKV_ENT_CONV_PREFIX = 0,	/* copy min(old, new) bytes: zero-extend, truncate */
	UPTRKV_ENT_CONV_SEXT = 1,	/* signed integer widening, by value */
	UPTRKV_ENT_CONV_STRING = 2,	/* prefix, and a truncated string keeps its NUL */
	UPTRKV_ENT_CONV_UINT = 3,	/* unsigned integer widening, by value */
};

#define UPTRKV_ENT(page, off, size)					\
	(UPTRKV_ENT_VALID |						\
	 (((__u32)(page) & UPTRKV_ENT_PAGE_MASK) << UPTRKV_ENT_PAGE_SHIFT) | \
	 ((((__u32)(off) / UPTRKV_ALIGN) & UPTRKV_ENT_OFF_MASK) << UPTRKV_ENT_OFF_SHIFT) | \
	 ((__u32)(size) & UPTRKV_ENT_SIZE_MASK))
#define UPTRKV_ENT_IS_VALID(e)	(((e) & UPTRKV_ENT_VALID) != 0)
#define UPTRKV_ENT_IS_FWD(e)	(((e) & UPTRKV_ENT_FWD) != 0)
#define UPTRKV_ENT_CONV(e)	(((e) >> UPTRKV_ENT_CONV_SHIFT) & UPTRKV_ENT_CONV_MASK)
/* The entry with forwarding set, and the plain entry of the same extent. */
#define UPTRKV_ENT_FORWARD(e, conv)						\
	(((e) & ~UPTRKV_ENT_FLAGS_MASK) | UPTRKV_ENT_FWD |			\
	 (((__u32)(conv) & UPTRKV_ENT_CONV_MASK) << UPTRKV_ENT_CONV_SHIFT))
#define UPTRKV_ENT_PLAIN(e)	((e) & ~UPTRKV_ENT_FLAGS_MASK)
#define UPTRKV_ENT_PAGE(e)	(((e) >> UPTRKV_ENT_PAGE_SHIFT) & UPTRKV_ENT_PAGE_MASK)
#define UPTRKV_ENT_OFF(e)	((((e) >> UPTRKV_ENT_OFF_SHIFT) & UPTRKV_ENT_OFF_MASK) * UPTRKV_ALIGN)
#define UPTRKV_ENT_SIZE(e)	((e) & UPTRKV_ENT_SIZE_MASK)

/* hdr->flags */
#define UPTRKV_HDR_F_MANAGED	0x1u	/* belongs to a deployment */

struct uptrkv_hdr {
	__u32 magic;			/* UPTRKV_MAGIC */
	__u16 format;			/* UPTRKV_FORMAT */
	__u16 flags;
	__u32 owner_tid;		/* thread that registered the store */
	__u32 page_mask;		/* bit i set: data[i] is registered */
	/*
	 * Per meta slot: the layout hash it was built for (0 = slot not
	 * valid) and the deployment generation it was built at. Programs
	 * check the hash of their slot before trusting the meta.
	 */
	__u32 layout_hash[UPTRKV_NR_SLOTS];
	__u32 meta_gen[UPTRKV_NR_SLOTS];
	__u32 struct_seq;		/* bumped on every meta change */
	__u32 reserved[7];		/* header is 64 bytes */
	/*
	 * Seqcounts for values whose size is not 1, 2, 4 or 8: a writer makes
	 * seq odd (cmpxchg from even), writes, then makes it even again.
	 * Aligned 1/2/4/8-byte values are single-copy atomic and skip this.
	 */
	__u32 seq[UPTRKV_NR_SEQ];
};

struct uptrkv_meta {
	__u32 ent[UPTRKV_MAX_KEYS];
};

struct uptrkv_page {
	__u8 bytes[UPTRKV_PAGE_SIZE];
};

/* The tag matters only in BPF objects: user code sees plain pointers. */
#ifndef __uptr
#ifdef __bpf__
#define __uptr __attribute__((btf_type_tag("uptr")))
#else
#define __uptr
#endif
#endif

/*
 * The task-storage map value. In user space the uptr fields are plain user
 * addresses (set by bpf_map_update_elem from the owning thread; a lookup
 * returns them as 0). BPF sees them as PTR_TO_MEM after a NULL check.
 */
struct uptrkv_task_store {
	struct uptrkv_hdr __uptr *hdr;
	struct uptrkv_meta __uptr *meta[UPTRKV_NR_SLOTS];
	struct uptrkv_page __uptr *data[UPTRKV_MAX_PAGES];
};

/*
 * Deployment control word, one element of the mmapable ARRAY map pinned at
 * <bpffs>/uptrkv/<name>/ctl. Entry programs and applications read gen; the
 * active meta slot and program slot is gen & 1. One aligned store to gen
 * switches every hook and every store view at once.
 */
#define UPTRKV_CTL_MAGIC	0x4c43544bu	/* "KTCL" */
struct uptrkv_ctl {
	__u32 gen;
	__u32 magic;
	__u32 layout_hash[UPTRKV_NR_SLOTS];	/* layout of each program slot */
	__u32 version[UPTRKV_NR_SLOTS];	/* manifest version of each slot */
	/*
	 * Rollout journal, so that a re-run after a crash knows what to
	 * finish or undo: the step reached and the generation it moves to.
	 */
	__u32 step;			/* UPTRKV_STEP_* */
	__u32 target_gen;
	__u32 owner_pid;		/* pid of the uptrkv that wrote step */
	__u32 journal_flags;		/* UPTRKV_JF_* */
	__u32 reserved[6];		/* 64 bytes */
};

/* The rollout in flight replaced the record and programs of its target
 * slot (a rollback does not): undoing it must drop them too. */
#define UPTRKV_JF_RECORDED	0x1u

enum uptrkv_step {
	UPTRKV_STEP_IDLE = 0,		/* nothing in flight */
	UPTRKV_STEP_MIGRATING,		/* new meta slot being built; old version live */
	UPTRKV_STEP_SWITCHED,		/* gen flipped; old slot not yet reclaimed */
};

#define UPTRKV_SLOT(gen)	((gen) & 1u)

#ifdef __bpf__
/*
 * The store map, as every BPF object that touches stores declares it (user
 * programs through uptrkv.bpf.h, uptrkv's admin programs, tests); needs
 * bpf_helpers.h. Loaders replace it with the live map (bpf_map__reuse_fd).
 */
#define UPTRKV_STORE_MAP(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, int);					\
		__type(value, struct uptrkv_task_store);		\
	} name SEC(".maps")

/*
 * The FWD trap (docs/store.md): a struct reached only through a __uptr
 * pointer is emitted as FWD in BTF, and the kernel then ignores the uptr
 * field. Untagged references, once per object, keep the pointees complete.
 */
#define UPTRKV_BTF_COMPLETE(prefix)					\
	struct uptrkv_hdr *prefix##_btf_hdr SEC(".bss");		\
	struct uptrkv_meta *prefix##_btf_meta SEC(".bss");		\
	struct uptrkv_page *prefix##_btf_page SEC(".bss")
#endif

#if !defined(__bpf__) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct uptrkv_hdr) == 64 + 4 * UPTRKV_NR_SEQ, "hdr size");
_Static_assert(sizeof(struct uptrkv_hdr) <= UPTRKV_PAGE_SIZE, "hdr fits a page");
_Static_assert(sizeof(struct uptrkv_meta) == UPTRKV_PAGE_SIZE, "meta is one page");
_Static_assert(sizeof(struct uptrkv_ctl) == 64, "ctl size");
#endif

#endif /* __UPTRKV_LAYOUT_H */
