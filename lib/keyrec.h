/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The deployment's key record (pin "keys"): per slot, everything an app
 * thread needs to register with that slot's layout, in binary: each key's
 * id, size, type and default, the layout hash, version and generation. A
 * rollout or rollback writes the slot it switches to before the switch,
 * under the deployment's exclusive lock (lib/keyrec.c); apps mmap it
 * read-only and read it under the shared lock (lib/store.c), so a
 * registration is one lookup in memory: no YAML, no manifest, no syscall.
 *
 * Not to be confused with the layout record that `uptrkv gen header` puts
 * in a BPF object (lib/binding.c): that one binds an object to a layout.
 */
#ifndef __UPTRKV_KEYREC_H
#define __UPTRKV_KEYREC_H

#include "internal.h"

#define UPTRKV_KEYREC_MAGIC	0x43524b55u	/* "UKRC" */
#define UPTRKV_KEYREC_FORMAT	1u
/* Default bytes kept: a store holds no more data than this, so a layout
 * whose defaults do not fit could not be registered anyway. */
#define UPTRKV_KEYREC_DEFS	(UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE)

/* uptrkv_keyrec.flags */
#define UPTRKV_KEYREC_F_TOO_BIG	0x1u	/* the defaults did not fit: unusable */
/* uptrkv_keyrec_key.flags */
#define UPTRKV_KEYREC_K_DEF	0x1u	/* def_off names the default; else zero */

struct uptrkv_keyrec_key {
	__u16 id;
	__u16 size;
	__u8 type;			/* enum uptrkv_type */
	__u8 flags;			/* UPTRKV_KEYREC_K_* */
	__u16 def_off;			/* in defs[] */
};

struct uptrkv_keyrec {
	__u32 magic;			/* UPTRKV_KEYREC_MAGIC; 0: slot never written */
	__u32 format;			/* UPTRKV_KEYREC_FORMAT */
	__u32 layout_hash;		/* must equal ctl.layout_hash[slot] */
	__u32 version;
	__u32 gen;			/* the generation it was written for */
	__u32 slot;
	__u32 flags;			/* UPTRKV_KEYREC_F_* */
	__u32 nr_keys;
	__u32 need;			/* data bytes of one copy of the layout */
	__u32 defs_len;
	__u32 reserved[6];		/* header is 64 bytes */
	struct uptrkv_keyrec_key keys[UPTRKV_MAX_KEYS];	/* by id */
	__u8 defs[UPTRKV_KEYREC_DEFS];
};

_Static_assert(sizeof(struct uptrkv_keyrec_key) == 8, "keyrec key size");
_Static_assert(sizeof(struct uptrkv_keyrec) % 8 == 0, "keyrec: array values are 8-byte aligned");
_Static_assert(UPTRKV_KEYREC_DEFS <= 65536, "def_off is 16 bits");

/* The pinned map's value size and bytes to mmap (both slots). */
#define UPTRKV_KEYREC_MAP_BYTES							\
	((UPTRKV_NR_SLOTS * sizeof(struct uptrkv_keyrec) + UPTRKV_PAGE_SIZE - 1) & \
	 ~(size_t)(UPTRKV_PAGE_SIZE - 1))

struct uptrkv_deploy;

/*
 * Writes the key record of the slots a rollout at generation gen touches:
 * slot UPTRKV_SLOT(gen) from live (if given and gen > 0: a deployment that
 * had no record gets a whole one), and slot UPTRKV_SLOT(gen + 1) from
 * target (if given). Call with the deployment locked, before the switch.
 */
int uptrkv_deploy__write_keys(struct uptrkv_deploy *d, __u32 gen,
			      const struct uptrkv_manifest *live,
			      const struct uptrkv_manifest *target, struct uptrkv_error *e);

#endif
