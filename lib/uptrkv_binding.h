/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Objects bound to their layout (lib/binding.c). Included through uptrkv.h.
 *
 * `uptrkv gen header` puts a layout record in every BPF object built with
 * its header (bpf/uptrkv_bind.h); a rollout, a dry run, `validate --object`
 * and `diff --object` read it from the file and refuse an object built for
 * another layout or deployment, or one without a record.
 */
#ifndef __UPTRKV_BINDING_H
#define __UPTRKV_BINDING_H

#include "uptrkv_common.h"
#include "uptrkv_manifest.h"

#include "uptrkv_bind.h"

#define UPTRKV_LAYOUT_SHA_LEN	32		/* SHA-256 */
#define UPTRKV_LAYOUT_HEX_LEN	(2 * UPTRKV_LAYOUT_SHA_LEN + 1)
/* Hex digits of a hash in a message (JSON carries all of them). */
#define UPTRKV_LAYOUT_HEX_SHOWN	16
/* Limits that keep a hostile object from blowing up the reader. */
#define UPTRKV_LAYOUT_SEC_MAX	(1u << 20)	/* its layout section */

/*
 * The canonical text of a key table, the one thing the layout's SHA-256
 * covers: "ID NAME SIZE TYPE\n" per key, in the order given (manifests and
 * records keep their keys sorted by id). *text is malloc'ed, NUL-terminated;
 * len excludes the NUL.
 */
int uptrkv_layout__canon(const struct uptrkv_key *keys, size_t nr, char **text, size_t *len,
			 struct uptrkv_error *e);
/* SHA-256 of uptrkv_layout__canon(keys). */
int uptrkv_layout__sha256(const struct uptrkv_key *keys, size_t nr,
			  __u8 out[UPTRKV_LAYOUT_SHA_LEN], struct uptrkv_error *e);
/* Lower-case hex of a layout or object hash. */
void uptrkv_layout__hex(const __u8 sha[UPTRKV_LAYOUT_SHA_LEN], char out[UPTRKV_LAYOUT_HEX_LEN]);

/* A parsed layout record. Its keys carry id, name, size and type only. */
struct uptrkv_layout_rec {
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	__u8 sha256[UPTRKV_LAYOUT_SHA_LEN];
	struct uptrkv_key *keys;		/* sorted by id */
	size_t nr_keys;
};

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

/* What a binding check found. */
struct uptrkv_binding {
	bool checked;				/* a check ran and filled the rest */
	bool has_record;			/* the object carries a layout record */
	bool mismatch;				/* refused: see docs/commands.md, object_mismatch */
	bool unbound;				/* no record, let through by allow_unbound */
	bool object_changed;			/* rollback: the file differs from the one rolled out */
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];	/* the record's deployment */
	__u8 object_sha256[UPTRKV_LAYOUT_SHA_LEN];	/* of the object file */
	__u8 layout_sha256[UPTRKV_LAYOUT_SHA_LEN];	/* the record's layout; zero without */
	__u8 manifest_sha256[UPTRKV_LAYOUT_SHA_LEN];	/* the manifest's layout */
};

struct uptrkv_binding_opts {
	size_t sz;
	/* Let an object without a record through (b->unbound). Nothing lets
	 * a record of another layout or deployment through. */
	bool allow_unbound;
};

/*
 * Checks, from the file alone (no kernel, no root), that object (NULL:
 * m->object) was built for m: its layout record names m's deployment and
 * m's layout, and every program m lists is in it with a SEC() uptrkv can
 * attach. 0: bound (or unbound and allowed). -EINVAL with b->mismatch:
 * refused, e says why and names both layouts and the keys that differ.
 * Another negative errno: the file could not be read.
 */
int uptrkv_binding__check(const struct uptrkv_manifest *m, const char *object,
			  const struct uptrkv_binding_opts *opts, struct uptrkv_binding *b,
			  struct uptrkv_error *e);
/* The same on the object's bytes (len of them at img), named obj in the
 * messages: what a rollout then loads, and what the history keeps, are
 * these very bytes. */
int uptrkv_binding__check_mem(const struct uptrkv_manifest *m, const char *obj, const void *img,
			      size_t len, const struct uptrkv_binding_opts *opts,
			      struct uptrkv_binding *b, struct uptrkv_error *e);

#endif
