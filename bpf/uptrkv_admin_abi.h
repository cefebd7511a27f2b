/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The admin ABI: what bpf/uptrkv_admin.bpf.c and libuptrkv (lib/admin.c,
 * through uptrkv_admin.h) both read and write, and nothing else. It lives
 * beside uptrkv_layout.h, not in lib/, so that bpf/ includes nothing from
 * lib/ (as libxdp's prog_dispatcher.h does for its dispatcher). BPF
 * includes it after vmlinux.h; C code after <linux/types.h>, which
 * uptrkv_layout.h includes when vmlinux.h was not.
 *
 * Every struct here is a BPF program's context or a record it writes, so a
 * change is a change of the programs' ABI: bump UPTRKV_FORMAT in the layout
 * when a field moves.
 */
#ifndef __UPTRKV_ADMIN_ABI_H
#define __UPTRKV_ADMIN_ABI_H

#include "uptrkv_layout.h"


/* Regions of a store, as numbered in writes and in the present mask. */
enum uptrkv_region {
	UPTRKV_R_HDR = 0,
	UPTRKV_R_META0 = 1,
	UPTRKV_R_META1 = 2,
	UPTRKV_R_DATA0 = 3,		/* data page i is UPTRKV_R_DATA0 + i */
	__UPTRKV_R_MAX = UPTRKV_R_DATA0 + UPTRKV_MAX_PAGES,
};
#define UPTRKV_R_META(slot)	(UPTRKV_R_META0 + (slot))
#define UPTRKV_R_DATA(i)	(UPTRKV_R_DATA0 + (i))
#define UPTRKV_R_BIT(r)		(1u << (r))

/* One record of the list iterator (bpf_seq_write). */
struct uptrkv_task_ref {
	__u32 tgid;
	__u32 tid;
	__u32 magic;			/* hdr->magic, 0 if no hdr registered */
	__u16 format;			/* hdr->format */
	__u16 flags;			/* hdr->flags */
	__u32 present;			/* UPTRKV_R_BIT() of every non-NULL region */
	__u32 page_mask;		/* hdr->page_mask */
};

/*
 * A snapshot of one task's store, filled in place by two program runs
 * (BPF_PROG_TEST_RUN copies a syscall program's context back to the
 * caller's buffer, so no second copy is needed). Two, because a program
 * can only address its context at offsets below 32 KiB (the 16-bit insn
 * offset; a moved ctx pointer may not be dereferenced): the first run's
 * context is everything before data[UPTRKV_SNAP_SPLIT], the second's is
 * the rest, struct uptrkv_snap_tail. The second run reads the seqcounts
 * again after the last page was copied.
 */
#define UPTRKV_SNAP_SPLIT	4u	/* first data page of the second run */

struct uptrkv_snapshot {
	__s32 tid;			/* in */
	__u32 present;			/* out: UPTRKV_R_BIT() of copied regions */
	/* The header, read first: hdr.seq is the "before" seqcount array. */
	struct uptrkv_hdr hdr;
	struct uptrkv_meta meta[UPTRKV_NR_SLOTS];
	struct uptrkv_page data[UPTRKV_MAX_PAGES];
	/* Read again after every region was copied. */
	__u32 seq_after[UPTRKV_NR_SEQ];
	__u32 struct_seq_after;
	/* Internal: the second run's input and output. */
	__s32 tail_tid;
	__u32 tail_present;
};

/* The second run's view of the end of struct uptrkv_snapshot. */
struct uptrkv_snap_tail {
	struct uptrkv_page data[UPTRKV_MAX_PAGES - UPTRKV_SNAP_SPLIT];
	__u32 seq_after[UPTRKV_NR_SEQ];
	__u32 struct_seq_after;
	__s32 tid;
	__u32 present;
};

#define UPTRKV_SNAP_HEAD_SIZE	__builtin_offsetof(struct uptrkv_snapshot, data[UPTRKV_SNAP_SPLIT])

/*
 * The header and both metas of one task's store, and the seqcounts read
 * again after them, in one program run: what a rollout plans from (where
 * every value is, never what it is), a quarter of a whole snapshot.
 * uptrkv_admin__snapshot_meta copies it into a struct uptrkv_snapshot.
 */
struct uptrkv_snap_meta {
	__s32 tid;			/* in */
	__u32 present;			/* out: UPTRKV_R_BIT() of every region */
	struct uptrkv_hdr hdr;
	struct uptrkv_meta meta[UPTRKV_NR_SLOTS];
	__u32 seq_after[UPTRKV_NR_SEQ];
	__u32 struct_seq_after;
	__u32 rsvd;
};

/*
 * Re-reading one page of a store, for a value that changed during a
 * snapshot: the window between the two seqcount reads is one page copy,
 * not a whole snapshot.
 */
struct uptrkv_page_read {
	__s32 tid;			/* in */
	__u32 region;			/* in: UPTRKV_R_META0 .. UPTRKV_R_DATA(7) */
	__u32 seq_idx;			/* in: hdr->seq[] entry read around the copy */
	__u32 seq_before;		/* out */
	__u32 seq_after;		/* out */
	__u32 struct_seq_before;	/* out */
	__u32 struct_seq_after;		/* out */
	__u32 rsvd;
	struct uptrkv_page page;	/* out */
};

/* Write batch operations. */
enum uptrkv_write_op {
	UPTRKV_W_COPY = 0,		/* copy len bytes from the user address src */
	UPTRKV_W_STORE32 = 1,		/* atomic (xchg) 32-bit store of val, 4-aligned */
	UPTRKV_W_ADD32 = 2,		/* atomic 32-bit add of val, 4-aligned */
	UPTRKV_W_INLINE = 3,		/* len (1..8) bytes held in src itself; an
					 * aligned 1/2/4/8-byte one is one store.
					 * uptrkv_admin__write turns short COPYs
					 * into these (one helper call less). */
	/*
	 * A conditional group: LOCK, then any writes, then UNLOCK. LOCK takes
	 * the header's seqcount word at off as every writer of a value does
	 * (even -> odd by compare-and-swap, 8 tries); CMP checks that the len
	 * bytes at off equal the len bytes at the user address src. If the
	 * word stays busy, or a CMP differs, the rest of the group is skipped,
	 * not failed; UNLOCK releases what LOCK took. Within one program run,
	 * so a lock is never left behind.
	 */
	UPTRKV_W_LOCK = 4,
	UPTRKV_W_CMP = 5,
	UPTRKV_W_UNLOCK = 6,
	/*
	 * Moves the forwarded value of key val into meta slot region
	 * (UPTRKV_R_META0/1) under the key's seqcount (UPTRKV_ENT_FWD in
	 * uptrkv_layout.h). Nothing to move is success; a seqcount that stays
	 * busy, or a key deleted meanwhile, counts in skipped and busy.
	 */
	UPTRKV_W_MOVE = 7,
};

/* One write. Lives in the caller's memory; the program reads it there. */
struct uptrkv_write {
	__u8 op;			/* enum uptrkv_write_op */
	__u8 region;			/* enum uptrkv_region */
	__u16 off;			/* byte offset in the region */
	__u16 len;			/* COPY: 1..4096 (hdr: up to its size) */
	__u16 rsvd;
	__u32 val;			/* STORE32, ADD32 */
	__u32 rsvd2;
	__u64 src;			/* COPY: user address of len bytes */
};

/* The write program's context. */
struct uptrkv_write_ctx {
	__s32 tid;			/* in */
	__u32 nr;			/* in: writes at writes[0..nr) */
	__u64 writes;			/* in: user address of struct uptrkv_write[] */
	__u32 need;			/* in: regions the batch touches; all or nothing */
	__u32 done;			/* out: writes applied */
	__s32 err;			/* out: 0 or why writes[done] failed */
	__u32 present;			/* out: UPTRKV_R_BIT() of registered regions */
	__u32 skipped;			/* out: LOCK groups skipped */
	__u32 busy;			/* out: ... of which because the seqcount
					 * stayed busy for 8 tries */
};

/*
 * The move program's context (uptrkv_admin_move): moves every forwarded
 * entry of meta slot `slot` of one store in one run, each as a
 * UPTRKV_W_MOVE would, and counts what it found.
 */
struct uptrkv_move_ctx {
	__s32 tid;			/* in */
	__u32 slot;			/* in: the meta slot moved into */
	__u32 moved;			/* out: values moved */
	__u32 busy;			/* out: not moved, the seqcount stayed busy
					 * or the entry changed: run again */
	__u32 gone;			/* out: deleted by the other version meanwhile:
					 * nothing to move, the entry is dropped */
	__s32 err;			/* out: 0, or why the run stopped */
	__u32 err_key;			/* out: the key whose pair was corrupt */
	__u32 present;			/* out: UPTRKV_R_BIT() of registered regions */
};

/* Largest batch one program run applies (bpf_loop bound). */
#define UPTRKV_WRITE_BATCH_MAX	65536u
/* Writes the program reads from user memory with one helper call. */
#define UPTRKV_WRITE_CHUNK	8u	/* the loop state sits on a 512-byte stack */

#endif
