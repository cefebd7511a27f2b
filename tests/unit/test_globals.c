// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Globals and shared maps in the plan (lib/globals.c): variables read from
 * a BTF DATASEC (built here with libbpf's BTF writer, hostile ones too),
 * and every change kind of a global and of a map, with what the manifest's
 * globals: and maps: allow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "uptrkv.h"
#include "globals.h"

/* A BTF with .bss { u64 hits; s32 neg; char name[16]; u64 uptrkv__btf_x; } */
static struct btf *make_btf(int *sec_id)
{
	struct btf *b = btf__new_empty();
	int u64 = btf__add_int(b, "unsigned long long", 8, 0);
	int s32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	int arr = btf__add_array(b, s32, chr, 16);
	int td = btf__add_typedef(b, "__u64", u64);
	int v1 = btf__add_var(b, "hits", BTF_VAR_GLOBAL_ALLOCATED, td);
	int v2 = btf__add_var(b, "neg", BTF_VAR_GLOBAL_ALLOCATED, s32);
	int v3 = btf__add_var(b, "name", BTF_VAR_GLOBAL_ALLOCATED, arr);
	int v4 = btf__add_var(b, "uptrkv__btf_x", BTF_VAR_GLOBAL_ALLOCATED, u64);

	*sec_id = btf__add_datasec(b, ".bss", 40);
	btf__add_datasec_var_info(b, v1, 0, 8);
	btf__add_datasec_var_info(b, v2, 8, 4);
	btf__add_datasec_var_info(b, v3, 12, 16);
	btf__add_datasec_var_info(b, v4, 32, 8);
	return b;
}

static void test_datasec(void **state)
{
	struct uptrkv_objstate st = {};
	struct btf *b;
	int id;

	(void)state;
	b = make_btf(&id);
	assert_int_equal(uptrkv_globals__add_datasec(b, id, UPTRKV_GSEC_BSS, &st, NULL), 0);
	/* uptrkv's own BTF anchors are not state */
	assert_int_equal(st.nr_globals, 3);
	assert_string_equal(st.globals[0].name, "hits");
	/* typedefs resolved: __u64 and unsigned long long are one type */
	assert_string_equal(st.globals[0].type, "unsigned long long");
	assert_int_equal(st.globals[0].itype, UPTRKV_T_U64);
	assert_int_equal(st.globals[1].itype, UPTRKV_T_S32);
	assert_int_equal(st.globals[1].offset, 8);
	assert_string_equal(st.globals[2].type, "char[16]");
	assert_int_equal(st.globals[2].itype, UPTRKV_T_BYTES);
	assert_true(st.has_sec[UPTRKV_GSEC_BSS]);
	assert_int_equal(st.sec_size[UPTRKV_GSEC_BSS], 40);
	assert_int_equal(uptrkv_gsec__of(".data"), UPTRKV_GSEC_DATA);
	assert_int_equal(uptrkv_gsec__of(".rodata"), -1);
	uptrkv_objstate__free(&st);
	btf__free(b);
}

/* A DATASEC id that is no DATASEC, and a typedef that names itself. */
static void test_hostile_btf(void **state)
{
	struct uptrkv_objstate st = {};
	struct btf *b = btf__new_empty();
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int self = btf__type_cnt(b);
	int td = btf__add_typedef(b, "loop", self);
	int v = btf__add_var(b, "x", BTF_VAR_GLOBAL_ALLOCATED, td);
	int sec = btf__add_datasec(b, ".data", 4);

	(void)state;
	assert_int_equal(td, self);
	btf__add_datasec_var_info(b, v, 0, 4);
	assert_int_equal(uptrkv_globals__add_datasec(b, u32, UPTRKV_GSEC_DATA, &st, NULL), -EINVAL);
	assert_int_equal(uptrkv_globals__add_datasec(b, 9999, UPTRKV_GSEC_DATA, &st, NULL), -EINVAL);
	assert_int_equal(uptrkv_globals__add_datasec(b, sec, UPTRKV_GSEC_DATA, &st, NULL), 0);
	assert_int_equal(st.nr_globals, 1);
	assert_int_equal(st.globals[0].itype, UPTRKV_T_BYTES);
	uptrkv_objstate__free(&st);
	btf__free(b);
}

/* ---- the plan ---- */

static struct uptrkv_global G(const char *name, const char *type, __u32 off, __u32 size,
			      enum uptrkv_type it)
{
	struct uptrkv_global g = { .sec = UPTRKV_GSEC_BSS, .offset = off, .size = size, .itype = it };

	snprintf(g.name, sizeof(g.name), "%s", name);
	snprintf(g.type, sizeof(g.type), "%s", type);
	return g;
}

static struct uptrkv_map_def M(const char *name, __u32 type, __u32 ks, __u32 vs)
{
	struct uptrkv_map_def d = { .type = type, .key_size = ks, .value_size = vs, .max_entries = 64 };

	snprintf(d.name, sizeof(d.name), "%s", name);
	return d;
}

static struct uptrkv_plan *plan(struct uptrkv_global *og, size_t no, struct uptrkv_global *ng,
				size_t nn, struct uptrkv_map_def *om, size_t nom,
				struct uptrkv_map_def *nm, size_t nnm, const struct uptrkv_manifest *m)
{
	struct uptrkv_objstate o = { .globals = og, .nr_globals = no, .maps = om, .nr_maps = nom };
	struct uptrkv_objstate n = { .globals = ng, .nr_globals = nn, .maps = nm, .nr_maps = nnm };
	struct uptrkv_plan *p = calloc(1, sizeof(*p));

	o.has_sec[0] = n.has_sec[0] = true;
	o.sec_size[0] = no ? og[no - 1].offset + og[no - 1].size : 0;
	n.sec_size[0] = nn ? ng[nn - 1].offset + ng[nn - 1].size : 0;
	p->compatible = true;
	assert_int_equal(uptrkv_plan__add_objstate(p, &o, &n, m, NULL), 0);
	return p;
}

static const struct uptrkv_gplan_entry *gfind(const struct uptrkv_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nr_globals; i++)
		if (!strcmp((p->globals[i].has_new ? &p->globals[i].new : &p->globals[i].old)->name, name))
			return &p->globals[i];
	fail_msg("no global %s", name);
	return NULL;
}

static void test_plan_globals(void **state)
{
	struct uptrkv_global o[] = {
		G("same", "unsigned long long", 0, 8, UPTRKV_T_U64),
		G("widen", "unsigned int", 8, 4, UPTRKV_T_U32),
		G("narrow", "unsigned long long", 16, 8, UPTRKV_T_U64),
		G("gone", "int", 24, 4, UPTRKV_T_S32),
		G("blob", "char[8]", 28, 8, UPTRKV_T_BYTES),
	};
	struct uptrkv_global n[] = {
		G("same", "unsigned long long", 0, 8, UPTRKV_T_U64),
		G("widen", "unsigned long long", 8, 8, UPTRKV_T_U64),
		G("narrow", "unsigned int", 16, 4, UPTRKV_T_U32),
		G("blob", "char[16]", 20, 16, UPTRKV_T_BYTES),
		G("new", "int", 36, 4, UPTRKV_T_S32),
	};
	struct uptrkv_named_policy reset_narrow = { .name = "narrow", .policy = UPTRKV_CARRY_RESET };
	struct uptrkv_manifest m = { .globals = &reset_narrow, .nr_globals = 1 };
	struct uptrkv_plan *p;

	(void)state;
	p = plan(o, 5, n, 5, NULL, 0, NULL, 0, NULL);
	assert_int_equal(gfind(p, "same")->change, UPTRKV_CH_UNCHANGED);
	assert_int_equal(gfind(p, "same")->action, UPTRKV_GACT_COPY);
	assert_int_equal(gfind(p, "widen")->change, UPTRKV_CH_RETYPED);
	assert_int_equal(gfind(p, "widen")->action, UPTRKV_GACT_CONVERT);
	assert_false(gfind(p, "widen")->refused);
	assert_true(gfind(p, "narrow")->refused);
	assert_non_null(strstr(gfind(p, "narrow")->why, "needs globals: {narrow: reset}"));
	assert_true(gfind(p, "blob")->refused);	/* char[8] -> char[16]: not an integer */
	assert_int_equal(gfind(p, "blob")->change, UPTRKV_CH_RETYPED);
	assert_int_equal(gfind(p, "gone")->change, UPTRKV_CH_REMOVED);
	assert_int_equal(gfind(p, "new")->change, UPTRKV_CH_ADDED);
	assert_int_equal(gfind(p, "new")->action, UPTRKV_GACT_INIT);
	assert_false(p->sec_shared[UPTRKV_GSEC_BSS]);
	assert_int_equal(p->nr_refused, 2);
	assert_false(p->compatible);
	assert_int_equal(p->nr_global_changes, 5);
	uptrkv_plan__free(p);

	/* globals: {narrow: reset} allows that one; blob still refused */
	p = plan(o, 5, n, 5, NULL, 0, NULL, 0, &m);
	assert_false(gfind(p, "narrow")->refused);
	assert_int_equal(gfind(p, "narrow")->action, UPTRKV_GACT_INIT);
	assert_int_equal(p->nr_refused, 1);
	uptrkv_plan__free(p);

	/* globals: reset allows everything, and shares nothing */
	m.globals_reset_all = true;
	p = plan(o, 5, n, 5, NULL, 0, NULL, 0, &m);
	assert_true(p->compatible);
	assert_int_equal(gfind(p, "same")->action, UPTRKV_GACT_INIT);
	uptrkv_plan__free(p);
}

static void test_plan_shared_section(void **state)
{
	struct uptrkv_global o[] = { G("a", "int", 0, 4, UPTRKV_T_S32), G("b", "int", 4, 4, UPTRKV_T_S32) };
	struct uptrkv_global moved[] = { G("b", "int", 0, 4, UPTRKV_T_S32), G("a", "int", 4, 4, UPTRKV_T_S32) };
	struct uptrkv_plan *p;

	(void)state;
	p = plan(o, 2, o, 2, NULL, 0, NULL, 0, NULL);
	assert_true(p->sec_shared[UPTRKV_GSEC_BSS]);
	assert_int_equal(gfind(p, "a")->action, UPTRKV_GACT_SHARE);
	assert_int_equal(p->nr_global_changes, 0);
	uptrkv_plan__free(p);
	/* the same variables at other offsets: copied by name, not shared */
	p = plan(o, 2, moved, 2, NULL, 0, NULL, 0, NULL);
	assert_false(p->sec_shared[UPTRKV_GSEC_BSS]);
	assert_int_equal(gfind(p, "a")->action, UPTRKV_GACT_COPY);
	assert_true(p->compatible);
	uptrkv_plan__free(p);
	/* one variable fewer: not shared */
	p = plan(o, 2, o, 1, NULL, 0, NULL, 0, NULL);
	assert_false(p->sec_shared[UPTRKV_GSEC_BSS]);
	uptrkv_plan__free(p);
}

static const struct uptrkv_mplan_entry *mfind(const struct uptrkv_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nr_maps; i++)
		if (!strcmp((p->maps[i].has_new ? &p->maps[i].new : &p->maps[i].old)->name, name))
			return &p->maps[i];
	fail_msg("no map %s", name);
	return NULL;
}

static void test_plan_maps(void **state)
{
	struct uptrkv_map_def o[] = {
		M("same", BPF_MAP_TYPE_HASH, 4, 8), M("grow", BPF_MAP_TYPE_HASH, 4, 8),
		M("shrink", BPF_MAP_TYPE_ARRAY, 4, 16), M("gone", BPF_MAP_TYPE_HASH, 4, 4),
		M("rekey", BPF_MAP_TYPE_HASH, 4, 8), M("ring", BPF_MAP_TYPE_RINGBUF, 0, 0),
	};
	struct uptrkv_map_def n[] = {
		M("same", BPF_MAP_TYPE_HASH, 4, 8), M("grow", BPF_MAP_TYPE_HASH, 4, 16),
		M("shrink", BPF_MAP_TYPE_ARRAY, 4, 8), M("rekey", BPF_MAP_TYPE_HASH, 8, 8),
		M("ring", BPF_MAP_TYPE_RINGBUF, 0, 0), M("new", BPF_MAP_TYPE_ARRAY, 4, 4),
	};
	struct uptrkv_named_policy pol[] = {
		{ .name = "grow", .policy = UPTRKV_CARRY_COPY },
		{ .name = "shrink", .policy = UPTRKV_CARRY_COPY },
		{ .name = "rekey", .policy = UPTRKV_CARRY_RESET },
	};
	struct uptrkv_manifest m = { .maps = pol, .nr_maps = 3 };
	struct uptrkv_plan *p;

	(void)state;
	n[4].max_entries = 4096;	/* ring: max_entries changes */
	p = plan(NULL, 0, NULL, 0, o, 6, n, 6, NULL);
	assert_int_equal(mfind(p, "same")->change, UPTRKV_MAP_UNCHANGED);
	assert_int_equal(mfind(p, "same")->action, UPTRKV_MACT_SHARE);
	assert_true(mfind(p, "grow")->refused);
	assert_non_null(strstr(mfind(p, "grow")->why, "map grow changes: deployed: hash key 4 value 8 "
				"max_entries 64 flags 0x0; new: hash key 4 value 16 max_entries 64 flags 0x0"));
	assert_true(mfind(p, "ring")->refused);
	assert_int_equal(mfind(p, "gone")->change, UPTRKV_MAP_REMOVED);
	assert_int_equal(mfind(p, "gone")->action, UPTRKV_MACT_KEEP);
	assert_int_equal(mfind(p, "new")->action, UPTRKV_MACT_CREATE);
	assert_int_equal(p->nr_refused, 4);
	uptrkv_plan__free(p);

	p = plan(NULL, 0, NULL, 0, o, 6, n, 6, &m);
	assert_int_equal(mfind(p, "grow")->action, UPTRKV_MACT_COPY);
	assert_false(mfind(p, "grow")->refused);
	/* copy needs a value that only grew */
	assert_true(mfind(p, "shrink")->refused);
	assert_non_null(strstr(mfind(p, "shrink")->why, "maps: {shrink: copy} needs"));
	assert_int_equal(mfind(p, "rekey")->action, UPTRKV_MACT_RESET);
	assert_false(mfind(p, "rekey")->refused);
	assert_int_equal(p->nr_refused, 2);	/* shrink, ring */
	uptrkv_plan__free(p);
}

/* A first deploy: everything is added. */
static void test_plan_first(void **state)
{
	struct uptrkv_global n[] = { G("a", "int", 0, 4, UPTRKV_T_S32) };
	struct uptrkv_objstate ns = { .globals = n, .nr_globals = 1 };
	struct uptrkv_plan p = { .compatible = true };

	(void)state;
	assert_int_equal(uptrkv_plan__add_objstate(&p, NULL, &ns, NULL, NULL), 0);
	assert_int_equal(p.nr_globals, 1);
	assert_int_equal(p.globals[0].change, UPTRKV_CH_ADDED);
	assert_true(p.compatible);
	free(p.globals);
	free(p.maps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datasec),
		cmocka_unit_test(test_hostile_btf),
		cmocka_unit_test(test_plan_globals),
		cmocka_unit_test(test_plan_shared_section),
		cmocka_unit_test(test_plan_maps),
		cmocka_unit_test(test_plan_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
