// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Manifest parser: one failing file per rule (tests/unit/manifests/bad_*),
 * with the exact line and column of every diagnostic, the good files field
 * by field, and the limits that protect against hostile input.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit/helpers.h"
#include "uptrkv_tool.h"

static char top[PATH_MAX], fixtures[PATH_MAX + 64];


static int load_fixture(const char *name, struct uptrkv_manifest **m, struct uptrkv_diags *d)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return uptrkv_manifest__load(path, NULL, m, d);
}

static int parse_str(const char *text, struct uptrkv_manifest **m, struct uptrkv_diags *d)
{
	UPTRKV_OPTS(uptrkv_manifest_opts, o, .display_name = "mem.yaml", .base_dir = "/base");

	return uptrkv_manifest__parse(text, strlen(text), &o, m, d);
}

/* ------------------------------------------------------------------ */
/* One file per rule                                                    */
/* ------------------------------------------------------------------ */

struct want {
	int line, col;
	const char *msg;		/* substring of the message */
};

struct bad_case {
	const char *file;
	size_t nr;			/* exact number of diagnostics */
	struct want w[6];
};

static const struct bad_case bad_cases[] = {
	{ "bad_empty.yaml", 1, { { 1, 1, "empty manifest: expected a mapping" } } },
	{ "bad_comment_only.yaml", 1, { { 1, 1, "empty manifest" } } },
	{ "bad_not_mapping.yaml", 1, { { 2, 1, "expected a mapping with apiVersion, name, version, object and keys, got a list" } } },
	{ "bad_scalar_doc.yaml", 1, { { 1, 1, "expected a mapping with apiVersion" } } },
	{ "bad_multi_doc.yaml", 1, { { 6, 1, "several documents in one file: expected exactly one" } } },
	{ "bad_syntax.yaml", 1, { { 3, 10, "YAML syntax error: mapping values are not allowed" } } },
	{ "bad_unknown_field.yaml", 2, {
		{ 5, 1, "unknown field 'colour': expected one of apiVersion, name, version, object, programs, store, keys" },
		{ 10, 5, "key: unknown field 'sise': expected one of id, name, size, type, default, resize" } } },
	{ "bad_dup_field.yaml", 1, { { 4, 1, "duplicate field 'name' (first at line 2)" } } },
	{ "bad_dup_id.yaml", 1, { { 7, 5, "duplicate id 3: already used by 'x' at line 6" } } },
	{ "bad_dup_name.yaml", 1, { { 7, 5, "duplicate name 'RX': already used by id 1 at line 6" } } },
	{ "bad_id_range.yaml", 2, {
		{ 6, 10, "id: expected an integer 0..1023, got 1024" },
		{ 7, 10, "id: expected an integer 0..1023, got -1" } } },
	{ "bad_size_range.yaml", 2, {
		{ 8, 11, "size: expected an integer 1..4096, got 5000" },
		{ 11, 11, "size: expected an integer 1..4096, got 0" } } },
	{ "bad_type_size.yaml", 2, {
		{ 6, 28, "size: expected 8 for type u64, got 4" },
		{ 7, 28, "size: expected 1 for type bool, got 2" } } },
	{ "bad_type_unknown.yaml", 1, { { 6, 37, "type: expected one of u8 u16 u32 u64 s8 s16 s32 s64 bool string bytes, got int" } } },
	{ "bad_default_int.yaml", 5, {
		{ 6, 50, "default: expected an integer 0..255 for u8, got 256" },
		{ 7, 50, "default: expected an integer -128..127 for s8, got -129" },
		{ 8, 51, "default: expected an integer 0..4294967295 for u32, got -1" },
		{ 9, 51, "for u16, got text \"5\"" },
		{ 10, 51, "for u64, got 18446744073709551616" } } },
	{ "bad_default_string.yaml", 1, { { 6, 54, "default: expected text of at most 3 bytes (size 4 with the NUL), got 4 bytes" } } },
	{ "bad_default_bytes.yaml", 3, {
		{ 6, 40, "default: expected at most 2 bytes, got 3" },
		{ 7, 40, "expected \"0x\" and pairs of hex digits for bytes, got text \"0x0g\"" },
		{ 8, 40, "got hello" } } },
	{ "bad_default_bool.yaml", 1, { { 6, 52, "default: expected true or false for bool, got yes" } } },
	{ "bad_yaml_type.yaml", 6, {
		{ 2, 7, "name: expected a deployment name, got a list" },
		{ 3, 10, "version: expected an integer 1..4294967295, got text \"1\"" },
		{ 4, 9, "object: expected the path of the BPF object, got a mapping" },
		{ 5, 11, "programs: expected a non-empty list of program names, got on_enter" },
		{ 6, 8, "store: expected a mapping with map, got uptrkv_store" },
		{ 8, 28, "size: expected an integer 1..4096, got a list" } } },
	{ "bad_keys_type.yaml", 1, { { 6, 3, "keys: expected a list of keys, got a mapping" } } },
	{ "bad_key_not_mapping.yaml", 1, { { 6, 5, "keys: expected a mapping with id, name, size" } } },
	{ "bad_missing_api.yaml", 1, { { 1, 1, "missing field 'apiVersion': expected uptrkv/v1" } } },
	{ "bad_missing_name.yaml", 1, { { 1, 1, "missing field 'name': expected the deployment name" } } },
	{ "bad_missing_version.yaml", 1, { { 1, 1, "missing field 'version': expected the layout version, an integer >= 1" } } },
	{ "bad_missing_object.yaml", 1, { { 1, 1, "missing field 'object'" } } },
	{ "bad_missing_keys.yaml", 1, { { 1, 1, "missing field 'keys'" } } },
	{ "bad_missing_key_fields.yaml", 3, {
		{ 6, 5, "key: missing field 'id': expected an integer 0..1023" },
		{ 6, 5, "key: missing field 'name'" },
		{ 6, 5, "key: missing field 'size': expected an integer 1..4096" } } },
	{ "bad_api_version.yaml", 1, { { 1, 13, "apiVersion: expected uptrkv/v1, got uptrkv/v2" } } },
	{ "bad_deploy_name.yaml", 1, { { 2, 7, "name: expected a deployment name of 1..32 characters a-z 0-9 _ -, got My.App" } } },
	{ "bad_version.yaml", 1, { { 3, 10, "version: expected an integer 1..4294967295, got 0" } } },
	{ "bad_key_name.yaml", 1, { { 6, 19, "name: expected a C identifier" } } },
	{ "bad_resize.yaml", 1, { { 6, 39, "resize: expected zero-extend, truncate or reset, got shrink" } } },
	{ "bad_programs.yaml", 2, {
		{ 5, 22, "programs: expected a C identifier" },
		{ 5, 28, "programs: duplicate program 'on_enter'" } } },
	{ "bad_attach.yaml", 4, {
		{ 8, 28, "programs.attach: expected xdp:IFNAME, cgroup:/PATH or uprobe:/BINARY:FUNCTION, got 'tc:eth0'" },
		{ 9, 5, "programs: missing field 'name': expected a program name" },
		{ 10, 26, "programs.attach: expected xdp:IFNAME, cgroup:/PATH or uprobe:/BINARY:FUNCTION, got a list" },
		{ 11, 18, "programs: unknown field 'atach': expected one of name, attach" } } },
	{ "bad_store_field.yaml", 1, { { 6, 3, "store: unknown field 'name': expected one of map" } } },
	{ "bad_alias.yaml", 2, {
		{ 6, 5, "anchors are not supported (&k)" },
		{ 7, 5, "aliases are not supported (*k)" } } },
	{ "bad_depth.yaml", 1, { { 5, 22, "nested deeper than 16 levels" } } },
	{ "bad_many.yaml", 5, {
		{ 4, 10, "version: expected an integer 1..4294967295, got 0" },
		{ 7, 10, "id: expected an integer 0..1023, got 2000" },
		{ 8, 28, "size: expected an integer 1..4096, got 9000" },
		{ 9, 28, "size: expected 4 for type u32, got 8" },
		{ 10, 31, "unknown field 'colour'" } } },
};

static void check_diags(const char *what, const struct uptrkv_diags *d, size_t nr,
			const struct want *w)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s: %d:%d: %s\n", what, d->v[i].line, d->v[i].col, d->v[i].msg);
	assert_int_equal(d->n, nr);
	for (size_t i = 0; i < nr; i++) {
		if (d->v[i].line != w[i].line || d->v[i].col != w[i].col ||
		    !strstr(d->v[i].msg, w[i].msg))
			fail_msg("%s: diag %zu: got %d:%d '%s', want %d:%d '%s'", what, i,
				 d->v[i].line, d->v[i].col, d->v[i].msg, w[i].line, w[i].col, w[i].msg);
	}
}

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct uptrkv_manifest *m = (void *)1;
		struct uptrkv_diags d = {};
		int err;

		err = load_fixture(c->file, &m, &d);
		assert_int_equal(err, -EINVAL);
		assert_null(m);
		check_diags(c->file, &d, c->nr, c->w);
		/* the file name is the path as given */
		for (size_t j = 0; j < d.n; j++) {
			size_t fl = strlen(d.v[j].file), cl = strlen(c->file);

			assert_true(fl >= cl && !strcmp(d.v[j].file + fl - cl, c->file));
		}
		uptrkv_diags__free(&d);
	}
}

/* Every bad_*.yaml in the folder has a case above: a new rule file
 * without assertions would prove nothing. */
static void test_every_bad_file_has_a_case(void **state)
{
	char cmd[PATH_MAX * 2], line[256];
	size_t nr_files = 0;
	FILE *p;

	(void)state;
	snprintf(cmd, sizeof(cmd), "ls '%s'", fixtures);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		bool found = false;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "bad_", 4))
			continue;
		nr_files++;
		for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
			found = found || !strcmp(bad_cases[i].file, line);
		if (!found)
			fail_msg("%s has no test case", line);
	}
	pclose(p);
	assert_int_equal(nr_files, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

/* ------------------------------------------------------------------ */
/* Good files                                                           */
/* ------------------------------------------------------------------ */

static void assert_def(const struct uptrkv_key *k, const __u8 *want, size_t n)
{
	assert_non_null(k->def);
	assert_memory_equal(k->def, want, n);
	for (size_t i = n; i < k->size; i++)
		assert_int_equal(k->def[i], 0);
}

static void test_good_full(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	const struct uptrkv_key *k;
	const char *suffix = "/tests/unit/manifests/obj/full.bpf.o";

	(void)state;
	assert_int_equal(load_fixture("good_full.yaml", &m, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(m->name, "full-test_1");
	assert_int_equal(m->version, 42);
	assert_true(m->object[0] == '/');
	assert_true(strlen(m->object) > strlen(suffix));
	assert_string_equal(m->object + strlen(m->object) - strlen(suffix), suffix);
	assert_int_equal(m->nr_programs, 2);
	assert_string_equal(m->programs[0], "on_enter");
	assert_string_equal(m->programs[1], "on_exit");
	assert_string_equal(m->store_map, "my_store");
	assert_int_equal(m->nr_keys, 14);
	assert_non_null(m->text);
	assert_true(strstr(m->text, "apiVersion: uptrkv/v1") != NULL);
	assert_int_equal(m->text_len, strlen(m->text));

	/* sorted by id */
	for (size_t i = 1; i < m->nr_keys; i++)
		assert_true(m->keys[i - 1].id < m->keys[i].id);
	assert_int_equal(m->keys[m->nr_keys - 1].id, 1023);
	assert_int_equal(m->layout_hash, uptrkv_layout_hash(m->keys, m->nr_keys));
	assert_int_not_equal(m->layout_hash, 0);

	k = uptrkv_manifest__key(m, 1023);
	assert_non_null(k);
	assert_string_equal(k->name, "last");
	assert_int_equal(k->type, UPTRKV_T_U8);
	assert_def(k, (__u8[]){ 0xff }, 1);
	assert_int_equal(k->line, 10);
	assert_int_equal(k->col, 5);

	k = uptrkv_manifest__key(m, 0);
	assert_int_equal(k->type, UPTRKV_T_U16);
	assert_true(k->has_default);
	assert_def(k, (__u8[]){ 0xef, 0xbe }, 2);
	assert_def(uptrkv_manifest__key(m, 1), (__u8[]){ 0xff, 0xff, 0xff, 0xff }, 4);
	assert_def(uptrkv_manifest__key(m, 2), (__u8[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8);
	assert_def(uptrkv_manifest__key(m, 3), (__u8[]){ 0x80 }, 1);
	assert_def(uptrkv_manifest__key(m, 4), (__u8[]){ 0xfe, 0xff }, 2);
	assert_def(uptrkv_manifest__key(m, 5), (__u8[]){ 0xff, 0xff, 0xff, 0xff }, 4);
	assert_def(uptrkv_manifest__key(m, 6), (__u8[]){ 0, 0, 0, 0, 0, 0, 0, 0x80 }, 8);
	k = uptrkv_manifest__key(m, 7);
	assert_int_equal(k->type, UPTRKV_T_BOOL);
	assert_def(k, (__u8[]){ 1 }, 1);
	k = uptrkv_manifest__key(m, 8);
	assert_int_equal(k->type, UPTRKV_T_STRING);
	assert_def(k, (const __u8 *)"seven..", 8);
	k = uptrkv_manifest__key(m, 9);
	assert_int_equal(k->type, UPTRKV_T_BYTES);
	assert_int_equal(k->size, 4096);
	assert_def(k, (__u8[]){ 1, 2, 0xff }, 3);

	k = uptrkv_manifest__key(m, 10);
	assert_int_equal(k->type, UPTRKV_T_BYTES);	/* the default type */
	assert_false(k->has_default);
	assert_def(k, (__u8[]){ 0 }, 1);		/* zero, but allocated */
	assert_int_equal(k->resize, UPTRKV_RESIZE_ZERO_EXTEND);
	assert_int_equal(uptrkv_manifest__key(m, 11)->resize, UPTRKV_RESIZE_TRUNCATE);
	k = uptrkv_manifest__key(m, 12);
	assert_int_equal(k->resize, UPTRKV_RESIZE_RESET);
	assert_def(k, (__u8[]){ 17, 0, 0, 0 }, 4);
	assert_null(uptrkv_manifest__key(m, 13));
	assert_null(uptrkv_manifest__key(m, 500));

	uptrkv_manifest__free(m);
	uptrkv_diags__free(&d);
}

static void test_good_minimal(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	(void)state;
	assert_int_equal(load_fixture("good_minimal.yaml", &m, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(m->object, "/abs/path/m.bpf.o");
	assert_null(m->programs);
	assert_int_equal(m->nr_programs, 0);
	assert_string_equal(m->store_map, "uptrkv_store");
	assert_int_equal(m->nr_keys, 0);
	assert_null(uptrkv_manifest__key(m, 0));
	uptrkv_manifest__free(m);
	uptrkv_diags__free(&d);
}

static void test_demo_manifests(void **state)
{
	static const struct { const char *file; __u32 version; size_t nr; } demos[] = {
		{ "demo_v1.yaml", 1, 8 }, { "demo_v2.yaml", 2, 9 }, { "demo_v3.yaml", 3, 10 },
	};
	char path[PATH_MAX * 2];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct uptrkv_manifest *m = NULL;
		struct uptrkv_diags d = {};
		const char *want;

		snprintf(path, sizeof(path), "%s/examples/demo/%s", top, demos[i].file);
		assert_int_equal(uptrkv_manifest__load(path, NULL, &m, &d), 0);
		assert_string_equal(m->name, "demo");
		assert_int_equal(m->version, demos[i].version);
		assert_int_equal(m->nr_keys, demos[i].nr);
		/* ../../build/bpf/demo_vN.bpf.o against examples/demo/, folded */
		want = strstr(m->object, "/build/bpf/demo_v");
		assert_non_null(want);
		assert_null(strstr(m->object, ".."));
		uptrkv_manifest__free(m);
		uptrkv_diags__free(&d);
	}
}

/* ------------------------------------------------------------------ */
/* From memory, paths, I/O                                              */
/* ------------------------------------------------------------------ */

#define HEAD "apiVersion: uptrkv/v1\nname: a\nversion: 1\nobject: a.o\n"

static void test_parse_memory(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	(void)state;
	assert_int_equal(parse_str(HEAD "keys: []\n", &m, &d), 0);
	assert_string_equal(m->object, "/base/a.o");
	assert_string_equal(m->path, "mem.yaml");
	uptrkv_manifest__free(m);

	/* no base_dir: the path is kept as written */
	assert_int_equal(uptrkv_manifest__parse(HEAD "keys: []\n", strlen(HEAD "keys: []\n"),
						NULL, &m, &d), 0);
	assert_string_equal(m->object, "a.o");
	assert_null(m->path);
	uptrkv_manifest__free(m);

	/* diagnostics name the display name and are appended */
	assert_int_equal(parse_str(HEAD "keys: 5\n", &m, &d), -EINVAL);
	assert_int_equal(parse_str("", &m, &d), -EINVAL);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].file, "mem.yaml");
	assert_int_equal(d.v[0].line, 5);
	assert_int_equal(d.v[0].col, 7);
	assert_int_equal(d.v[1].line, 1);
	uptrkv_diags__free(&d);
	assert_int_equal(d.n, 0);

	/* diags may be NULL: still refused */
	assert_int_equal(parse_str(HEAD "keys: 5\n", &m, NULL), -EINVAL);
	assert_null(m);
}

/* Options from a newer header: unknown fields set are refused, zero ones
 * and a shorter (older) struct are fine (UPTRKV_OPTS_VALID). */
static void test_opts_valid(void **state)
{
	const char *text = HEAD "keys: []\n";
	struct {
		struct uptrkv_manifest_opts o;
		char newer[16];
	} big = { .o = { .sz = sizeof(big) } };
	struct uptrkv_manifest *m = NULL;
	size_t old_sz = offsetof(struct uptrkv_manifest_opts, display_name);

	(void)state;
	assert_int_equal(uptrkv_manifest__parse(text, strlen(text), &big.o, &m, NULL), 0);
	uptrkv_manifest__free(m);
	big.newer[3] = 1;
	assert_int_equal(uptrkv_manifest__parse(text, strlen(text), &big.o, &m, NULL), -EINVAL);
	assert_int_equal(uptrkv_manifest__load("/nonexistent.yaml", &big.o, &m, NULL), -EINVAL);
	big.newer[3] = 0;
	big.o.sz = old_sz;
	big.o.display_name = "ignored: past the caller's sz";
	assert_int_equal(uptrkv_manifest__parse(text, strlen(text), &big.o, &m, NULL), 0);
	uptrkv_manifest__free(m);
	big.o.sz = 2;	/* not even sz itself */
	assert_int_equal(uptrkv_manifest__parse(text, strlen(text), &big.o, &m, NULL), -EINVAL);
}

static void test_program_attach(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	(void)state;
	assert_int_equal(parse_str(HEAD "programs:\n  - on_enter\n  - {name: on_xdp, attach: xdp:lo}\n"
				   "  - {name: on_cg, attach: 'cgroup:/sys/fs/cgroup/unified'}\n"
				   "  - {name: on_up, attach: 'uprobe:/lib/libc.so.6:sendto'}\nkeys: []\n",
				   &m, &d), 0);
	assert_int_equal(m->nr_programs, 4);
	assert_string_equal(m->attach[3], "uprobe:/lib/libc.so.6:sendto");
	assert_string_equal(m->programs[1], "on_xdp");
	assert_null(m->attach[0]);
	assert_string_equal(m->attach[1], "xdp:lo");
	assert_string_equal(m->attach[2], "cgroup:/sys/fs/cgroup/unified");
	uptrkv_manifest__free(m);
	uptrkv_diags__free(&d);
}

static void test_paths(void **state)
{
	UPTRKV_OPTS(uptrkv_manifest_opts, o, .base_dir = "/x/y/./z/");
	const char *t = "apiVersion: uptrkv/v1\nname: a\nversion: 1\nobject: ../../o/./p.o\nkeys: []\n";
	struct uptrkv_manifest *m = NULL;

	(void)state;
	assert_int_equal(uptrkv_manifest__parse(t, strlen(t), &o, &m, NULL), 0);
	assert_string_equal(m->object, "/x/o/p.o");
	uptrkv_manifest__free(m);
}

static void test_unreadable(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	(void)state;
	assert_int_equal(uptrkv_manifest__load("/nonexistent/x.yaml", NULL, &m, &d), -ENOENT);
	assert_null(m);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 0);
	assert_string_equal(d.v[0].file, "/nonexistent/x.yaml");
	assert_non_null(strstr(d.v[0].msg, "cannot read: No such file"));
	assert_int_equal(uptrkv_manifest__load(fixtures, NULL, &m, &d), -EISDIR);
	assert_int_equal(d.n, 2);
	uptrkv_diags__free(&d);
}

/* The scalar rules that need no file of their own. */
static void test_scalar_edges(void **state)
{
	static const struct { const char *key; const char *msg; } bad[] = {
		{ "{id: 0, name: s, size: 4, type: string, default: \"a\\0b\"}", "must not contain a NUL" },
		{ "{id: 0, name: s, size: 4, type: string, default: ~}", "expected text for string, got nothing (null)" },
		{ "{id: 0, name: s, size: 8, type: s64, default: 9223372036854775808}", "for s64" },
		{ "{id: 0, name: s, size: 8, type: u64, default: 0x1ffffffffffffffff}", "for u64" },
		{ "{id: 0, name: s, size: 1, type: u8, default: 0x100}", "0..255 for u8" },
		{ "{id: 0, name: s, size: 2, type: u16, default: 1.5}", "for u16, got 1.5" },
		{ "{id: 0, name: s, size: 2, type: u16, default: -0x1}", "for u16" },
		{ "{id: 0, name: s, size: 2, default: \"0x\"}", "pairs of hex digits" },
		{ "{id: 0, name: s, size: 2, default: \"0x123\"}", "pairs of hex digits" },
		{ "{id: 0, name: s, size: 2, default: [1]}", "got a list" },
		{ "{id: 0, name: s, size: 2, type: bool}", "expected 1 for type bool" },
		{ "{id: 0, name: s, size: 2, type: \"u16\"}", "type: expected one of" },
		{ "{id: 0, name: s, size: !!str 2}", "size: expected an integer 1..4096, got text \"2\"" },
		{ "{id: 0, name: a_name_that_is_far_too_long_to_be_a_key_name_in_any_store_at_all_really, size: 1}", "at most 63 characters" },
		{ "{id: 0, name: \"\", size: 1}", "name: expected a C identifier" },
		{ "{id: 0x10, name: ok, size: 0x10, default: \"0x00\"}", NULL },
		{ "{id: +3, name: ok, size: 1, type: s8, default: 0xff}", NULL },
		{ "{id: 0, name: ok, size: 1, type: bool, default: FALSE}", NULL },
		{ "{id: 0, name: ok, size: 4, type: string, default: 123}", NULL },
		{ "{id: 0, name: ok, size: 4, type: string, default: \"\"}", NULL },
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uptrkv_manifest *m = NULL;
		struct uptrkv_diags d = {};
		int err;

		snprintf(text, sizeof(text), HEAD "keys:\n  - %s\n", bad[i].key);
		err = parse_str(text, &m, &d);
		if (!bad[i].msg) {
			if (err)
				fail_msg("'%s' refused: %s", bad[i].key, d.n ? d.v[0].msg : "?");
			uptrkv_manifest__free(m);
			continue;
		}
		if (err != -EINVAL || d.n != 1 || !strstr(d.v[0].msg, bad[i].msg))
			fail_msg("'%s': err %d, %zu diags, first '%s', want '%s'", bad[i].key, err,
				 d.n, d.n ? d.v[0].msg : "", bad[i].msg);
		assert_int_equal(d.v[0].line, 6);
		assert_true(d.v[0].col > 4);
		uptrkv_diags__free(&d);
	}
}

/* ------------------------------------------------------------------ */
/* Limits                                                               */
/* ------------------------------------------------------------------ */

static void test_huge_file(void **state)
{
	size_t len = UPTRKV_MANIFEST_MAX_BYTES + 1;
	char *t = malloc(len + 1), path[] = "/tmp/uptrkv_huge_XXXXXX";
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	int fd;

	(void)state;
	assert_non_null(t);
	memset(t, '#', len);
	t[len] = '\0';
	assert_int_equal(uptrkv_manifest__parse(t, len, NULL, &m, &d), -EFBIG);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "expected at most 1048576"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, t, len), (ssize_t)len);
	close(fd);
	assert_int_equal(uptrkv_manifest__load(path, NULL, &m, &d), -EFBIG);
	assert_int_equal(d.n, 2);
	unlink(path);
	free(t);
	uptrkv_diags__free(&d);
}

/* Appends to a growing buffer; the tests build big inputs. */
static void cat(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	*buf = realloc(*buf, *len + n + 1);
	assert_non_null(*buf);
	va_start(ap, fmt);
	vsnprintf(*buf + *len, n + 1, fmt, ap);
	va_end(ap);
	*len += n;
}

static void test_too_many_keys(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	char *t = NULL;
	size_t len = 0;

	(void)state;
	cat(&t, &len, HEAD "keys:\n");
	for (int i = 0; i < 1024; i++)
		cat(&t, &len, "  - {id: %d, name: k%d, size: 8}\n", i, i);
	/* 1024 keys is the most there can be, and fine */
	assert_int_equal(parse_str(t, &m, &d), 0);
	assert_int_equal(m->nr_keys, 1024);
	assert_int_equal(m->keys[1023].id, 1023);
	uptrkv_manifest__free(m);
	cat(&t, &len, "  - {id: 5, name: extra, size: 8}\n");
	assert_int_equal(parse_str(t, &m, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 6 + 1024);
	assert_int_equal(d.v[0].col, 5);
	assert_non_null(strstr(d.v[0].msg, "expected at most 1024 keys, got 1025"));
	free(t);
	uptrkv_diags__free(&d);
}

static void test_too_many_nodes(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	char *t = NULL;
	size_t len = 0;

	(void)state;
	cat(&t, &len, HEAD "keys: []\nprograms: [");
	for (int i = 0; i < UPTRKV_MANIFEST_MAX_NODES; i++)
		cat(&t, &len, "p,");
	cat(&t, &len, "p]\n");
	assert_true(len < UPTRKV_MANIFEST_MAX_BYTES);
	assert_int_equal(parse_str(t, &m, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 6);
	assert_non_null(strstr(d.v[0].msg, "too many YAML nodes"));
	free(t);
	uptrkv_diags__free(&d);
}

/* The "billion laughs": refused at the first anchor, never expanded. */
static void test_alias_bomb(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	char *t = NULL;
	size_t len = 0;

	(void)state;
	cat(&t, &len, HEAD "keys: []\nstore:\n  map: x\nx0: &a0 [lol, lol]\n");
	for (int i = 1; i < 30; i++)
		cat(&t, &len, "x%d: &a%d [*a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1, i - 1, i - 1, i - 1);
	assert_int_equal(parse_str(t, &m, &d), -EINVAL);
	assert_true(d.n >= 1);
	assert_int_equal(d.v[0].line, 8);
	assert_non_null(strstr(d.v[0].msg, "anchors are not supported"));
	/* capped: not one line per alias */
	assert_true(d.n <= UPTRKV_MANIFEST_MAX_DIAGS + 1);
	free(t);
	uptrkv_diags__free(&d);
}

static void test_error_cap(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	char *t = NULL;
	size_t len = 0;

	(void)state;
	cat(&t, &len, HEAD "keys:\n");
	for (int i = 0; i < 300; i++)
		cat(&t, &len, "  - {id: %d, name: k%d, size: 0}\n", i, i);
	assert_int_equal(parse_str(t, &m, &d), -EINVAL);
	assert_int_equal(d.n, UPTRKV_MANIFEST_MAX_DIAGS + 1);
	assert_int_equal(d.v[0].line, 6);
	assert_int_equal(d.v[99].line, 105);
	assert_non_null(strstr(d.v[UPTRKV_MANIFEST_MAX_DIAGS].msg, "too many errors"));
	free(t);
	uptrkv_diags__free(&d);
}

/* ------------------------------------------------------------------ */
/* Types and the layout hash                                            */
/* ------------------------------------------------------------------ */

static void test_types(void **state)
{
	static const char *const names[] = { "bytes", "u8", "u16", "u32", "u64", "s8", "s16",
					     "s32", "s64", "bool", "string" };
	static const __u32 widths[] = { 0, 1, 2, 4, 8, 1, 2, 4, 8, 1, 0 };

	(void)state;
	for (int t = 0; t < __UPTRKV_T_MAX; t++) {
		assert_string_equal(uptrkv_type__str(t), names[t]);
		assert_int_equal(uptrkv_type__width(t), widths[t]);
		assert_int_equal(uptrkv_type__is_signed(t), t >= UPTRKV_T_S8 && t <= UPTRKV_T_S64);
	}
	assert_string_equal(uptrkv_type__str(__UPTRKV_T_MAX), "unknown");
	assert_string_equal(uptrkv_resize__str(UPTRKV_RESIZE_TRUNCATE), "truncate");
	assert_string_equal(uptrkv_resize__str(UPTRKV_RESIZE_ZERO_EXTEND), "zero-extend");
	assert_string_equal(uptrkv_resize__str(UPTRKV_RESIZE_RESET), "reset");
}

/* An independent FNV-1a over the documented byte stream. */
static __u32 ref_hash(const __u32 *words, size_t n)
{
	__u32 h = 0x811c9dc5u;
	const __u8 *b = (const __u8 *)words;	/* x86 and arm64: little endian */

	for (size_t i = 0; i < n * 4; i++) {
		h ^= b[i];
		h *= 0x01000193u;
	}
	return h ? h : 1;
}

static void test_layout_hash(void **state)
{
	struct uptrkv_key k[2] = {
		{ .id = 0, .size = 8, .type = UPTRKV_T_U64 },
		{ .id = 9, .size = 4, .type = UPTRKV_T_U32 },
	};
	const __u32 words[] = { 0, 8, UPTRKV_T_U64, 9, 4, UPTRKV_T_U32 };
	__u32 h;

	(void)state;
	assert_int_equal(uptrkv_layout_hash(NULL, 0), 0x811c9dc5u);
	h = uptrkv_layout_hash(k, 2);
	assert_int_equal(h, ref_hash(words, 6));
	/* names and defaults do not matter; size and type do */
	strcpy(k[0].name, "renamed");
	assert_int_equal(uptrkv_layout_hash(k, 2), h);
	k[1].size = 8;
	assert_int_not_equal(uptrkv_layout_hash(k, 2), h);
	k[1].size = 4;
	k[1].type = UPTRKV_T_S32;
	assert_int_not_equal(uptrkv_layout_hash(k, 2), h);
}

/* ------------------------------------------------------------------ */
/* globals:, maps:, config:                                             */
/* ------------------------------------------------------------------ */

struct section_case {
	const char *yaml;		/* after the keys */
	int line, col;			/* of the first diagnostic; 0: valid */
	const char *msg;
};

static void test_carry_sections(void **state)
{
	static const struct section_case cases[] = {
		{ "globals: reset\n", 0, 0, NULL },
		{ "globals: {hits: reset, b_2: reset}\n", 0, 0, NULL },
		{ "maps: {m1: reset, m2: copy}\n", 0, 0, NULL },
		{ "config: {pid: 12, name: \"x\", on: true, neg: -3}\n", 0, 0, NULL },
		{ "globals: keep\n", 6, 10, "globals: expected reset, or a mapping of NAME: reset, got keep" },
		{ "globals: [hits]\n", 6, 10, "globals: expected reset, or a mapping of NAME: reset, got a list" },
		{ "globals: {hits: copy}\n", 6, 17, "globals.hits: expected reset, got copy" },
		{ "globals: {hits: reset, hits: reset}\n", 6, 24, "globals: duplicate name 'hits' (first at line 6)" },
		{ "globals: {\"9x\": reset}\n", 6, 11, "globals: expected a C identifier" },
		{ "globals: {hits: ~}\n", 6, 17, "globals.hits: expected reset, got nothing (null)" },
		{ "maps: {m1: grow}\n", 6, 12, "maps.m1: expected reset or copy, got grow" },
		{ "maps: {m1: {a: 1}}\n", 6, 12, "maps.m1: expected reset or copy, got a mapping" },
		{ "maps: reset\n", 6, 7, "maps: expected a mapping of NAME: reset or copy, got reset" },
		{ "config: [1]\n", 6, 9, "config: expected a mapping of NAME: VALUE, got a list" },
		{ "config: {uptrkv_slot: 1}\n", 6, 10, "config.uptrkv_slot: names starting with uptrkv_ are set by uptrkv" },
		{ "config: {x: [1]}\n", 6, 13, "config.x: expected a number, true/false or a string, got a list" },
		{ "config: {x: ~}\n", 6, 13, "config.x: expected a number, true/false or a string, got nothing (null)" },
		{ "config: {x: 1, x: 2}\n", 6, 16, "config: duplicate name 'x' (first at line 6)" },
		{ "config: {\"a b\": 1}\n", 6, 10, "config: expected a C identifier" },
		{ "globals: {hits: reset}\nglobals: reset\n", 7, 1, "duplicate field 'globals'" },
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct section_case *c = &cases[i];
		struct uptrkv_manifest *m = NULL;
		struct uptrkv_diags d = {};
		int err;

		snprintf(text, sizeof(text), HEAD "keys: []\n%s", c->yaml);
		err = parse_str(text, &m, &d);
		if (!c->msg) {
			if (err)
				fail_msg("'%s' refused: %s", c->yaml, d.n ? d.v[0].msg : "?");
			uptrkv_manifest__free(m);
			uptrkv_diags__free(&d);
			continue;
		}
		if (err != -EINVAL || !d.n || !strstr(d.v[0].msg, c->msg) || d.v[0].line != c->line ||
		    d.v[0].col != c->col)
			fail_msg("'%s': err %d, %zu diags, first %d:%d '%s', want %d:%d '%s'", c->yaml,
				 err, d.n, d.n ? d.v[0].line : 0, d.n ? d.v[0].col : 0,
				 d.n ? d.v[0].msg : "", c->line, c->col, c->msg);
		uptrkv_diags__free(&d);
	}
}

static void test_carry_sections_parsed(void **state)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	(void)state;
	assert_int_equal(parse_str(HEAD "keys: []\nglobals: {hits: reset}\nmaps: {m: copy, n: reset}\n"
				   "config: {pid: 0x10, s: \"t\"}\n", &m, &d), 0);
	assert_false(m->globals_reset_all);
	assert_int_equal(m->nr_globals, 1);
	assert_string_equal(m->globals[0].name, "hits");
	assert_int_equal(m->globals[0].policy, UPTRKV_CARRY_RESET);
	assert_int_equal(m->nr_maps, 2);
	assert_int_equal(m->maps[0].policy, UPTRKV_CARRY_COPY);
	assert_int_equal(m->maps[1].policy, UPTRKV_CARRY_RESET);
	assert_int_equal(m->nr_config, 2);
	assert_string_equal(m->config[0].value, "0x10");
	assert_true(m->config[0].plain);
	assert_false(m->config[1].plain);
	assert_int_equal(m->config[1].line, 8);
	assert_int_equal(m->config[1].col, 24);
	uptrkv_manifest__free(m);
	uptrkv_diags__free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_every_bad_file_has_a_case),
		cmocka_unit_test(test_good_full),
		cmocka_unit_test(test_good_minimal),
		cmocka_unit_test(test_demo_manifests),
		cmocka_unit_test(test_parse_memory),
		cmocka_unit_test(test_opts_valid),
		cmocka_unit_test(test_program_attach),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_scalar_edges),
		cmocka_unit_test(test_huge_file),
		cmocka_unit_test(test_too_many_keys),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_layout_hash),
		cmocka_unit_test(test_carry_sections),
		cmocka_unit_test(test_carry_sections_parsed),
	};

	if (ut_find_top("tests/unit/manifests/good_full.yaml", top) ||
	    snprintf(fixtures, sizeof(fixtures), "%s/tests/unit/manifests", top) < 0) {
		fprintf(stderr, "tests/unit/manifests not found\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
