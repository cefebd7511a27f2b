// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Writes the deployment's key record (lib/keyrec.h): the binary copy of a
 * slot's layout that app threads register with. The rollout side only;
 * lib/store.c reads it.
 */
#include <bpf/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "deploy_internal.h"
#include "keyrec.h"

/* Fills r from m. A layout whose defaults exceed what a store can hold is
 * recorded as such, so that registering fails with a reason. */
static void fill(struct uptrkv_keyrec *r, const struct uptrkv_manifest *m, __u32 gen)
{
	memset(r, 0, sizeof(*r));
	r->format = UPTRKV_KEYREC_FORMAT;
	r->layout_hash = m->layout_hash;
	r->version = m->version;
	r->gen = gen;
	r->slot = UPTRKV_SLOT(gen);
	r->nr_keys = (__u32)m->nr_keys;
	for (size_t i = 0; i < m->nr_keys; i++) {
		const struct uptrkv_key *k = &m->keys[i];
		struct uptrkv_keyrec_key *rk = &r->keys[i];

		rk->id = (__u16)k->id;
		rk->size = (__u16)k->size;
		rk->type = (__u8)k->type;
		r->need += uptrkv_alloc_size(k->size);
		if (!k->has_default || !k->def)
			continue;
		if (r->defs_len + k->size > UPTRKV_KEYREC_DEFS) {
			r->flags |= UPTRKV_KEYREC_F_TOO_BIG;
			continue;
		}
		rk->flags = UPTRKV_KEYREC_K_DEF;
		rk->def_off = (__u16)r->defs_len;
		memcpy(r->defs + r->defs_len, k->def, k->size);
		r->defs_len += k->size;
	}
	/* Last: a reader that checks the magic sees a whole record (the
	 * readers hold the shared lock anyway; this is for a crashed run). */
	__atomic_store_n(&r->magic, UPTRKV_KEYREC_MAGIC, __ATOMIC_RELEASE);
}

static bool keyrec_is(const struct uptrkv_keyrec *r, __u32 layout_hash)
{
	return r->magic == UPTRKV_KEYREC_MAGIC && r->format == UPTRKV_KEYREC_FORMAT &&
	       r->layout_hash == layout_hash && !(r->flags & UPTRKV_KEYREC_F_TOO_BIG);
}

int uptrkv_deploy__write_keys(struct uptrkv_deploy *d, __u32 gen,
			      const struct uptrkv_manifest *live,
			      const struct uptrkv_manifest *target, struct uptrkv_error *e)
{
	struct uptrkv_keyrec *r;
	/* Created empty (magic 0 in both slots) on first use. */
	int fd = uptrkv_deploy__pinned_array(d, UPTRKV_PIN_KEYS, "uptrkv_keys",
						 sizeof(struct uptrkv_keyrec), UPTRKV_NR_SLOTS, e);

	if (fd < 0)
		return fd;
	r = mmap(NULL, UPTRKV_KEYREC_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (r == MAP_FAILED)
		return uptrkv_errno(e, -errno, "map %s/%s", d->dir, UPTRKV_PIN_KEYS);
	/* The live slot is written only if it has no record of its layout
	 * yet (a deployment made before records): apps read it. Slot `to` is
	 * read by nobody before the switch. */
	if (live && gen && !keyrec_is(&r[UPTRKV_SLOT(gen)], live->layout_hash))
		fill(&r[UPTRKV_SLOT(gen)], live, gen);
	if (target)
		fill(&r[UPTRKV_SLOT(gen + 1)], target, gen + 1);
	munmap(r, UPTRKV_KEYREC_MAP_BYTES);
	return 0;
}
