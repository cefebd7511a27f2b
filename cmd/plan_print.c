// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* How a change plan is shown: shared by diff and rollout. */
#include <stdio.h>
#include <string.h>
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
}
