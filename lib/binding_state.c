// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The binding of each deployed version, kept in its state record beside
 * the manifest: the SHA-256 of the object file that was rolled out and of
 * its layout record. Rollback reuses the pinned programs of the other slot
 * and reads no object file, so what it checks is this record: the layout
 * its programs were built for must still be the recorded manifest's.
 */
#include <bpf/bpf.h>
#include <stdio.h>
#include <string.h>
#include "binding_state.h"

static const __u8 zero_sha[UPTRKV_LAYOUT_SHA_LEN];

int uptrkv_binding__record(struct uptrkv_deploy *d, __u32 slot, const struct uptrkv_binding *b,
			   struct uptrkv_error *e)
{
	__u32 idx = slot * UPTRKV_STATE_SLOT_PAGES;
	char page[UPTRKV_STATE_PAGE];
	struct uptrkv_state_rec *rec = (struct uptrkv_state_rec *)page;

	if (bpf_map_lookup_elem(d->state_fd, &idx, page))
		return uptrkv_errno(e, -errno, "deployment %s: read state", d->name);
	memcpy(rec->object_sha256, b->object_sha256, sizeof(rec->object_sha256));
	memcpy(rec->layout_sha256, b->layout_sha256, sizeof(rec->layout_sha256));
	if (bpf_map_update_elem(d->state_fd, &idx, page, 0))
		return uptrkv_errno(e, -errno, "deployment %s: write state", d->name);
	return 0;
}

/* Whether m's object file still is the one rolled out. Unreadable: no. */
static bool object_changed(const struct uptrkv_manifest *m, const struct uptrkv_state_rec *rec)
{
	__u8 sha[UPTRKV_LAYOUT_SHA_LEN];

	if (!memcmp(rec->object_sha256, zero_sha, sizeof(zero_sha)))
		return false;
	if (uptrkv_object__sha256(m->object, sha, NULL))
		return true;
	return memcmp(sha, rec->object_sha256, sizeof(sha)) != 0;
}

int uptrkv_binding__check_recorded(struct uptrkv_deploy *d, __u32 slot,
				   const struct uptrkv_manifest *m, bool allow_unbound,
				   struct uptrkv_binding *b, struct uptrkv_error *e)
{
	char ho[UPTRKV_LAYOUT_HEX_LEN], hm[UPTRKV_LAYOUT_HEX_LEN];
	struct uptrkv_state_rec rec;
	int err;

	memset(b, 0, sizeof(*b));
	b->checked = true;
	err = uptrkv_deploy__read_rec(d, slot, &rec, e);
	err = err ?: uptrkv_layout__sha256(m->keys, m->nr_keys, b->manifest_sha256, e);
	if (err)
		return err;
	memcpy(b->object_sha256, rec.object_sha256, sizeof(b->object_sha256));
	memcpy(b->layout_sha256, rec.layout_sha256, sizeof(b->layout_sha256));
	b->object_changed = object_changed(m, &rec);
	b->has_record = memcmp(rec.layout_sha256, zero_sha, sizeof(zero_sha)) != 0;
	if (!b->has_record) {
		b->unbound = allow_unbound;
		b->mismatch = !allow_unbound;
		return allow_unbound ? 0 :
		       uptrkv_err(e, -EINVAL, "deployment %s: version %u was rolled out from an object "
				  "without a layout record (or before objects were bound)", d->name,
				  rec.version);
	}
	snprintf(b->name, sizeof(b->name), "%s", d->name);
	if (!memcmp(b->layout_sha256, b->manifest_sha256, sizeof(zero_sha)))
		return 0;
	b->mismatch = true;
	uptrkv_layout__hex(b->layout_sha256, ho);
	uptrkv_layout__hex(b->manifest_sha256, hm);
	return uptrkv_err(e, -EINVAL, "deployment %s: version %u's programs were built for layout "
			  "0x%.*s, its recorded manifest says 0x%.*s: the recorded state was changed",
			  d->name, rec.version, UPTRKV_LAYOUT_HEX_SHOWN, ho, UPTRKV_LAYOUT_HEX_SHOWN, hm);
}
