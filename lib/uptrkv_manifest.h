/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Manifests and plans. Included through uptrkv.h. */
#ifndef __UPTRKV_MANIFEST_H
#define __UPTRKV_MANIFEST_H

#include "uptrkv_common.h"

/* ------------------------------------------------------------------ */
/* Manifest (lib/manifest.c)                                            */
/* ------------------------------------------------------------------ */

enum uptrkv_type {
	UPTRKV_T_BYTES = 0,
	UPTRKV_T_U8, UPTRKV_T_U16, UPTRKV_T_U32, UPTRKV_T_U64,
	UPTRKV_T_S8, UPTRKV_T_S16, UPTRKV_T_S32, UPTRKV_T_S64,
	UPTRKV_T_BOOL,
	UPTRKV_T_STRING,
	__UPTRKV_T_MAX,
};

enum uptrkv_resize {
	UPTRKV_RESIZE_UNSET = 0,	/* not given: zero-extend when growing */
	UPTRKV_RESIZE_ZERO_EXTEND,
	UPTRKV_RESIZE_TRUNCATE,
	UPTRKV_RESIZE_RESET,
};

#define UPTRKV_NAME_MAX 64		/* key names, including the NUL */
#define UPTRKV_DEPLOY_NAME_MAX 32	/* [a-z0-9_-]{1,32} */
#define UPTRKV_API_VERSION "uptrkv/v1"
#define UPTRKV_DEFAULT_STORE_MAP "uptrkv_store"

/* Limits that keep a hostile file from blowing up the parser. */
#define UPTRKV_MANIFEST_MAX_BYTES (1u << 20)	/* 1 MiB */
#define UPTRKV_MANIFEST_MAX_DEPTH 16		/* nested collections */
#define UPTRKV_MANIFEST_MAX_NODES 65536	/* scalars + collections */
#define UPTRKV_MANIFEST_MAX_DIAGS 100		/* then "too many errors" */

struct uptrkv_key {
	__u32 id;			/* 0..1023 */
	char name[UPTRKV_NAME_MAX];	/* C identifier */
	__u32 size;			/* 1..4096 */
	enum uptrkv_type type;
	enum uptrkv_resize resize;
	__u8 *def;			/* size bytes: initial value, zero if no default */
	bool has_default;
	int line, col;			/* position of the key in the manifest */
};

/* What a manifest asks for a global or a shared map that a plain carry-over
 * would refuse (globals:, maps:). */
enum uptrkv_carry_policy {
	UPTRKV_CARRY_DEFAULT = 0,	/* carry over; refuse a change that loses data */
	UPTRKV_CARRY_RESET,		/* start from the new object's value / an empty map */
	UPTRKV_CARRY_COPY,		/* maps only: copy the entries, values zero-extended */
};

struct uptrkv_named_policy {
	char name[UPTRKV_NAME_MAX];
	enum uptrkv_carry_policy policy;
	int line, col;
};

/* config: NAME: VALUE, set in .rodata before load (checked against BTF then). */
struct uptrkv_config_item {
	char name[UPTRKV_NAME_MAX];
	char *value;			/* the scalar's text */
	bool plain;			/* unquoted: a number or bool */
	int line, col;			/* of the value */
};

struct uptrkv_manifest {
	char *path;			/* as given by the caller (parse: display_name or NULL) */
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	__u32 version;
	char *object;			/* resolved against the manifest's folder (absolute) */
	char **programs;		/* NULL: every program with an attachable SEC */
	char **attach;			/* per program: "xdp:IFNAME", "cgroup:/PATH" or NULL */
	size_t nr_programs;
	char store_map[UPTRKV_NAME_MAX];	/* default "uptrkv_store" */
	struct uptrkv_key *keys;	/* sorted by id */
	size_t nr_keys;
	bool globals_reset_all;		/* globals: reset */
	struct uptrkv_named_policy *globals;	/* globals: {NAME: reset} */
	size_t nr_globals;
	struct uptrkv_named_policy *maps;	/* maps: {NAME: reset|copy} */
	size_t nr_maps;
	struct uptrkv_config_item *config;	/* config: {NAME: VALUE} */
	size_t nr_config;
	char *text;			/* the raw file, recorded at deploy time */
	size_t text_len;
	__u32 layout_hash;		/* uptrkv_layout_hash() of keys */
};

struct uptrkv_diag {
	char *file;
	int line, col;			/* 1-based; 0 when not applicable */
	char msg[256];			/* what was wrong and what was expected */
};

struct uptrkv_diags {
	struct uptrkv_diag *v;
	size_t n;
};

struct uptrkv_manifest_opts {
	size_t sz;
	/* Folder that relative object paths are resolved against; default
	 * the manifest file's folder. */
	const char *base_dir;
	/* Name used in diagnostics when parsing from memory. */
	const char *display_name;
};

/*
 * Parses and checks a manifest. On failure returns -EINVAL (or -errno for
 * I/O) and appends every problem found to *diags (which the caller frees
 * with uptrkv_diags__free even on success).
 */
int uptrkv_manifest__load(const char *path, const struct uptrkv_manifest_opts *opts,
			  struct uptrkv_manifest **out, struct uptrkv_diags *diags);
int uptrkv_manifest__parse(const char *text, size_t len,
			   const struct uptrkv_manifest_opts *opts,
			   struct uptrkv_manifest **out, struct uptrkv_diags *diags);
void uptrkv_manifest__free(struct uptrkv_manifest *m);
const struct uptrkv_key *uptrkv_manifest__key(const struct uptrkv_manifest *m, __u32 id);
void uptrkv_diags__free(struct uptrkv_diags *d);

const char *uptrkv_type__str(enum uptrkv_type t);
/* Width of an integer or bool type in bytes; 0 for string and bytes. */
__u32 uptrkv_type__width(enum uptrkv_type t);
bool uptrkv_type__is_signed(enum uptrkv_type t);

/* ------------------------------------------------------------------ */
/* Plan: the change between two manifests (lib/plan.c)                  */
/* The rollout engine executes exactly this plan.                       */
/* ------------------------------------------------------------------ */

enum uptrkv_change {
	UPTRKV_CH_UNCHANGED = 0,
	UPTRKV_CH_ADDED,
	UPTRKV_CH_REMOVED,
	UPTRKV_CH_RESIZED,
	UPTRKV_CH_RETYPED,
	UPTRKV_CH_RENAMED,
};

/* What the migration does with a key's bytes. */
enum uptrkv_action {
	UPTRKV_ACT_KEEP = 0,		/* share the extent: data never touched */
	UPTRKV_ACT_INIT,		/* new extent, written with the default */
	UPTRKV_ACT_COPY,		/* new extent, old value converted (conv) */
	UPTRKV_ACT_DROP,		/* not in the new layout; reclaimed after the switch */
};

/*
 * How a copied value becomes the new one (lib/convert.c). Integers convert by
 * value, not by bytes, so the rule does not depend on the host's byte order.
 */
enum uptrkv_conv {
	UPTRKV_CONV_NONE = 0,		/* not copied: kept (shared), dropped or added */
	UPTRKV_CONV_ZERO_EXTEND,	/* bytes: copied, zero-extended or truncated */
	UPTRKV_CONV_STRING,		/* as ZERO_EXTEND, a truncated string keeps its NUL */
	UPTRKV_CONV_UINT,		/* unsigned integer widened: value kept */
	UPTRKV_CONV_SINT,		/* signed integer widened: value kept, sign-extended */
	UPTRKV_CONV_RESET,		/* re-initialised to the key's default */
};

struct uptrkv_plan_entry {
	__u32 id;
	enum uptrkv_change change;	/* the primary change */
	bool renamed;			/* also true when resized/retyped and renamed */
	enum uptrkv_action action;
	enum uptrkv_conv conv;		/* for resized and retyped keys */
	const struct uptrkv_key *old;	/* NULL when added */
	const struct uptrkv_key *new;	/* NULL when removed */
	bool refused;			/* incompatible; why says why */
	char why[160];
};

/* ---- what a version keeps outside the store (lib/globals.c) ---- */

enum { UPTRKV_GSEC_BSS = 0, UPTRKV_GSEC_DATA, UPTRKV_NR_GSECS };

/* A global variable of .bss or .data, from the object's BTF DATASEC. */
struct uptrkv_global {
	char name[UPTRKV_NAME_MAX];
	char type[96];			/* C spelling, typedefs resolved: the identity */
	__u32 sec;			/* UPTRKV_GSEC_* */
	__u32 offset, size;
	enum uptrkv_type itype;		/* an integer's type; UPTRKV_T_BYTES otherwise */
};

/* A map of the object other than its store and its .bss/.data/.rodata. */
struct uptrkv_map_def {
	char name[UPTRKV_NAME_MAX];
	__u32 type, key_size, value_size, max_entries, flags;
};

struct uptrkv_objstate {
	struct uptrkv_global *globals;
	size_t nr_globals;
	bool has_sec[UPTRKV_NR_GSECS];
	__u32 sec_size[UPTRKV_NR_GSECS];
	struct uptrkv_map_def *maps;
	size_t nr_maps;
};


enum uptrkv_gaction {
	UPTRKV_GACT_SHARE = 0,		/* the whole section's map is shared: no copy */
	UPTRKV_GACT_COPY,		/* copied before the switch, changes after added */
	UPTRKV_GACT_CONVERT,		/* an integer widening: copied by value */
	UPTRKV_GACT_INIT,		/* the new object's initial value */
	UPTRKV_GACT_DROP,		/* removed */
};

struct uptrkv_gplan_entry {
	struct uptrkv_global old, new;
	bool has_old, has_new;
	enum uptrkv_change change;	/* added, removed, resized, retyped, unchanged */
	enum uptrkv_gaction action;
	bool refused;
	char why[192];
};

enum uptrkv_map_change {
	UPTRKV_MAP_UNCHANGED = 0,	/* shared with every version */
	UPTRKV_MAP_ADDED,		/* created and pinned by this version */
	UPTRKV_MAP_CHANGED,		/* type, key/value size, max_entries or flags */
	UPTRKV_MAP_REMOVED,		/* not in the new object: left pinned */
};

enum uptrkv_map_action {
	UPTRKV_MACT_SHARE = 0,		/* the pinned map is reused */
	UPTRKV_MACT_CREATE,		/* a new map (added) */
	UPTRKV_MACT_RESET,		/* maps: {NAME: reset}: a new empty map */
	UPTRKV_MACT_COPY,		/* maps: {NAME: copy}: a new map, entries copied */
	UPTRKV_MACT_KEEP,		/* removed: the pin stays for older versions */
};

struct uptrkv_mplan_entry {
	struct uptrkv_map_def old, new;
	bool has_old, has_new;
	enum uptrkv_map_change change;
	enum uptrkv_map_action action;
	bool refused;
	char why[320];
};

struct uptrkv_plan {
	__u32 old_version, new_version;	/* old_version 0: first deploy */
	/* new_version > old_version. The plan is computed either way (diff
	 * shows it, rollback runs a plan backwards); rollout refuses when
	 * false. Not part of compatible, which is about the layout only. */
	bool version_increases;
	__u32 old_hash, new_hash;
	struct uptrkv_plan_entry *v;	/* every id of either side, sorted */
	size_t n;
	size_t nr_changes;		/* entries whose change != UNCHANGED */
	size_t nr_refused;		/* entries with refused set */
	bool compatible;		/* nr_refused == 0 */
	__u64 bytes_before, bytes_after;	/* data bytes per task (8-byte aligned) */
	/* Globals and shared maps: only when both sides' objects were read
	 * (uptrkv_plan__add_objstate). Their refusals count in nr_refused. */
	bool has_objstate;
	struct uptrkv_gplan_entry *globals;
	size_t nr_globals, nr_global_changes;
	bool sec_shared[UPTRKV_NR_GSECS];	/* the section's map is reused */
	struct uptrkv_mplan_entry *maps;
	size_t nr_maps, nr_map_changes;
};

/* old may be NULL (first deploy: every key is added). The plan points into
 * both manifests, which must outlive it. -EINVAL if the two manifests are
 * for different deployments. An incompatible plan is still returned (0):
 * check compatible and each entry's refused/why. */
int uptrkv_plan__new(const struct uptrkv_manifest *old, const struct uptrkv_manifest *new,
		     struct uptrkv_plan **out, struct uptrkv_error *e);
void uptrkv_plan__free(struct uptrkv_plan *p);

/* Data bytes a value of this size occupies in a store. */
static inline __u32 uptrkv_alloc_size(__u32 size)
{
	return (size + UPTRKV_ALIGN - 1) & ~(UPTRKV_ALIGN - 1);
}


#endif
