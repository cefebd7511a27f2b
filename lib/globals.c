// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a version keeps outside the store: its global variables (.bss and
 * .data, read through the object's BTF) and its other maps, and the plan
 * for carrying them over (docs/design.md, "Globals and shared maps").
 * Pure: nothing here touches the kernel; lib/carry.c executes the plan.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "globals.h"

/* A refusal names two definitions; a long one is cut, on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static const char *const gsec_names[UPTRKV_NR_GSECS] = { ".bss", ".data" };

const char *uptrkv_gsec__str(__u32 sec)
{
	return sec < UPTRKV_NR_GSECS ? gsec_names[sec] : "?";
}

int uptrkv_gsec__of(const char *name)
{
	for (int s = 0; s < UPTRKV_NR_GSECS; s++)
		if (!strcmp(name, gsec_names[s]))
			return s;
	return -1;
}

/* Skips const/volatile/restrict and typedefs: a typedef renamed is the
 * same variable. */
static __u32 skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	for (int depth = 0; t && depth < 32; depth++) {
		if (!btf_is_mod(t) && !btf_is_typedef(t))
			break;
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	return id;
}

/* The C spelling of a type, typedefs resolved: "unsigned long long",
 * "struct foo", "char[16]". Bounded depth: a hostile BTF cannot loop. */
static void type_str(const struct btf *btf, __u32 id, char *buf, size_t sz, int depth)
{
	const struct btf_type *t;
	const char *name;

	id = skip_mods(btf, id);
	t = btf__type_by_id(btf, id);
	if (!t || depth > 8) {
		snprintf(buf, sz, "?");
		return;
	}
	name = btf__name_by_offset(btf, t->name_off);
	name = name && *name ? name : "(anon)";
	if (btf_is_array(t)) {
		char elem[64];

		type_str(btf, btf_array(t)->type, elem, sizeof(elem), depth + 1);
		snprintf(buf, sz, "%s[%u]", elem, btf_array(t)->nelems);
	} else if (btf_is_ptr(t)) {
		snprintf(buf, sz, "pointer");
	} else if (btf_is_struct(t) || btf_is_union(t) || btf_is_any_enum(t)) {
		snprintf(buf, sz, "%s %s", btf_is_struct(t) ? "struct" : btf_is_union(t) ? "union" :
			 "enum", name);
	} else {
		snprintf(buf, sz, "%s", name);
	}
}

/* u8..s64 and bool for BTF integers; bytes for anything else. */
static enum uptrkv_type int_type(const struct btf *btf, __u32 id)
{
	static const enum uptrkv_type u[] = { [1] = UPTRKV_T_U8, [2] = UPTRKV_T_U16,
					      [4] = UPTRKV_T_U32, [8] = UPTRKV_T_U64 };
	static const enum uptrkv_type s[] = { [1] = UPTRKV_T_S8, [2] = UPTRKV_T_S16,
					      [4] = UPTRKV_T_S32, [8] = UPTRKV_T_S64 };
	const struct btf_type *t = btf__type_by_id(btf, skip_mods(btf, id));
	__u32 enc;

	if (!t || !btf_is_int(t) || btf_int_offset(t) || btf_int_bits(t) != 8 * t->size)
		return UPTRKV_T_BYTES;
	enc = btf_int_encoding(t);
	if (enc & BTF_INT_BOOL)
		return t->size == 1 ? UPTRKV_T_BOOL : UPTRKV_T_BYTES;
	if (t->size > 8 || !u[t->size])
		return UPTRKV_T_BYTES;
	return (enc & BTF_INT_SIGNED) ? s[t->size] : u[t->size];
}

int uptrkv_globals__add_datasec(const struct btf *btf, __u32 sec_id, __u32 sec,
				struct uptrkv_objstate *out, struct uptrkv_error *e)
{
	const struct btf_type *ds = btf__type_by_id(btf, sec_id);
	const struct btf_var_secinfo *vs;
	struct uptrkv_global *v;
	__u32 n;

	if (!ds || !btf_is_datasec(ds))
		return uptrkv_err(e, -EINVAL, "BTF type %u is not a DATASEC", sec_id);
	n = btf_vlen(ds);
	v = realloc(out->globals, (out->nr_globals + n + 1) * sizeof(*v));
	if (!v)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	out->globals = v;
	out->has_sec[sec] = true;
	out->sec_size[sec] = ds->size;
	vs = btf_var_secinfos(ds);
	for (__u32 i = 0; i < n; i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		struct uptrkv_global *g = &out->globals[out->nr_globals];
		const char *name;

		if (!var || !btf_is_var(var))
			continue;
		name = btf__name_by_offset(btf, var->name_off);
		/* bpf/uptrkv.bpf.h's BTF anchors: no program uses them, so the
		 * live version has no map for them, and they hold nothing. */
		if (name && !strncmp(name, "uptrkv__", 8))
			continue;
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", name ? name : "");
		type_str(btf, var->type, g->type, sizeof(g->type), 0);
		g->sec = sec;
		g->offset = vs->offset;
		g->size = vs->size;
		g->itype = int_type(btf, var->type);
		out->nr_globals++;
	}
	return 0;
}

static int add_sections(const struct btf *btf, struct uptrkv_objstate *out, struct uptrkv_error *e)
{
	for (__u32 s = 0; s < UPTRKV_NR_GSECS; s++) {
		int id = btf__find_by_name_kind(btf, gsec_names[s], BTF_KIND_DATASEC);
		int err;

		if (id < 0)
			continue;
		err = uptrkv_globals__add_datasec(btf, id, s, out, e);
		if (err)
			return err;
	}
	return 0;
}

static int add_maps(struct bpf_object *obj, const char *store_map, struct uptrkv_objstate *out,
		    struct uptrkv_error *e)
{
	struct bpf_map *map;
	size_t n = 0;

	bpf_object__for_each_map(map, obj)
		n++;
	out->maps = calloc(n + 1, sizeof(*out->maps));
	if (!out->maps)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	bpf_object__for_each_map(map, obj) {
		struct uptrkv_map_def *d = &out->maps[out->nr_maps];

		if (bpf_map__is_internal(map) || !strcmp(bpf_map__name(map), store_map))
			continue;
		snprintf(d->name, sizeof(d->name), "%s", bpf_map__name(map));
		d->type = bpf_map__type(map);
		d->key_size = bpf_map__key_size(map);
		d->value_size = bpf_map__value_size(map);
		d->max_entries = bpf_map__max_entries(map);
		d->flags = bpf_map__map_flags(map);
		out->nr_maps++;
	}
	return 0;
}

int uptrkv_objstate__from_mem(const void *buf, size_t len, const char *store_map,
			      struct uptrkv_objstate *out, struct uptrkv_error *e)
{
	struct bpf_object *obj;
	struct btf *btf;
	int err;

	memset(out, 0, sizeof(*out));
	obj = bpf_object__open_mem(buf, len, NULL);
	if (!obj)
		return uptrkv_errno(e, -errno, "open the BPF object");
	btf = bpf_object__btf(obj);
	err = btf ? add_sections(btf, out, e) : 0;
	err = err ?: add_maps(obj, store_map, out, e);
	bpf_object__close(obj);
	if (err)
		uptrkv_objstate__free(out);
	return err;
}

int uptrkv_objstate__from_file(const char *path, const char *store_map,
			       struct uptrkv_objstate *out, struct uptrkv_error *e)
{
	size_t len;
	void *buf;
	int err;

	memset(out, 0, sizeof(*out));
	err = uptrkv_read_file(path, UPTRKV_OBJECT_MAX, &buf, &len, e);
	if (err)
		return err;
	err = uptrkv_objstate__from_mem(buf, len, store_map, out, e);
	free(buf);
	return err;
}

void uptrkv_objstate__free(struct uptrkv_objstate *s)
{
	if (!s)
		return;
	free(s->globals);
	free(s->maps);
	memset(s, 0, sizeof(*s));
}

bool uptrkv_global__same(const struct uptrkv_global *a, const struct uptrkv_global *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->type, b->type) && a->size == b->size &&
	       a->itype == b->itype;
}

/* ---- the plan ---- */

const char *uptrkv_gaction__str(enum uptrkv_gaction a)
{
	static const char *const s[] = { "share", "copy", "convert", "init", "drop" };

	return (unsigned)a < ARRAY_SIZE(s) ? s[a] : "unknown";
}

const char *uptrkv_map_change__str(enum uptrkv_map_change c)
{
	static const char *const s[] = { "unchanged", "added", "changed", "removed" };

	return (unsigned)c < ARRAY_SIZE(s) ? s[c] : "unknown";
}

const char *uptrkv_map_action__str(enum uptrkv_map_action a)
{
	static const char *const s[] = { "share", "create", "reset", "copy", "keep" };

	return (unsigned)a < ARRAY_SIZE(s) ? s[a] : "unknown";
}

static const struct uptrkv_named_policy *policy(const struct uptrkv_named_policy *v, size_t n,
						const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static bool global_reset(const struct uptrkv_manifest *m, const char *name)
{
	return m && (m->globals_reset_all || policy(m->globals, m->nr_globals, name));
}

static const struct uptrkv_global *find_global(const struct uptrkv_objstate *s, __u32 sec,
					       const char *name)
{
	for (size_t i = 0; s && i < s->nr_globals; i++)
		if (s->globals[i].sec == sec && !strcmp(s->globals[i].name, name))
			return &s->globals[i];
	return NULL;
}

/*
 * A section is shared (the new version reuses the old one's map) when both
 * have it with the same size and the same variables at the same offsets,
 * and no variable of it is to be reset.
 */
static bool section_shared(const struct uptrkv_objstate *o, const struct uptrkv_objstate *n,
			   __u32 sec, const struct uptrkv_manifest *m)
{
	size_t no = 0, nn = 0;

	if (!o || !o->has_sec[sec] || !n->has_sec[sec] || o->sec_size[sec] != n->sec_size[sec])
		return false;
	for (size_t i = 0; i < n->nr_globals; i++) {
		const struct uptrkv_global *g = &n->globals[i], *og;

		if (g->sec != sec)
			continue;
		nn++;
		og = find_global(o, sec, g->name);
		if (!og || !uptrkv_global__same(og, g) || og->offset != g->offset ||
		    global_reset(m, g->name))
			return false;
	}
	for (size_t i = 0; i < o->nr_globals; i++)
		no += o->globals[i].sec == sec;
	return no == nn;
}

static void plan_global_both(struct uptrkv_gplan_entry *pe, const struct uptrkv_manifest *m)
{
	const struct uptrkv_global *o = &pe->old, *n = &pe->new;

	if (uptrkv_global__same(o, n)) {
		pe->change = UPTRKV_CH_UNCHANGED;
		pe->action = UPTRKV_GACT_COPY;
	} else {
		pe->change = strcmp(o->type, n->type) ? UPTRKV_CH_RETYPED : UPTRKV_CH_RESIZED;
		pe->action = UPTRKV_GACT_CONVERT;
	}
	if (global_reset(m, n->name)) {
		pe->action = UPTRKV_GACT_INIT;
		return;
	}
	if (pe->change == UPTRKV_CH_UNCHANGED || uptrkv_type__widens(o->itype, n->itype))
		return;
	pe->action = UPTRKV_GACT_INIT;
	pe->refused = true;
	snprintf(pe->why, sizeof(pe->why), "global %s (%s) changes from %s (%u bytes) to %s "
		 "(%u bytes): only an integer widening keeps the value; anything else needs "
		 "globals: {%s: reset}", n->name, uptrkv_gsec__str(n->sec), o->type, o->size,
		 n->type, n->size, n->name);
}

static void plan_globals(struct uptrkv_plan *p, const struct uptrkv_objstate *o,
			 const struct uptrkv_objstate *n, const struct uptrkv_manifest *m)
{
	for (__u32 s = 0; s < UPTRKV_NR_GSECS; s++)
		p->sec_shared[s] = section_shared(o, n, s, m);
	for (size_t i = 0; i < n->nr_globals; i++) {
		const struct uptrkv_global *g = &n->globals[i];
		const struct uptrkv_global *og = find_global(o, g->sec, g->name);
		struct uptrkv_gplan_entry *pe = &p->globals[p->nr_globals++];

		pe->new = *g;
		pe->has_new = true;
		if (!og) {
			pe->change = UPTRKV_CH_ADDED;
			pe->action = UPTRKV_GACT_INIT;
		} else {
			pe->old = *og;
			pe->has_old = true;
			plan_global_both(pe, m);
			if (p->sec_shared[g->sec])
				pe->action = UPTRKV_GACT_SHARE;
		}
	}
	for (size_t i = 0; o && i < o->nr_globals; i++) {
		struct uptrkv_gplan_entry *pe;

		if (find_global(n, o->globals[i].sec, o->globals[i].name))
			continue;
		pe = &p->globals[p->nr_globals++];
		pe->old = o->globals[i];
		pe->has_old = true;
		pe->change = UPTRKV_CH_REMOVED;
		pe->action = UPTRKV_GACT_DROP;
	}
}

static const struct uptrkv_map_def *find_map(const struct uptrkv_objstate *s, const char *name)
{
	for (size_t i = 0; s && i < s->nr_maps; i++)
		if (!strcmp(s->maps[i].name, name))
			return &s->maps[i];
	return NULL;
}

static bool same_def(const struct uptrkv_map_def *a, const struct uptrkv_map_def *b)
{
	return a->type == b->type && a->key_size == b->key_size &&
	       a->value_size == b->value_size && a->max_entries == b->max_entries &&
	       a->flags == b->flags;
}

static int def_str(const struct uptrkv_map_def *d, char *buf, size_t sz)
{
	const char *t = libbpf_bpf_map_type_str(d->type);

	return snprintf(buf, sz, "%s key %u value %u max_entries %u flags 0x%x", t ? t : "?",
			d->key_size, d->value_size, d->max_entries, d->flags);
}

static bool copyable(const struct uptrkv_map_def *o, const struct uptrkv_map_def *n)
{
	bool kind = n->type == BPF_MAP_TYPE_HASH || n->type == BPF_MAP_TYPE_ARRAY ||
		    n->type == BPF_MAP_TYPE_LRU_HASH;

	return kind && o->type == n->type && o->key_size == n->key_size &&
	       n->value_size >= o->value_size;
}

static void plan_map_changed(struct uptrkv_mplan_entry *pe, const struct uptrkv_manifest *m)
{
	const struct uptrkv_named_policy *pol = m ? policy(m->maps, m->nr_maps, pe->new.name) : NULL;
	char od[128], nd[128];

	pe->change = UPTRKV_MAP_CHANGED;
	if (pol && pol->policy == UPTRKV_CARRY_RESET) {
		pe->action = UPTRKV_MACT_RESET;
		return;
	}
	if (pol && pol->policy == UPTRKV_CARRY_COPY && copyable(&pe->old, &pe->new)) {
		pe->action = UPTRKV_MACT_COPY;
		return;
	}
	def_str(&pe->old, od, sizeof(od));
	def_str(&pe->new, nd, sizeof(nd));
	pe->action = UPTRKV_MACT_RESET;
	pe->refused = true;
	if (pol)
		snprintf(pe->why, sizeof(pe->why), "map %s: maps: {%s: copy} needs a hash or array "
			 "map whose type and key are unchanged and whose value only grew: "
			 "deployed: %s; new: %s", pe->new.name, pe->new.name, od, nd);
	else
		snprintf(pe->why, sizeof(pe->why), "map %s changes: deployed: %s; new: %s; add "
			 "maps: {%s: reset} or {%s: copy}", pe->new.name, od, nd, pe->new.name,
			 pe->new.name);
}

static void plan_maps(struct uptrkv_plan *p, const struct uptrkv_objstate *o,
		      const struct uptrkv_objstate *n, const struct uptrkv_manifest *m)
{
	for (size_t i = 0; i < n->nr_maps; i++) {
		const struct uptrkv_map_def *od = find_map(o, n->maps[i].name);
		struct uptrkv_mplan_entry *pe = &p->maps[p->nr_maps++];

		pe->new = n->maps[i];
		pe->has_new = true;
		if (!od) {
			pe->change = UPTRKV_MAP_ADDED;
			pe->action = UPTRKV_MACT_CREATE;
			continue;
		}
		pe->old = *od;
		pe->has_old = true;
		if (same_def(od, &n->maps[i])) {
			const struct uptrkv_named_policy *pol =
				m ? policy(m->maps, m->nr_maps, od->name) : NULL;

			/* reset of an unchanged map is honoured; copy is a no-op. */
			pe->action = pol && pol->policy == UPTRKV_CARRY_RESET ? UPTRKV_MACT_RESET
									       : UPTRKV_MACT_SHARE;
			continue;
		}
		plan_map_changed(pe, m);
	}
	for (size_t i = 0; o && i < o->nr_maps; i++) {
		struct uptrkv_mplan_entry *pe;

		if (find_map(n, o->maps[i].name))
			continue;
		pe = &p->maps[p->nr_maps++];
		pe->old = o->maps[i];
		pe->has_old = true;
		pe->change = UPTRKV_MAP_REMOVED;
		pe->action = UPTRKV_MACT_KEEP;
	}
}

int uptrkv_plan__add_objstate(struct uptrkv_plan *p, const struct uptrkv_objstate *old,
			      const struct uptrkv_objstate *new,
			      const struct uptrkv_manifest *new_m, struct uptrkv_error *e)
{
	size_t ng = new->nr_globals + (old ? old->nr_globals : 0) + 1;
	size_t nm = new->nr_maps + (old ? old->nr_maps : 0) + 1;

	free(p->globals);
	free(p->maps);
	p->nr_globals = p->nr_maps = 0;
	p->globals = calloc(ng, sizeof(*p->globals));
	p->maps = calloc(nm, sizeof(*p->maps));
	if (!p->globals || !p->maps)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	p->has_objstate = true;
	plan_globals(p, old, new, new_m);
	plan_maps(p, old, new, new_m);
	for (size_t i = 0; i < p->nr_globals; i++) {
		p->nr_global_changes += p->globals[i].change != UPTRKV_CH_UNCHANGED;
		p->nr_refused += p->globals[i].refused;
	}
	for (size_t i = 0; i < p->nr_maps; i++) {
		p->nr_map_changes += p->maps[i].change != UPTRKV_MAP_UNCHANGED;
		p->nr_refused += p->maps[i].refused;
	}
	p->compatible = p->nr_refused == 0;
	return 0;
}
