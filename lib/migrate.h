/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Migrating one store from meta slot `from` to slot `to`, as a list of admin
 * writes computed from a snapshot. Pure: no kernel, so it is unit tested.
 */
#ifndef __UPTRKV_MIGRATE_H
#define __UPTRKV_MIGRATE_H

#include "internal.h"

struct uptrkv_mig {
	__u32 tid;
	__u32 from, to;
	struct uptrkv_meta meta;	/* the new meta of slot `to` */
	struct uptrkv_write *w;		/* data, then meta, then header */
	size_t nr_w, cap_w;
	__u8 *buf;			/* bytes the writes copy from */
	size_t buf_len, buf_cap;
	__u32 *moves;			/* resized keys, and kept ones going home to
					 * page 0: forwarded in slot `to` */
	size_t nr_moves, cap_moves;
	size_t nr_keep, nr_init, nr_copy, nr_drop, nr_missing;
	size_t nr_home;			/* of nr_keep, moved to page 0 */
	__u32 bytes_free_after;		/* free bytes once `from` is reclaimed */
	/* While building: per page, the fewest units known not to fit there
	 * (0: none known). A build only allocates, so a page once too full
	 * for n units stays so, and is not searched again for n or more. */
	__u16 no_run[UPTRKV_MAX_PAGES];
};

/*
 * Builds the writes that put the plan's layout in slot `to` of the store in
 * snap, sharing every unchanged key's bytes with slot `from`. Keys in the
 * store that neither manifest knows are kept; a kept value of up to 8 bytes
 * outside data page 0 is moved home when page 0 has room. It reads no
 * value: resized and homecoming keys are forwarded, and moved after the
 * switch. -ENOSPC (with the tid and the bytes missing in e) if the store
 * cannot hold both layouts at once.
 */
int uptrkv_mig__build(const struct uptrkv_plan *p, const struct uptrkv_snapshot *snap,
		      __u32 from, __u32 to, __u32 gen, struct uptrkv_mig *m,
		      struct uptrkv_error *e);
/*
 * Builds shared between the stores of one rollout (plan p, slots from ->
 * to, generation gen): a store whose header, regions and live meta equal
 * an earlier store's gets the same build, read-only, with that store's
 * tid in it (the caller keeps its own). Any other store is built as by
 * uptrkv_mig__build, and fails as it does, naming its own thread. A build
 * stays valid until the cache is freed.
 */
struct uptrkv_mig_cache;

int uptrkv_mig_cache__new(const struct uptrkv_plan *p, __u32 from, __u32 to, __u32 gen,
			  struct uptrkv_mig_cache **c);
int uptrkv_mig_cache__get(struct uptrkv_mig_cache *c, const struct uptrkv_snapshot *snap,
			  const struct uptrkv_mig **m, struct uptrkv_error *e);
/* How many distinct builds the cache holds. */
size_t uptrkv_mig_cache__count(const struct uptrkv_mig_cache *c);
void uptrkv_mig_cache__free(struct uptrkv_mig_cache *c);

/* How a resized key's value is converted when it is moved. */
enum uptrkv_ent_conv uptrkv_mig__ent_conv(enum uptrkv_conv conv);
/* The keys whose entry in `slot` of a snapshot is still forwarded: moves a
 * killed or interrupted rollout left to do (ids may be NULL: only
 * counted). Returns how many. */
size_t uptrkv_mig__pending_moves(const struct uptrkv_snapshot *s, __u32 slot,
				 __u32 ids[UPTRKV_MAX_KEYS]);
void uptrkv_mig__free(struct uptrkv_mig *m);

/* The write that retires a slot (its layout hash to 0). */
size_t uptrkv_mig__retire_writes(__u32 slot, struct uptrkv_write w[1]);

#endif
