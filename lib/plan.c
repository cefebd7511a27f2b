// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The plan: what changes between two manifests, key by key, and what the
 * migration does with each key's bytes. `uptrkv diff` prints it and the
 * rollout engine executes it, so the rules live here and only here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char *const change_names[] = {
	[UPTRKV_CH_UNCHANGED] = "unchanged",
	[UPTRKV_CH_ADDED] = "added",
	[UPTRKV_CH_REMOVED] = "removed",
	[UPTRKV_CH_RESIZED] = "resized",
	[UPTRKV_CH_RETYPED] = "retyped",
	[UPTRKV_CH_RENAMED] = "renamed",
};

const char *uptrkv_change__str(enum uptrkv_change c)
{
	if ((unsigned)c >= ARRAY_SIZE(change_names))
		return "unknown";
	return change_names[c];
}

static __u64 layout_bytes(const struct uptrkv_manifest *m)
{
	__u64 sum = 0;

	for (size_t i = 0; m && i < m->nr_keys; i++)
		sum += uptrkv_alloc_size(m->keys[i].size);
	return sum;
}

/* How a resized key of one type is copied. */
static enum uptrkv_conv bytes_conv(const struct uptrkv_key *n)
{
	return n->type == UPTRKV_T_STRING ? UPTRKV_CONV_STRING : UPTRKV_CONV_ZERO_EXTEND;
}

/*
 * A new type. `resize: reset` re-initialises the key whatever the types. An
 * integer widening keeps the value (lib/convert.c); any other retype,
 * narrowing included, would change or lose it, so it needs the reset.
 */
static void plan_retype(struct uptrkv_plan_entry *e)
{
	const struct uptrkv_key *o = e->old, *n = e->new;

	e->change = UPTRKV_CH_RETYPED;
	if (n->resize != UPTRKV_RESIZE_RESET && uptrkv_type__widens(o->type, n->type)) {
		e->action = UPTRKV_ACT_COPY;
		e->conv = uptrkv_type__is_signed(o->type) ? UPTRKV_CONV_SINT : UPTRKV_CONV_UINT;
		return;
	}
	e->action = UPTRKV_ACT_INIT;
	e->conv = UPTRKV_CONV_RESET;
	if (n->resize != UPTRKV_RESIZE_RESET) {
		e->refused = true;
		snprintf(e->why, sizeof(e->why),
			 "type changes from %s to %s: only an integer widening keeps the value; "
			 "anything else needs resize: reset",
			 uptrkv_type__str(o->type), uptrkv_type__str(n->type));
	}
}

/*
 * The same id on both sides. The type decides first (plan_retype). Then the
 * size: growing zero-extends (or resets, if asked), shrinking needs truncate
 * (or reset). A rename alone keeps the bytes. `resize` on a key that keeps
 * its size and type is ignored, so a manifest can carry it on to the next
 * version.
 */
static void plan_both(struct uptrkv_plan_entry *e)
{
	const struct uptrkv_key *o = e->old, *n = e->new;

	e->renamed = strcmp(o->name, n->name) != 0;
	if (o->type != n->type) {
		plan_retype(e);
		return;
	}
	if (o->size != n->size) {
		bool reset = n->resize == UPTRKV_RESIZE_RESET;

		e->change = UPTRKV_CH_RESIZED;
		e->action = reset ? UPTRKV_ACT_INIT : UPTRKV_ACT_COPY;
		e->conv = reset ? UPTRKV_CONV_RESET : bytes_conv(n);
		if (n->size < o->size && n->resize != UPTRKV_RESIZE_TRUNCATE && !reset) {
			e->refused = true;
			snprintf(e->why, sizeof(e->why),
				 "shrinks from %u to %u bytes: needs resize: truncate",
				 o->size, n->size);
		}
		return;
	}
	e->change = e->renamed ? UPTRKV_CH_RENAMED : UPTRKV_CH_UNCHANGED;
	e->action = UPTRKV_ACT_KEEP;
}

int uptrkv_plan__new(const struct uptrkv_manifest *old, const struct uptrkv_manifest *new,
		     struct uptrkv_plan **out, struct uptrkv_error *e)
{
	size_t nr_old = old ? old->nr_keys : 0, i = 0, j = 0;
	struct uptrkv_plan *p;

	if (!new || !out)
		return uptrkv_err(e, -EINVAL, "plan: no manifest");
	*out = NULL;
	if (old && strcmp(old->name, new->name))
		return uptrkv_err(e, -EINVAL,
				  "plan: manifests are for different deployments ('%s' and '%s')",
				  old->name, new->name);
	p = calloc(1, sizeof(*p));
	if (!p)
		return uptrkv_errno(e, -ENOMEM, "plan");
	p->v = calloc(nr_old + new->nr_keys + 1, sizeof(*p->v));
	if (!p->v) {
		free(p);
		return uptrkv_errno(e, -ENOMEM, "plan");
	}
	p->old_version = old ? old->version : 0;
	p->new_version = new->version;
	p->version_increases = p->new_version > p->old_version;
	p->old_hash = old ? old->layout_hash : 0;
	p->new_hash = new->layout_hash;
	p->bytes_before = layout_bytes(old);
	p->bytes_after = layout_bytes(new);

	/* Both key arrays are sorted by id: merge them. */
	while (i < nr_old || j < new->nr_keys) {
		const struct uptrkv_key *ko = i < nr_old ? &old->keys[i] : NULL;
		const struct uptrkv_key *kn = j < new->nr_keys ? &new->keys[j] : NULL;
		struct uptrkv_plan_entry *pe = &p->v[p->n++];

		if (ko && (!kn || ko->id < kn->id)) {
			pe->id = ko->id;
			pe->old = ko;
			pe->change = UPTRKV_CH_REMOVED;
			pe->action = UPTRKV_ACT_DROP;
			i++;
		} else if (kn && (!ko || kn->id < ko->id)) {
			pe->id = kn->id;
			pe->new = kn;
			pe->change = UPTRKV_CH_ADDED;
			pe->action = UPTRKV_ACT_INIT;
			j++;
		} else {
			pe->id = kn->id;
			pe->old = ko;
			pe->new = kn;
			plan_both(pe);
			i++;
			j++;
		}
		if (pe->change != UPTRKV_CH_UNCHANGED)
			p->nr_changes++;
		if (pe->refused)
			p->nr_refused++;
	}
	p->compatible = p->nr_refused == 0;
	*out = p;
	return 0;
}

void uptrkv_plan__free(struct uptrkv_plan *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->globals);
	free(p->maps);
	free(p);
}
