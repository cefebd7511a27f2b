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

/* SHA-256 of uptrkv_layout__canon(keys). */
int uptrkv_layout__sha256(const struct uptrkv_key *keys, size_t nr,
			  __u8 out[UPTRKV_LAYOUT_SHA_LEN], struct uptrkv_error *e);

/* A parsed layout record. Its keys carry id, name, size and type only. */
struct uptrkv_layout_rec {
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	__u8 sha256[UPTRKV_LAYOUT_SHA_LEN];
	struct uptrkv_key *keys;		/* sorted by id */
	size_t nr_keys;
};


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

#endif
