/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The rest of libuptrkv: what the uptrkv tool (cmd/) and the tests use
 * beyond the public API of uptrkv.h. It is in libuptrkv.a, but neither
 * installed nor exported from libuptrkv.so (lib/libuptrkv.map), so it can
 * change without a new SONAME. docs/api.md lists the public functions.
 */
#ifndef __UPTRKV_TOOL_H
#define __UPTRKV_TOOL_H

#include "uptrkv.h"
#include "uptrkv_admin.h"

/* ---- manifests and plans (lib/manifest.c, lib/plan.c, lib/objstate) ---- */
const char *uptrkv_resize__str(enum uptrkv_resize r);
/* 32-bit FNV-1a over (id, size, type) of keys sorted by id; never 0. */
__u32 uptrkv_layout_hash(const struct uptrkv_key *keys, size_t nr);
/* From a BPF object's bytes, without loading it: its BTF and map definitions. */
int uptrkv_objstate__from_mem(const void *buf, size_t len, const char *store_map,
			      struct uptrkv_objstate *out, struct uptrkv_error *e);
int uptrkv_objstate__from_file(const char *path, const char *store_map,
			       struct uptrkv_objstate *out, struct uptrkv_error *e);
void uptrkv_objstate__free(struct uptrkv_objstate *s);
/* "__u64 hits (.bss+8, 8 bytes)"-style identity check: same name, type, size. */
bool uptrkv_global__same(const struct uptrkv_global *a, const struct uptrkv_global *b);
const char *uptrkv_gsec__str(__u32 sec);
/* Adds the globals and shared maps of old (the live version, or NULL for a
 * first deploy) and new, as new_m's globals: and maps: ask, to p, and
 * updates compatible. */
int uptrkv_plan__add_objstate(struct uptrkv_plan *p, const struct uptrkv_objstate *old,
			      const struct uptrkv_objstate *new,
			      const struct uptrkv_manifest *new_m, struct uptrkv_error *e);
const char *uptrkv_gaction__str(enum uptrkv_gaction a);
const char *uptrkv_map_change__str(enum uptrkv_map_change c);
const char *uptrkv_map_action__str(enum uptrkv_map_action a);
const char *uptrkv_change__str(enum uptrkv_change c);
/* "zero-extend", "string", "uint", "sint", "reset" or "none". */
const char *uptrkv_conv__str(enum uptrkv_conv c);
/* Whether from -> to is an integer widening that keeps every value:
 * u8->u16->u32->u64, s8->...->s64, and unsigned to a wider signed type. */
bool uptrkv_type__widens(enum uptrkv_type from, enum uptrkv_type to);

/* ---- deployments (lib/deploy.c) ---- */
/* Makes sure bpffs is mounted at bpffs (mounting it if not and allowed). */
int uptrkv_bpffs__prepare(const char *bpffs, bool mount_if_missing, bool *mounted,
			  struct uptrkv_error *e);
/* Opens a deployment for reading. -ENOENT: not deployed. */
int uptrkv_deploy__open(const char *bpffs, const char *name, struct uptrkv_deploy **out,
			struct uptrkv_error *e);
void uptrkv_deploy__close(struct uptrkv_deploy *d);
const char *uptrkv_deploy__name(const struct uptrkv_deploy *d);
int uptrkv_deploy__store_fd(const struct uptrkv_deploy *d);
__u32 uptrkv_deploy__gen(const struct uptrkv_deploy *d);
/* The manifest recorded in a slot; slot -1 means the active one.
 * -ENOENT if the slot holds none. */
int uptrkv_deploy__manifest(struct uptrkv_deploy *d, int slot, struct uptrkv_manifest **out,
			    struct uptrkv_error *e);
/* What the live version keeps outside the store: its globals (from its
 * programs' .bss/.data maps and their BTF) and the pinned shared maps. */
int uptrkv_deploy__objstate(struct uptrkv_deploy *d, struct uptrkv_objstate *out,
			    struct uptrkv_error *e);
const char *uptrkv_outcome__str(__u32 outcome);

/* ---- layout records of objects (lib/binding.c) ---- */
/*
 * The canonical text of a key table, the one thing the layout's SHA-256
 * covers: "ID NAME SIZE TYPE\n" per key, in the order given (manifests and
 * records keep their keys sorted by id). *text is malloc'ed, NUL-terminated;
 * len excludes the NUL.
 */
int uptrkv_layout__canon(const struct uptrkv_key *keys, size_t nr, char **text, size_t *len,
			 struct uptrkv_error *e);
/* Lower-case hex of a layout or object hash. */
void uptrkv_layout__hex(const __u8 sha[UPTRKV_LAYOUT_SHA_LEN], char out[UPTRKV_LAYOUT_HEX_LEN]);
/* The record text that `gen header` embeds for m (no trailing NUL). */
int uptrkv_layout__record(const struct uptrkv_manifest *m, char **text, size_t *len,
			  struct uptrkv_error *e);
/* Parses one record of len bytes (no NUL inside). -EINVAL when malformed,
 * including a sha256 line that does not match the key lines. */
int uptrkv_layout_rec__parse(const char *buf, size_t len, struct uptrkv_layout_rec *out,
			     struct uptrkv_error *e);
/* Parses a whole layout section: NUL-terminated records, zero padding
 * between them. 1 and *out filled: one record (copies of it count once);
 * 0: none; -EINVAL: malformed, unterminated, or two different records. */
int uptrkv_layout_rec__parse_section(const void *data, size_t len, struct uptrkv_layout_rec *out,
				     struct uptrkv_error *e);
void uptrkv_layout_rec__free(struct uptrkv_layout_rec *r);
/* The same on the object's bytes (len of them at img), named obj in the
 * messages: what a rollout then loads, and what the history keeps, are
 * these very bytes. */
int uptrkv_binding__check_mem(const struct uptrkv_manifest *m, const char *obj, const void *img,
			      size_t len, const struct uptrkv_binding_opts *opts,
			      struct uptrkv_binding *b, struct uptrkv_error *e);

#endif /* __UPTRKV_TOOL_H */
