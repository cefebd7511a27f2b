// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uptrkv status [NAME] */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cmd.h"

static const char *step_str(__u32 step)
{
	switch (step) {
	case UPTRKV_STEP_IDLE: return "idle";
	case UPTRKV_STEP_MIGRATING: return "interrupted while migrating";
	case UPTRKV_STEP_SWITCHED: return "interrupted after the switch";
	}
	return "unknown";
}

static const char *link_str(__u32 type)
{
	const char *s = libbpf_bpf_link_type_str(type);

	return s ? s : "none";
}

static const struct uptrkv_status_hook *find_hook(const struct uptrkv_status *st, const char *name)
{
	for (size_t i = 0; i < st->nr_hooks; i++)
		if (!strcmp(st->hooks[i].name, name))
			return &st->hooks[i];
	return NULL;
}

static void json_programs(struct jw *w, const struct uptrkv_status *st, const struct uptrkv_status_slot *s)
{
	jw_name(w, "programs");
	jw_start_array(w);
	for (size_t i = 0; i < s->nr_progs; i++) {
		const struct uptrkv_status_hook *h = find_hook(st, s->progs[i].hook);

		jw_start_object(w);
		jw_string_field(w, "name", s->progs[i].name);
		jw_string_field(w, "hook", s->progs[i].hook);
		jw_string_field(w, "attach", "entry link + prog-array dispatch");
		jw_string_field(w, "link_type", h ? link_str(h->link_type) : "none");
		jw_uint_field(w, "link_id", h ? h->link_id : 0);
		jw_uint_field(w, "prog_id", s->progs[i].prog_id);
		jw_end_object(w);
	}
	jw_end_array(w);
}

/* deployed_at: for the live slot, st's (from the history); for the other,
 * its record time. */
static void json_slot(struct jw *w, const struct uptrkv_status *st, const struct uptrkv_status_slot *s,
		      __u64 deployed_at)
{
	jw_uint_field(w, "version", s->version);
	jw_string_field(w, "object", s->object);
	jw_hash_field(w, "layout_hash", s->layout_hash);
	jw_time_field(w, "deployed_at", deployed_at);
	json_programs(w, st, s);
}

static void json_status(struct jw *w, const struct uptrkv_status *st)
{
	const struct uptrkv_status_slot *cur = &st->slot[st->active], *prev = &st->slot[st->active ^ 1];

	jw_start_object(w);
	jw_string_field(w, "name", st->name);
	json_slot(w, st, cur, st->deployed_at);
	jw_time_field(w, "rolled_back_at", st->rolled_back_at);
	jw_uint_field(w, "generation", st->gen);
	jw_uint_field(w, "slot", st->active);
	jw_string_field(w, "state", step_str(st->step));
	jw_uint_field(w, "stores", st->nr_stores);
	jw_uint_field(w, "processes", st->nr_processes);
	jw_uint_field(w, "bytes_used", st->bytes_used);
	jw_uint_field(w, "bytes_registered", st->bytes_registered);
	jw_name(w, "previous");
	if (prev->present) {
		jw_start_object(w);
		json_slot(w, st, prev, prev->deployed_at);
		jw_end_object(w);
	} else {
		jw_null(w);
	}
	jw_end_object(w);
}

static void text_status(const struct uptrkv_status *st)
{
	const struct uptrkv_status_slot *cur = &st->slot[st->active], *prev = &st->slot[st->active ^ 1];
	char t[32], rb[32];

	rfc3339(st->deployed_at, t, sizeof(t));
	rfc3339(st->rolled_back_at, rb, sizeof(rb));
	printf("%s: version %u (generation %u, slot %u), layout 0x%08x, deployed %s%s%s\n", st->name,
	       cur->version, st->gen, st->active, cur->layout_hash, t,
	       st->rolled_back_at ? "; rolled back to it " : "", st->rolled_back_at ? rb : "");
	printf("  object    %s\n", cur->object);
	for (size_t i = 0; i < cur->nr_progs; i++) {
		const struct uptrkv_status_hook *h = find_hook(st, cur->progs[i].hook);

		printf("  %-9s %-16s prog %-6u on %s: entry link %u (%s) + prog-array dispatch\n",
		       i ? "" : "programs", cur->progs[i].name, cur->progs[i].prog_id, cur->progs[i].hook,
		       h ? h->link_id : 0, h ? link_str(h->link_type) : "none");
	}
	printf("  stores    %zu thread(s) in %zu process(es), %llu bytes used, %llu bytes registered\n",
	       st->nr_stores, st->nr_processes, (unsigned long long)st->bytes_used,
	       (unsigned long long)st->bytes_registered);
	if (prev->present)
		printf("  previous  version %u (slot %u): 'uptrkv rollback %s' returns to it\n",
		       prev->version, st->active ^ 1, st->name);
	else
		printf("  previous  none\n");
	printf("  state     %s%s\n", step_str(st->step),
	       st->step ? ": the next rollout or rollback finishes or undoes it" : "");
}

const struct argp status_argp = {
	.doc = "Show deployments: version, object, programs and how they are attached, live "
	       "stores and bytes used, and the version a rollback would return to.\v"
	       "Exit status: 0, or 1 if NAME is not deployed, 2 if --bpffs is not a mounted "
	       "bpffs (status never mounts one).\n\n"
	       "Examples:\n  uptrkv status\n  uptrkv status demo -p",
};

static int show(const char *name, struct jw *w)
{
	struct uptrkv_status st;
	struct uptrkv_error e = {};
	int err;

	err = uptrkv_deploy__status(env.bpffs, name, &st, &e);
	if (err) {
		p_lib_err(&e);
		return err;
	}
	if (w)
		json_status(w, &st);
	else
		text_status(&st);
	uptrkv_status__free(&st);
	return 0;
}

int do_status(int argc, char **argv)
{
	struct cmd_args pos;
	char *name;
	struct uptrkv_error e = {};
	char **names = NULL;
	size_t n = 0;
	struct jw *w;
	int ret = EXIT_OK;

	if (cmd_parse(argc, argv, NULL, &pos))
		return EXIT_USAGE;
	name = pos.n ? pos.v[0] : NULL;
	ret = need_bpffs();
	if (ret)
		return ret;
	if (name) {
		names = &name;
		n = 1;
	} else if (uptrkv_deploy__list(env.bpffs, &names, &n, &e)) {
		p_lib_err(&e);
		return EXIT_FAIL;
	}
	if (name && env.json) {
		/* Fail before opening the document, so the error is the document. */
		struct uptrkv_deploy *d;

		if (uptrkv_deploy__open(env.bpffs, name, &d, &e)) {
			p_lib_err(&e);
			return EXIT_FAIL;
		}
		uptrkv_deploy__close(d);
	}
	w = json_begin();
	if (w) {
		jw_start_object(w);
		jw_name(w, "deployments");
		jw_start_array(w);
	}
	if (!n && !w)
		printf("no deployments under %s/%s\n", env.bpffs, UPTRKV_DEPLOY_SUBDIR);
	for (size_t i = 0; i < n; i++)
		if (show(names[i], w))
			ret = EXIT_FAIL;
	if (w) {
		jw_end_array(w);
		jw_end_object(w);
	}
	if (!name)
		uptrkv_strv__free(names, n);
	return ret;
}
