// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uptrkv validate MANIFEST...: checks manifests without touching the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

struct validate_args {
	const char *object;	/* --object: check its layout record too */
};

enum { OPT_OBJECT = 0x200 };

static const struct argp_option validate_opts[] = {
	{ "object", OPT_OBJECT, "FILE", 0, "Also check that the BPF object FILE was built for "
	  "each manifest's layout and deployment, and has the programs it lists (no kernel "
	  "needed)", 0 },
	{},
};

static error_t validate_parse(int key, char *arg, struct argp_state *state)
{
	struct validate_args *a = state->input;

	switch (key) {
	case OPT_OBJECT:
		a->object = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp validate_argp = {
	.options = validate_opts,
	.parser = validate_parse,
	.doc = "Check manifests without touching the kernel. Every problem is "
	       "reported as FILE:LINE:COLUMN: MESSAGE on stderr (or in the JSON "
	       "document with --json).\v"
	       "Exit status: 0 if every manifest is valid (and, with --object, FILE is bound to "
	       "each), 2 if any is invalid or unreadable, or FILE is not bound to it (code "
	       "object_mismatch).\n\n"
	       "Example:\n"
	       "  uptrkv validate examples/demo/demo_v1.yaml examples/demo/demo_v2.yaml\n"
	       "  uptrkv validate examples/demo/demo_v2.yaml --object build/bpf/demo_v2.bpf.o\n"
	       "  uptrkv validate -p examples/demo/*.yaml",
};

static __u64 manifest_bytes(const struct uptrkv_manifest *m)
{
	__u64 sum = 0;

	for (size_t i = 0; i < m->nr_keys; i++)
		sum += uptrkv_alloc_size(m->keys[i].size);
	return sum;
}

/* The --object check of a valid manifest; prints what it found. */
static bool check_object(const struct uptrkv_manifest *m, const char *object, struct jw *w)
{
	struct uptrkv_binding b;
	struct uptrkv_error e = {};
	char hex[UPTRKV_LAYOUT_HEX_LEN];
	int err;

	err = uptrkv_binding__check(m, object, NULL, &b, &e);
	if (w) {
		binding_json(w, object, &b);
		if (err) {
			jw_string_field(w, "object_error", e.msg);
			if (b.mismatch)
				jw_string_field(w, "code", UPTRKV_CODE_OBJECT_MISMATCH);
		}
	} else if (err) {
		fprintf(stderr, "uptrkv: validate: %s\n", e.msg);
	} else {
		uptrkv_layout__hex(b.layout_sha256, hex);
		printf("  object %s: built for this layout (0x%.*s)\n", object,
		       UPTRKV_LAYOUT_HEX_SHOWN, hex);
	}
	return !err;
}

/* Returns true if the manifest is valid (and bound to object, if given). */
static bool validate_one(const char *path, const char *object, struct jw *w)
{
	struct uptrkv_diags d = {};
	struct uptrkv_manifest *m = NULL;
	bool ok;
	int err;

	err = cmd_manifest_load("validate", path, &m, &d);
	if (!err)
		p_debug("%s: object %s, layout hash 0x%08x", path, m->object, m->layout_hash);
	if (w) {
		jw_start_object(w);
		jw_string_field(w, "path", path);
		jw_bool_field(w, "valid", !err);
		if (!err) {
			jw_string_field(w, "name", m->name);
			jw_uint_field(w, "version", m->version);
			jw_uint_field(w, "keys", m->nr_keys);
			jw_uint_field(w, "bytes", manifest_bytes(m));
			jw_hash_field(w, "layout_hash", m->layout_hash);
		}
		json_diags(w, &d);
	} else if (!err) {
		printf("%s: valid (%s v%u, %zu key%s, %llu bytes per task)\n", path, m->name,
		       m->version, m->nr_keys, m->nr_keys == 1 ? "" : "s",
		       (unsigned long long)manifest_bytes(m));
	}
	ok = !err && (!object || check_object(m, object, w));
	if (w)
		jw_end_object(w);
	uptrkv_diags__free(&d);
	uptrkv_manifest__free(m);
	return ok;
}

int do_validate(int argc, char **argv)
{
	struct validate_args a = {};
	struct cmd_args paths;
	bool all_valid = true;
	struct jw *w;
	int err;

	err = cmd_parse(argc, argv, &a, &paths);
	if (err)
		return err;

	w = json_begin();
	if (w) {
		jw_start_object(w);
		jw_name(w, "manifests");
		jw_start_array(w);
	}
	for (int i = 0; i < paths.n; i++)
		all_valid &= validate_one(paths.v[i], a.object, w);
	if (w) {
		jw_end_array(w);
		jw_bool_field(w, "valid", all_valid);
		jw_end_object(w);
	}
	json_end();
	return all_valid ? EXIT_OK : EXIT_USAGE;
}
