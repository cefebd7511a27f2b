// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uptrkv diff OLD NEW: the change plan between two manifests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

#define DEPLOYED_PREFIX "deployed:"

struct diff_args {
	const char *old, *new;	/* the positional arguments */
	const char *object;	/* --object: must be bound to NEW */
	const char *old_object;	/* --old-object: OLD's object, for globals and maps */
};

enum { OPT_OBJECT = 0x200, OPT_OLD_OBJECT };

static const struct argp_option diff_opts[] = {
	{ "object", OPT_OBJECT, "FILE", 0, "Also check that the BPF object FILE was built for "
	  "NEW's layout and deployment, as a rollout of NEW would (no kernel needed)", 0 },
	{ "old-object", OPT_OLD_OBJECT, "FILE", 0, "OLD's BPF object, for the globals and maps "
	  "(default: OLD's object:, or what runs for deployed:NAME)", 0 },
	{},
};

static error_t diff_parse(int key, char *arg, struct argp_state *state)
{
	struct diff_args *a = state->input;

	switch (key) {
	case OPT_OBJECT:
		a->object = arg;
		return 0;
	case OPT_OLD_OBJECT:
		a->old_object = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp diff_argp = {
	.options = diff_opts,
	.parser = diff_parse,
	.doc = "Show the change plan between two manifests, key by key. OLD and "
	       "NEW are manifest files, or deployed:NAME for the manifest that is "
	       "live now.\v"
	       "Exit status: 0 no difference, 1 differences that can be rolled out, "
	       "2 error (usage, a manifest that is invalid or unreadable, deployed:NAME "
	       "not deployed, --bpffs not a bpffs), 3 differences that cannot be rolled "
	       "out as written (a shrink without resize: truncate, a retype without "
	       "resize: reset, a version that does not increase, or with --object a FILE "
	       "not built for NEW: code object_mismatch).\n\n"
	       "Examples:\n"
	       "  uptrkv diff examples/demo/demo_v1.yaml examples/demo/demo_v2.yaml\n"
	       "  uptrkv diff deployed:demo examples/demo/demo_v3.yaml --json\n"
	       "  uptrkv diff deployed:demo examples/demo/demo_v3.yaml --object build/bpf/demo_v3.bpf.o",
};

static int load_deployed(const char *name, struct uptrkv_manifest **m)
{
	struct uptrkv_error e = {};
	struct uptrkv_deploy *d = NULL;
	int err;

	if (need_bpffs())
		return -EINVAL;
	err = uptrkv_deploy__open(env.bpffs, name, &d, &e);
	if (err == -ENOENT) {
		p_err(CODE_NOT_FOUND, "diff: %s%s: not deployed", DEPLOYED_PREFIX, name);
		return err;
	}
	if (!err)
		err = uptrkv_deploy__manifest(d, -1, m, &e);
	if (err)
		p_err(error_code(&e, NULL), "diff: %s%s: %s", DEPLOYED_PREFIX, name,
		      e.msg[0] ? e.msg : strerror(-err));
	uptrkv_deploy__close(d);
	return err;
}

/* What runs for deployed:NAME, outside the store. */
static int deployed_objstate(const char *name, struct uptrkv_objstate *st, struct uptrkv_error *e)
{
	struct uptrkv_deploy *d = NULL;
	int err;

	err = uptrkv_deploy__open(env.bpffs, name, &d, e);
	err = err ?: uptrkv_deploy__objstate(d, st, e);
	uptrkv_deploy__close(d);
	return err;
}

/*
 * The globals and shared maps of both sides, when both objects can be
 * read: OLD's from --old-object, what runs (deployed:NAME) or its object:;
 * NEW's from --object or its object:. Without both, the plan has keys only
 * and a note says why (globals and maps are then not compared).
 */
static void add_objstate(const struct diff_args *a, const struct uptrkv_manifest *old,
			 const struct uptrkv_manifest *new, struct uptrkv_plan *p)
{
	struct uptrkv_objstate os = {}, ns = {};
	struct uptrkv_error e = {};
	bool deployed = !strncmp(a->old, DEPLOYED_PREFIX, strlen(DEPLOYED_PREFIX));
	int err;

	if (a->old_object)
		err = uptrkv_objstate__from_file(a->old_object, old->store_map, &os, &e);
	else if (deployed)
		err = deployed_objstate(a->old + strlen(DEPLOYED_PREFIX), &os, &e);
	else
		err = uptrkv_objstate__from_file(old->object, old->store_map, &os, &e);
	err = err ?: uptrkv_objstate__from_file(a->object ? a->object : new->object,
						new->store_map, &ns, &e);
	err = err ?: uptrkv_plan__add_objstate(p, &os, &ns, new, &e);
	if (err && !env.json)
		fprintf(stderr, "uptrkv: diff: globals and maps not compared: %s\n", e.msg);
	uptrkv_objstate__free(&os);
	uptrkv_objstate__free(&ns);
}

static int load_operand(const char *arg, struct uptrkv_manifest **m)
{
	if (!strncmp(arg, DEPLOYED_PREFIX, strlen(DEPLOYED_PREFIX)))
		return load_deployed(arg + strlen(DEPLOYED_PREFIX), m);
	return cmd_manifest_load("diff", arg, m, NULL);
}

struct diff_bind {
	const char *object;
	struct uptrkv_binding b;
	struct uptrkv_error e;
	int err;
};

/* The name a change row shows: the new one, or the old one if removed. */
static void print_json(struct jw *w, const struct uptrkv_manifest *new,
		       const struct uptrkv_plan *p, const struct diff_bind *db)
{
	jw_start_object(w);
	jw_string_field(w, "name", new->name);
	jw_uint_field(w, "old_version", p->old_version);
	jw_uint_field(w, "new_version", p->new_version);
	plan_json_fields(w, p);
	if (db->object) {
		binding_json(w, db->object, &db->b);
		if (db->err) {
			jw_string_field(w, "object_error", db->e.msg);
			if (db->b.mismatch)
				jw_string_field(w, "code", UPTRKV_CODE_OBJECT_MISMATCH);
		}
	}
	jw_end_object(w);
}

/* The --object check, done before anything is printed. */
static void check_object(struct diff_bind *db, const struct uptrkv_manifest *new)
{
	if (db->object)
		db->err = uptrkv_binding__check(new, db->object, NULL, &db->b, &db->e);
}

static void print_object_text(const struct diff_bind *db)
{
	char hex[UPTRKV_LAYOUT_HEX_LEN];

	if (!db->object)
		return;
	if (db->err) {
		fprintf(stderr, "uptrkv: diff: %s\n", db->e.msg);
		return;
	}
	uptrkv_layout__hex(db->b.layout_sha256, hex);
	printf("object %s: built for the new layout (0x%.*s)\n", db->object,
	       UPTRKV_LAYOUT_HEX_SHOWN, hex);
}

/*
 * 0: nothing to roll out (same keys, same version). 1: a rollout would do
 * something and may. 3: a rollout would refuse it as written: a refused
 * key, or a version that does not increase while something differs. 2 is
 * left to errors, so a script tells broken input from "needs resize:".
 */
static int diff_status(const struct uptrkv_plan *p)
{
	bool differs = p->nr_changes || p->nr_global_changes || p->nr_map_changes ||
		       p->old_version != p->new_version;

	if (!differs)
		return EXIT_OK;
	if (!p->compatible || !p->version_increases)
		return EXIT_DIFF_REFUSED;
	return EXIT_FAIL;
}

int do_diff(int argc, char **argv)
{
	struct uptrkv_manifest *old = NULL, *new = NULL;
	struct diff_args a = {};
	struct cmd_args pos;
	struct diff_bind db = {};
	struct uptrkv_plan *p = NULL;
	struct uptrkv_error e = {};
	struct jw *w;
	int err, ret = EXIT_USAGE;

	err = cmd_parse(argc, argv, &a, &pos);
	if (err)
		return err;
	a.old = pos.v[0];
	a.new = pos.v[1];
	if (load_operand(a.old, &old) || load_operand(a.new, &new))
		goto out;
	err = uptrkv_plan__new(old, new, &p, &e);
	if (err) {
		p_err(CODE_INVALID, "diff: %s", e.msg);
		goto out;
	}
	add_objstate(&a, old, new, p);
	db.object = a.object;
	check_object(&db, new);
	w = json_begin();
	if (w) {
		print_json(w, new, p, &db);
	} else {
		plan_print_table(new->name, p);
		print_object_text(&db);
	}
	/* An object that a rollout of NEW would refuse: NEW cannot be rolled
	 * out as written. One that cannot be read is an input error. */
	if (db.err)
		ret = db.b.mismatch ? EXIT_DIFF_REFUSED : EXIT_USAGE;
	else
		ret = diff_status(p);
out:
	uptrkv_plan__free(p);
	uptrkv_manifest__free(old);
	uptrkv_manifest__free(new);
	return ret;
}
