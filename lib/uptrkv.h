/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libuptrkv public API.
 *
 * Conventions (libbpf style):
 *  - object__verb names; options structs start with `size_t sz` and are
 *    declared with UPTRKV_OPTS();
 *  - every function that can fail returns 0 or a negative errno and, when
 *    given a struct uptrkv_error, fills it with "what failed: why";
 *  - the library never prints and never exits; it has no global state.
 */
#ifndef __UPTRKV_H
#define __UPTRKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../bpf/uptrkv_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UPTRKV_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };\
	})

/* Reads opts->FIELD only if the caller's struct is big enough to have it. */
#define UPTRKV_OPTS_GET(opts, field, fallback)				\
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +	\
	 sizeof((opts)->field) ? (opts)->field : (fallback))

#define UPTRKV_ERRMSG_MAX 512

struct uptrkv_error {
	int err;				/* negative errno, 0 if none */
	char msg[UPTRKV_ERRMSG_MAX];		/* "what failed: why" */
};

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
	char *path;			/* as given by the caller */
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	__u32 version;
	char *object;			/* resolved against the manifest's folder */
	char **programs;		/* NULL: every program with an attachable SEC */
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
	UPTRKV_ACT_COPY,		/* new extent, old value zero-extended or truncated */
	UPTRKV_ACT_DROP,		/* not in the new layout; reclaimed after the switch */
};

struct uptrkv_plan_entry {
	__u32 id;
	enum uptrkv_change change;	/* the primary change */
	bool renamed;			/* also true when resized/retyped and renamed */
	enum uptrkv_action action;
	const struct uptrkv_key *old;	/* NULL when added */
	const struct uptrkv_key *new;	/* NULL when removed */
	bool refused;			/* incompatible; why says why */
	char why[160];
};

struct uptrkv_plan {
	__u32 old_version, new_version;	/* old_version 0: first deploy */
	__u32 old_hash, new_hash;
	struct uptrkv_plan_entry *v;	/* every id of either side, sorted */
	size_t n;
	size_t nr_changes;		/* entries whose change != UNCHANGED */
	bool compatible;
	__u64 bytes_before, bytes_after;	/* data bytes per task (8-byte aligned) */
};

/* old may be NULL (first deploy: every key is added). The plan points into
 * both manifests, which must outlive it. */
int uptrkv_plan__new(const struct uptrkv_manifest *old, const struct uptrkv_manifest *new,
		     struct uptrkv_plan **out, struct uptrkv_error *e);
void uptrkv_plan__free(struct uptrkv_plan *p);
const char *uptrkv_change__str(enum uptrkv_change c);

/* Data bytes a value of this size occupies in a store. */
static inline __u32 uptrkv_alloc_size(__u32 size)
{
	return (size + UPTRKV_ALIGN - 1) & ~(UPTRKV_ALIGN - 1);
}

/* ------------------------------------------------------------------ */
/* Allocator over one store's pages (lib/alloc.c, pure, no kernel)      */
/* ------------------------------------------------------------------ */

#define UPTRKV_UNITS_PER_PAGE (UPTRKV_PAGE_SIZE / UPTRKV_ALIGN)	/* 512 */

struct uptrkv_alloc {
	__u32 page_mask;			/* pages that may be used */
	__u64 used[UPTRKV_MAX_PAGES][UPTRKV_UNITS_PER_PAGE / 64];
};

void uptrkv_alloc__init(struct uptrkv_alloc *a, __u32 page_mask);
/* Marks an existing entry's extent used. -EINVAL if it is malformed, on an
 * unregistered page, or past the page end; sharing an extent between two
 * metas is allowed (the same entry marked twice). */
int uptrkv_alloc__mark(struct uptrkv_alloc *a, __u32 ent);
/* Marks every valid entry of a meta page. */
int uptrkv_alloc__mark_meta(struct uptrkv_alloc *a, const struct uptrkv_meta *m);
/* Finds room for size bytes; *ent gets a valid meta entry. -ENOSPC if none. */
int uptrkv_alloc__alloc(struct uptrkv_alloc *a, __u32 size, __u32 *ent);
void uptrkv_alloc__free(struct uptrkv_alloc *a, __u32 ent);
__u32 uptrkv_alloc__free_bytes(const struct uptrkv_alloc *a);
/* Largest value that can be allocated right now. */
__u32 uptrkv_alloc__largest(const struct uptrkv_alloc *a);

/* ------------------------------------------------------------------ */
/* App-side store API (lib/store.c)                                     */
/* ------------------------------------------------------------------ */

struct uptrkv_store;	/* an opened store map, shared by the app's threads */
struct uptrkv_thread;	/* the calling thread's registration */

struct uptrkv_store_opts {
	size_t sz;
	/* Deployment directory (<bpffs>/uptrkv/<name>); when set, the store
	 * follows the deployment's generation and layout. */
	const char *deploy_dir;
};

int uptrkv_store__open(const char *map_path, const struct uptrkv_store_opts *opts,
		       struct uptrkv_store **out, struct uptrkv_error *e);
int uptrkv_store__open_fd(int map_fd, const struct uptrkv_store_opts *opts,
			  struct uptrkv_store **out, struct uptrkv_error *e);
void uptrkv_store__close(struct uptrkv_store *s);

struct uptrkv_init_key {
	__u32 id;
	__u32 size;
	const void *def;		/* NULL: zero */
};

struct uptrkv_thread_opts {
	size_t sz;
	__u32 reserve_bytes;		/* data bytes to register up front */
	const struct uptrkv_init_key *keys;	/* keys created at register */
	size_t nr_keys;
	__u32 layout_hash;		/* recorded in the header for those keys */
	__u32 slot;			/* meta slot the keys are written to */
};

/* Registers the calling thread's store (pidfd with PIDFD_THREAD). */
int uptrkv_thread__register(struct uptrkv_store *s, const struct uptrkv_thread_opts *opts,
			    struct uptrkv_thread **out, struct uptrkv_error *e);
/* Deletes the thread's element and frees its pages. Call from the thread. */
void uptrkv_thread__unregister(struct uptrkv_thread *t);
/* Returns the value size copied (<= size) or -ENOENT, -EMSGSIZE, -EAGAIN. */
int uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);
/* Creates the key if missing; -EMSGSIZE if it exists with another size. */
int uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);
int uptrkv_thread__delete(struct uptrkv_thread *t, __u32 key);
/* Makes sure at least bytes of data space are registered. */
int uptrkv_thread__reserve(struct uptrkv_thread *t, __u32 bytes);
__u32 uptrkv_thread__free_bytes(struct uptrkv_thread *t);

#ifdef __cplusplus
}
#endif
#endif /* __UPTRKV_H */
