// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* How a change plan is shown: shared by diff and rollout. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cmd.h"

static const char *entry_name(const struct uptrkv_plan_entry *pe)
{
	return pe->new ? pe->new->name : pe->old->name;
}

static void entry_note(const struct uptrkv_plan_entry *pe, char *buf, size_t sz)
{
	const struct uptrkv_key *o = pe->old, *n = pe->new;
	size_t len = 0;

	buf[0] = '\0';
	if (pe->refused) {
		snprintf(buf, sz, "REFUSED: %s", pe->why);
		return;
	}
	switch (pe->change) {
	case UPTRKV_CH_ADDED:
		len = snprintf(buf, sz, "set to %s before the switch",
			       n->has_default ? "its default" : "zero");
		break;
	case UPTRKV_CH_REMOVED:
		len = snprintf(buf, sz, "reclaimed after the switch");
		break;
	case UPTRKV_CH_RESIZED:
		len = snprintf(buf, sz, "%s",
			       pe->action == UPTRKV_ACT_INIT ? "reset to its default" :
			       n->size > o->size ? "copied, zero-extended" : "copied, truncated");
		break;
	case UPTRKV_CH_RETYPED:
		len = snprintf(buf, sz, "%s -> %s, %s", uptrkv_type__str(o->type),
			       uptrkv_type__str(n->type),
			       pe->conv == UPTRKV_CONV_SINT ? "value kept, sign-extended" :
			       pe->conv == UPTRKV_CONV_UINT ? "value kept, zero-extended" :
			       "reset to its default");
		break;
	case UPTRKV_CH_RENAMED:
	case UPTRKV_CH_UNCHANGED:
		break;
	}
	if (pe->renamed && len < sz)
		snprintf(buf + len, sz - len, "%swas %s", len ? "; " : "", o->name);
}

static void size_cell(const struct uptrkv_key *k, char *buf, size_t sz)
{
	if (k)
		snprintf(buf, sz, "%u", k->size);
	else
		snprintf(buf, sz, "-");
}

static void print_summary(const char *name, const struct uptrkv_plan *p)
{
	size_t count[UPTRKV_CH_RENAMED + 1] = {};
	bool first = true;

	for (size_t i = 0; i < p->n; i++)
		count[p->v[i].change]++;
	printf("%s: version %u -> %u: ", name, p->old_version, p->new_version);
	if (!p->nr_changes) {
		printf("no key changes, %zu unchanged", count[UPTRKV_CH_UNCHANGED]);
	} else {
		printf("%zu change%s (", p->nr_changes, p->nr_changes == 1 ? "" : "s");
		for (int c = UPTRKV_CH_ADDED; c <= UPTRKV_CH_RENAMED; c++) {
			if (!count[c])
				continue;
			printf("%s%zu %s", first ? "" : ", ", count[c], uptrkv_change__str(c));
			first = false;
		}
		printf("), %zu unchanged", count[UPTRKV_CH_UNCHANGED]);
	}
	if (!p->compatible)
		printf("; INCOMPATIBLE: %zu change%s refused", p->nr_refused,
		       p->nr_refused == 1 ? "" : "s");
	else if (p->nr_changes)
		printf("; compatible");
	printf("; %llu -> %llu bytes per task\n", (unsigned long long)p->bytes_before,
	       (unsigned long long)p->bytes_after);
	if (!p->version_increases && (p->nr_changes || p->old_version != p->new_version))
		printf("%s: version does not increase (%u -> %u): rollout refuses this\n",
		       name, p->old_version, p->new_version);
}

static const char *gaction_note(const struct uptrkv_gplan_entry *g)
{
	switch (g->action) {
	case UPTRKV_GACT_SHARE: return "shared: the section's map is reused";
	case UPTRKV_GACT_COPY: return "value carried over";
	case UPTRKV_GACT_CONVERT: return "integer widened, value kept";
	case UPTRKV_GACT_INIT: return g->has_old ? "reset to the object's initial value"
						: "the object's initial value";
	case UPTRKV_GACT_DROP: return "dropped";
	}
	return "";
}

static void print_globals(const struct uptrkv_plan *p)
{
	size_t unchanged = 0;

	for (size_t i = 0; i < p->nr_globals; i++) {
		const struct uptrkv_gplan_entry *g = &p->globals[i];
		const struct uptrkv_global *x = g->has_new ? &g->new : &g->old;

		if (g->change == UPTRKV_CH_UNCHANGED) {
			unchanged++;
			continue;
		}
		printf("global %s %s  %s  %s -> %s  %s%s\n", uptrkv_gsec__str(x->sec), x->name,
		       uptrkv_change__str(g->change), g->has_old ? g->old.type : "-",
		       g->has_new ? g->new.type : "-", g->refused ? "REFUSED: " : "",
		       g->refused ? g->why : gaction_note(g));
	}
	printf("globals: %zu changed, %zu unchanged;", p->nr_global_changes, unchanged);
	for (int s = 0; s < UPTRKV_NR_GSECS; s++)
		printf(" %s %s", uptrkv_gsec__str(s), p->sec_shared[s] ? "shared" : "copied");
	printf("\n");
}

static void print_maps(const struct uptrkv_plan *p)
{
	for (size_t i = 0; i < p->nr_maps; i++) {
		const struct uptrkv_mplan_entry *m = &p->maps[i];

		printf("map %s  %s  %s%s\n", m->has_new ? m->new.name : m->old.name,
		       uptrkv_map_change__str(m->change), m->refused ? "REFUSED: " : "",
		       m->refused ? m->why : uptrkv_map_action__str(m->action));
	}
}

void plan_print_table(const char *name, const struct uptrkv_plan *p)
{
	int wid = 2, wname = 4, wch = 6;
	char os[16], ns[16], note[256];

	for (size_t i = 0; i < p->n; i++) {
		const struct uptrkv_plan_entry *pe = &p->v[i];

		if (pe->change == UPTRKV_CH_UNCHANGED)
			continue;
		wid = snprintf(NULL, 0, "%u", pe->id) > wid ? snprintf(NULL, 0, "%u", pe->id) : wid;
		wname = (int)strlen(entry_name(pe)) > wname ? (int)strlen(entry_name(pe)) : wname;
		wch = (int)strlen(uptrkv_change__str(pe->change)) > wch ?
		      (int)strlen(uptrkv_change__str(pe->change)) : wch;
	}
	if (p->nr_changes)
		printf("%-*s  %-*s  %-*s  %8s  %8s  %s\n", wid, "ID", wname, "NAME", wch, "CHANGE",
		       "OLD SIZE", "NEW SIZE", "NOTE");
	for (size_t i = 0; i < p->n; i++) {
		const struct uptrkv_plan_entry *pe = &p->v[i];

		if (pe->change == UPTRKV_CH_UNCHANGED)
			continue;
		size_cell(pe->old, os, sizeof(os));
		size_cell(pe->new, ns, sizeof(ns));
		entry_note(pe, note, sizeof(note));
		printf("%-*u  %-*s  %-*s  %8s  %8s  %s\n", wid, pe->id, wname, entry_name(pe),
		       wch, uptrkv_change__str(pe->change), os, ns, note);
	}
	/* Before the summary, which stays the last line. */
	if (p->has_objstate && p->nr_globals)
		print_globals(p);
	if (p->has_objstate)
		print_maps(p);
	print_summary(name, p);
}

static void json_size(struct jw *w, const char *name, const struct uptrkv_key *k)
{
	jw_name(w, name);
	if (k)
		jw_uint(w, k->size);
	else
		jw_null(w);
}

static void json_type(struct jw *w, const char *name, const struct uptrkv_key *k)
{
	jw_name(w, name);
	if (k)
		jw_string(w, uptrkv_type__str(k->type));
	else
		jw_null(w);
}

static const char *action_str(enum uptrkv_action a)
{
	switch (a) {
	case UPTRKV_ACT_KEEP: return "keep";
	case UPTRKV_ACT_INIT: return "init";
	case UPTRKV_ACT_COPY: return "copy";
	case UPTRKV_ACT_DROP: return "drop";
	}
	return "unknown";
}

static void json_global(struct jw *w, const char *name, const struct uptrkv_global *g, bool has)
{
	jw_name(w, name);
	if (!has) {
		jw_null(w);
		return;
	}
	jw_start_object(w);
	jw_string_field(w, "type", g->type);
	jw_uint_field(w, "size", g->size);
	jw_uint_field(w, "offset", g->offset);
	jw_end_object(w);
}

/* Every global, unchanged ones too: which are shared and which copied. */
static void json_globals(struct jw *w, const struct uptrkv_plan *p)
{
	jw_name(w, "globals");
	jw_start_array(w);
	for (size_t i = 0; i < p->nr_globals; i++) {
		const struct uptrkv_gplan_entry *g = &p->globals[i];
		const struct uptrkv_global *x = g->has_new ? &g->new : &g->old;

		jw_start_object(w);
		jw_string_field(w, "name", x->name);
		jw_string_field(w, "section", uptrkv_gsec__str(x->sec));
		jw_string_field(w, "change", uptrkv_change__str(g->change));
		json_global(w, "old", &g->old, g->has_old);
		json_global(w, "new", &g->new, g->has_new);
		jw_string_field(w, "action", uptrkv_gaction__str(g->action));
		jw_bool_field(w, "refused", g->refused);
		jw_name(w, "why");
		jw_string(w, g->refused ? g->why : NULL);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_name(w, "sections_shared");
	jw_start_object(w);
	for (int s = 0; s < UPTRKV_NR_GSECS; s++)
		jw_bool_field(w, uptrkv_gsec__str(s), p->sec_shared[s]);
	jw_end_object(w);
}

static void json_map_def(struct jw *w, const char *name, const struct uptrkv_map_def *d, bool has)
{
	const char *t = libbpf_bpf_map_type_str(d->type);

	jw_name(w, name);
	if (!has) {
		jw_null(w);
		return;
	}
	jw_start_object(w);
	jw_string_field(w, "type", t ? t : "unknown");
	jw_uint_field(w, "key_size", d->key_size);
	jw_uint_field(w, "value_size", d->value_size);
	jw_uint_field(w, "max_entries", d->max_entries);
	jw_uint_field(w, "flags", d->flags);
	jw_end_object(w);
}

static void json_maps(struct jw *w, const struct uptrkv_plan *p)
{
	jw_name(w, "maps");
	jw_start_array(w);
	for (size_t i = 0; i < p->nr_maps; i++) {
		const struct uptrkv_mplan_entry *m = &p->maps[i];

		jw_start_object(w);
		jw_string_field(w, "name", m->has_new ? m->new.name : m->old.name);
		jw_string_field(w, "change", uptrkv_map_change__str(m->change));
		json_map_def(w, "old", &m->old, m->has_old);
		json_map_def(w, "new", &m->new, m->has_new);
		jw_string_field(w, "action", uptrkv_map_action__str(m->action));
		jw_bool_field(w, "refused", m->refused);
		jw_name(w, "why");
		jw_string(w, m->refused ? m->why : NULL);
		jw_end_object(w);
	}
	jw_end_array(w);
}

void plan_json_fields(struct jw *w, const struct uptrkv_plan *p)
{
	jw_name(w, "changes");
	jw_start_array(w);
	for (size_t i = 0; i < p->n; i++) {
		const struct uptrkv_plan_entry *pe = &p->v[i];

		if (pe->change == UPTRKV_CH_UNCHANGED)
			continue;
		jw_start_object(w);
		jw_uint_field(w, "id", pe->id);
		jw_string_field(w, "name", entry_name(pe));
		jw_string_field(w, "change", uptrkv_change__str(pe->change));
		json_size(w, "old_size", pe->old);
		json_size(w, "new_size", pe->new);
		jw_name(w, "old_name");
		jw_string(w, pe->old ? pe->old->name : NULL);
		jw_bool_field(w, "renamed", pe->renamed);
		json_type(w, "old_type", pe->old);
		json_type(w, "new_type", pe->new);
		jw_string_field(w, "action", action_str(pe->action));
		jw_string_field(w, "conversion", uptrkv_conv__str(pe->conv));
		jw_bool_field(w, "refused", pe->refused);
		jw_name(w, "why");
		jw_string(w, pe->refused ? pe->why : NULL);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_uint_field(w, "unchanged", p->n - p->nr_changes);
	jw_bool_field(w, "compatible", p->compatible);
	jw_bool_field(w, "version_increases", p->version_increases);
	jw_uint_field(w, "bytes_before", p->bytes_before);
	jw_uint_field(w, "bytes_after", p->bytes_after);
	jw_hash_field(w, "old_hash", p->old_hash);
	jw_hash_field(w, "new_hash", p->new_hash);
	if (p->has_objstate) {
		json_globals(w, p);
		json_maps(w, p);
	}
}
