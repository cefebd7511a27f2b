/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Manifests and plans. Included through uptrkv.h. */
#ifndef __UPTRKV_MANIFEST_H
#define __UPTRKV_MANIFEST_H

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
const char *uptrkv_resize__str(enum uptrkv_resize r);
/* 32-bit FNV-1a over (id, size, type) of keys sorted by id; never 0. */
__u32 uptrkv_layout_hash(const struct uptrkv_key *keys, size_t nr);

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
};

/* old may be NULL (first deploy: every key is added). The plan points into
 * both manifests, which must outlive it. -EINVAL if the two manifests are
 * for different deployments. An incompatible plan is still returned (0):
 * check compatible and each entry's refused/why. */
int uptrkv_plan__new(const struct uptrkv_manifest *old, const struct uptrkv_manifest *new,
		     struct uptrkv_plan **out, struct uptrkv_error *e);
void uptrkv_plan__free(struct uptrkv_plan *p);
const char *uptrkv_change__str(enum uptrkv_change c);
/* "zero-extend", "string", "uint", "sint", "reset" or "none". */
const char *uptrkv_conv__str(enum uptrkv_conv c);
/* Whether from -> to is an integer widening that keeps every value:
 * u8->u16->u32->u64, s8->...->s64, and unsigned to a wider signed type. */
bool uptrkv_type__widens(enum uptrkv_type from, enum uptrkv_type to);

/* Data bytes a value of this size occupies in a store. */
static inline __u32 uptrkv_alloc_size(__u32 size)
{
	return (size + UPTRKV_ALIGN - 1) & ~(UPTRKV_ALIGN - 1);
}


#endif
