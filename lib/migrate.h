/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Migrating one store from meta slot `from` to slot `to`, as a list of admin
 * writes computed from a snapshot. Pure: no kernel, so it is unit tested.
 */
#ifndef __UPTRKV_MIGRATE_H
#define __UPTRKV_MIGRATE_H

#include "internal.h"

/* A resized key: what was copied, so that the second pass after the switch
 * can tell whether the old version wrote it again. */
struct uptrkv_mig_copy {
	__u32 id;
	__u32 old_ent, new_ent;
	size_t old_off;			/* offset in buf of the old bytes copied */
	size_t new_off;			/* offset in buf of the new bytes written */
	enum uptrkv_conv conv;		/* how the old value becomes the new */
};

struct uptrkv_mig {
	__u32 tid;
	__u32 from, to;
	struct uptrkv_meta meta;	/* the new meta of slot `to` */
	struct uptrkv_write *w;		/* data, then meta, then header */
	size_t nr_w, cap_w;
	__u8 *buf;			/* bytes the writes copy from */
	size_t buf_len, buf_cap;
	__u8 *expect;			/* second pass: what the new extents must
					 * still hold (buf's layout, buf_len) */
	struct uptrkv_mig_copy *copies;
	size_t nr_copies, cap_copies;
	size_t nr_keep, nr_init, nr_copy, nr_drop, nr_missing;
	__u32 bytes_free_after;		/* free bytes once `from` is reclaimed */
};

/*
 * Builds the writes that put the plan's layout in slot `to` of the store in
 * snap, sharing every unchanged key's bytes with slot `from`. Keys in the
 * store that neither manifest knows are kept. -ENOSPC (with the tid and the
 * bytes missing in e) if the store cannot hold both layouts at once;
 * -EAGAIN if a resized key was being written during the snapshot.
 */
int uptrkv_mig__build(const struct uptrkv_plan *p, const struct uptrkv_snapshot *snap,
		      __u32 from, __u32 to, __u32 gen, struct uptrkv_mig *m,
		      struct uptrkv_error *e);
/* The writes of the second pass: resized keys that the old version wrote
 * after the copy and the new version has not written since the switch. Each
 * is a group (UPTRKV_W_LOCK) that writes only if the new extent still holds
 * what the migration put there when the key's seqcount is taken, so a new
 * version's write (through a put, which takes the seqcount) that lands after
 * the snapshot is not overwritten. -EAGAIN, with nothing changed, if a value
 * was being written during the snapshot: take another. */
#define UPTRKV_MIG_RECOPY_WRITES	4	/* writes per value: lock, cmp, copy, unlock */
int uptrkv_mig__recopy(struct uptrkv_mig *m, const struct uptrkv_snapshot *now,
		       struct uptrkv_write **w, size_t *nr, struct uptrkv_error *e);
void uptrkv_mig__free(struct uptrkv_mig *m);

/* The write that retires a slot (its layout hash to 0). */
size_t uptrkv_mig__retire_writes(__u32 slot, struct uptrkv_write w[1]);

#endif
