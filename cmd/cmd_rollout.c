// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uptrkv rollout | rollback | undeploy */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* SIGINT/SIGTERM ask the library to stop at the next safe point: before
 * the switch it undoes everything, after it it finishes. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Test-only hooks at the UPTRKV_TP_* points of a rollout:
 *   UPTRKV_TEST_KILL_AT=<point>   kill -9 ourselves there, like a crash;
 *   UPTRKV_TEST_PAUSE_AT=<point>  print "paused at <point>" on stderr and
 *                                 sleep 2 s there, so a test can send a signal;
 *   UPTRKV_TEST_FAIL_AT=<point>   make that step fail with -EIO.
 */
static int test_hook(void *ctx, const char *point)
{
	const char *kill_at = getenv("UPTRKV_TEST_KILL_AT");
	const char *pause_at = getenv("UPTRKV_TEST_PAUSE_AT");
	const char *fail_at = getenv("UPTRKV_TEST_FAIL_AT");

	(void)ctx;
	p_debug("reached %s", point);
	if (pause_at && !strcmp(pause_at, point)) {
		fprintf(stderr, "uptrkv: test: paused at %s\n", point);
		sleep(2);
	}
	if (kill_at && !strcmp(kill_at, point)) {
		fprintf(stderr, "uptrkv: test: killed at %s\n", point);
		raise(SIGKILL);
	}
	return fail_at && !strcmp(fail_at, point) ? -EIO : 0;
}

static void init_opts(struct uptrkv_rollout_opts *o, bool dry_run, bool allow_unbound)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	global_rollout_opts(o);
	o->dry_run = dry_run;
	o->allow_unbound_object = allow_unbound;
	o->cancel = &interrupted;
	o->test_hook = test_hook;
	catch_signals();
}

/* Mounts bpffs if missing (not for a dry run: that changes nothing). */
static int prepare_bpffs(bool dry_run)
{
	struct uptrkv_error e = {};
	bool mounted = false;
	int err;

	err = uptrkv_bpffs__prepare(env.bpffs, !dry_run, &mounted, &e);
	if (err && dry_run)
		return 0;
	if (err) {
		p_lib_err(&e);
		return err;
	}
	if (mounted)
		p_info("mounted bpffs at %s", env.bpffs);
	return 0;
}

static const char *outcome(const struct uptrkv_rollout_result *r, const char *verb)
{
	if (r->nothing_to_do)
		return "nothing to do";
	if (r->dry_run)
		return "dry run";
	if (r->first_deploy)
		return "deployed";
	return verb;
}

/* The object a result is about: the manifest's, or rollback's target's. */
static const char *result_object(const struct uptrkv_rollout_result *r, const char *object)
{
	if (object)
		return object;
	return r->prev_manifest ? r->prev_manifest->object : NULL;
}

static void print_result_json(const struct uptrkv_rollout_result *r, const char *verb,
			      const char *object)
{
	struct jw *w = json_begin();
	char warn[1024];

	jw_start_object(w);
	jw_string_field(w, "name", r->name);
	jw_string_field(w, "result", outcome(r, verb));
	jw_uint_field(w, "from_version", r->from_version);
	jw_uint_field(w, "to_version", r->to_version);
	jw_uint_field(w, "generation", r->gen);
	jw_bool_field(w, "first_deploy", r->first_deploy);
	jw_bool_field(w, "dry_run", r->dry_run);
	jw_bool_field(w, "recovered", r->recovered);
	jw_uint_field(w, "stores", r->nr_stores);
	jw_uint_field(w, "migrated", r->nr_migrated);
	jw_uint_field(w, "threads_gone", r->nr_gone);
	jw_uint_field(w, "skipped_count", r->nr_skipped);
	jw_name(w, "skipped");
	jw_start_array(w);
	for (size_t i = 0; i < r->nr_skipped && i < UPTRKV_SKIPPED_MAX; i++) {
		jw_start_object(w);
		jw_uint_field(w, "pid", r->skipped[i].pid);
		jw_uint_field(w, "tid", r->skipped[i].tid);
		jw_string_field(w, "why", r->skipped[i].why);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_uint_field(w, "moved", r->nr_moved);
	jw_uint_field(w, "move_pending", r->nr_move_pending);
	jw_uint_field(w, "globals_copied", r->nr_globals_copied);
	jw_uint_field(w, "globals_caught_up", r->nr_globals_caught_up);
	jw_uint_field(w, "map_entries_copied", r->nr_map_entries_copied);
	jw_name(w, "carry_error");
	jw_string(w, r->carry_err ? r->carry_msg : NULL);
	if (r->binding.checked)
		binding_json(w, object, &r->binding);
	binding_warnings(&r->binding, object, warn, sizeof(warn));
	jw_name(w, "warnings");
	jw_start_array(w);
	if (warn[0])
		jw_string(w, warn);
	jw_end_array(w);
	jw_name(w, "revision");
	if (r->revision)
		jw_uint(w, r->revision);
	else
		jw_null(w);
	jw_bool_field(w, "from_history", r->from_history);
	jw_name(w, "history_error");
	jw_string(w, r->history_err ? r->history_msg : NULL);
	if (r->plan) {
		jw_name(w, "plan");
		jw_start_object(w);
		plan_json_fields(w, r->plan);
		jw_end_object(w);
	}
	jw_name(w, "timing_ms");
	jw_start_object(w);
	jw_uint_field(w, "preflight", (uint64_t)(r->ms_preflight + 0.5));
	jw_uint_field(w, "migrate", (uint64_t)(r->ms_migrate + 0.5));
	jw_uint_field(w, "switch", (uint64_t)(r->ms_switch + 0.5));
	jw_uint_field(w, "reclaim", (uint64_t)(r->ms_reclaim + 0.5));
	jw_uint_field(w, "total", (uint64_t)(r->ms_total + 0.5));
	jw_end_object(w);
	jw_end_object(w);
}

/* --skip-corrupt: who was left out, and what that means for them. */
static void print_skipped(const struct uptrkv_rollout_result *r)
{
	if (!r->nr_skipped)
		return;
	printf("  %s %zu thread(s) whose store cannot be migrated (--skip-corrupt):\n",
	       r->dry_run ? "would leave out" : "left out", r->nr_skipped);
	for (size_t i = 0; i < r->nr_skipped && i < UPTRKV_SKIPPED_MAX; i++)
		printf("    pid %u tid %u: %s\n", r->skipped[i].pid, r->skipped[i].tid, r->skipped[i].why);
	if (r->nr_skipped > UPTRKV_SKIPPED_MAX)
		printf("    ... and %zu more\n", r->nr_skipped - UPTRKV_SKIPPED_MAX);
	printf("  they keep the old layout: the new version's programs see no store for them, and "
	       "their application calls return -ESTALE until the thread registers again\n");
}

static void print_result_text(const struct uptrkv_rollout_result *r, const char *verb)
{
	if (r->recovered)
		printf("%s: finished or undid an interrupted rollout first\n", r->name);
	if (r->nothing_to_do) {
		printf("%s: version %u is already deployed; nothing to do\n", r->name, r->to_version);
		return;
	}
	if (r->dry_run) {
		printf("%s: dry run: version %u -> %u would migrate %zu live store(s); nothing was changed\n",
		       r->name, r->from_version, r->to_version, r->nr_stores);
		if (r->plan)
			plan_print_table(r->name, r->plan);
		print_skipped(r);
		return;
	}
	if (r->first_deploy)
		printf("%s: deployed version %u (generation %u)\n", r->name, r->to_version, r->gen);
	else
		printf("%s: %s version %u -> %u (generation %u): %zu store(s) migrated, %zu thread(s) "
		       "gone, %zu resized value(s) moved\n", r->name, verb,
		       r->from_version, r->to_version, r->gen, r->nr_migrated, r->nr_gone, r->nr_moved);
	print_skipped(r);
	if (r->nr_globals_copied || r->nr_map_entries_copied)
		printf("  globals: %zu copied, %zu updated with the old version's last changes; "
		       "%zu shared map entries copied\n", r->nr_globals_copied,
		       r->nr_globals_caught_up, r->nr_map_entries_copied);
	if (r->nr_move_pending)
		printf("  %zu store(s) still have values to move (a seqcount stayed busy): they read and "
		       "write them where they are, and the next command on %s finishes them\n",
		       r->nr_move_pending, r->name);
	printf("  took %.1f ms (preflight %.1f, migrate %.1f, switch %.1f, reclaim %.1f)\n",
	       r->ms_total, r->ms_preflight, r->ms_migrate, r->ms_switch, r->ms_reclaim);
	if (r->from_history)
		printf("  loaded version %u from the history's copy of its manifest and object\n",
		       r->to_version);
	if (r->revision)
		printf("  recorded as revision %llu ('uptrkv history %s')\n",
		       (unsigned long long)r->revision, r->name);
}

static void print_result(const struct uptrkv_rollout_result *r, const char *verb,
			 const char *object)
{
	char warn[1024];

	object = result_object(r, object);
	binding_warnings(&r->binding, object, warn, sizeof(warn));
	if (warn[0])
		p_info("warning: %s", warn);
	/* The run is done either way; only its record is missing. */
	if (r->history_err)
		p_info("warning: %s: the %s is done but could not be recorded in the history: %s",
		       r->name, verb, r->history_msg);
	if (r->carry_err)
		p_info("warning: %s: the %s is done but globals or maps were not fully carried "
		       "over: %s", r->name, verb, r->carry_msg);
	if (env.json)
		print_result_json(r, verb, object);
	else
		print_result_text(r, verb);
}

/* A refused run's plan, in its JSON error: it shows why. */
static void plan_extra(struct jw *w, const void *ctx)
{
	const struct uptrkv_plan *p = ctx;

	jw_name(w, "plan");
	jw_start_object(w);
	plan_json_fields(w, p);
	jw_end_object(w);
}

__attribute__((format(printf, 3, 4)))
static void p_err_run(const struct uptrkv_error *e, const struct uptrkv_rollout_result *r,
		      const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p_err_doc(error_code(e, r), msg, r->plan ? plan_extra : NULL, r->plan);
}

/* Says exactly what a failed run left changed, if anything. */
static int report_failure(const struct uptrkv_error *e, const struct uptrkv_rollout_result *r,
			  const char *what, const char *object)
{
	char lost[256] = "", rec[96] = "", hist[64] = "";

	/* The version two back lost its slot; the history still has it. */
	if (r->lost_version && r->lost_version_kept)
		snprintf(lost, sizeof(lost), "; version %u, two back, is no longer in a slot but is kept "
			 "in the history: 'uptrkv rollback %s --to-version %u' returns to it",
			 r->lost_version, r->name, r->lost_version);
	else if (r->lost_version)
		snprintf(lost, sizeof(lost), "; version %u, two back, can no longer be rolled back to",
			 r->lost_version);
	if (r->recovered)
		snprintf(rec, sizeof(rec), "; an interrupted rollout was finished or undone first");
	if (r->revision)
		snprintf(hist, sizeof(hist), " (recorded as revision %llu of its history)",
			 (unsigned long long)r->revision);
	/* Refused from the object's record, before the switch (so before any
	 * slot was overwritten: no version was lost). */
	if (r->binding.mismatch) {
		p_err_binding(&r->binding, result_object(r, object), "%s: %s; %s%s", what, e->msg,
			      rec[0] ? "the old version still runs, unchanged" : "nothing was changed",
			      rec);
		return EXIT_FAIL;
	}
	if (r->rolled_back)
		p_err_run(e, r, "%s: failed after the switch and was rolled back: the old version runs "
			  "again%s%s%s: %s", what, lost, rec, hist, e->msg);
	else if (lost[0] || rec[0])
		p_err_run(e, r, "%s: %s; the old version still runs, unchanged%s%s%s", what, e->msg,
			  lost, rec, hist);
	else
		p_err_run(e, r, "%s: %s; nothing was changed%s", what, e->msg, hist);
	return EXIT_FAIL;
}

/* ---- arguments: one operand (MANIFEST or NAME) and --dry-run ---- */

/* The options of rollout, rollback and undeploy. */
struct rollout_args {
	bool dry_run;
	bool allow_unbound;
	bool skip_corrupt;
	__u32 history_limit;	/* rollout --history-limit */
	__u32 to_version;	/* rollback --to-version */
};

enum { OPT_DRY_RUN = 0x200, OPT_ALLOW_UNBOUND, OPT_HISTORY_LIMIT, OPT_TO_VERSION, OPT_SKIP_CORRUPT };

#define SKIP_CORRUPT_OPTION							\
	{ "skip-corrupt", OPT_SKIP_CORRUPT, NULL, 0, "Leave out the threads whose store "	\
	  "cannot be migrated (a corrupt meta, a foreign header, a seqcount that stays odd) "	\
	  "and name them, instead of refusing: they keep the old layout, the new version's "	\
	  "programs see no store for them, and their application calls return -ESTALE until "	\
	  "they register again", 0 }

static const struct argp_option rollout_opts[] = {
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Load and verify the new object against the live maps, "
	  "check space in every live store, print the plan; change nothing", 0 },
	{ "allow-unbound-object", OPT_ALLOW_UNBOUND, NULL, 0, "Let an object that carries no "
	  "layout record through, with a warning (an object built for another layout or "
	  "deployment is always refused)", 0 },
	SKIP_CORRUPT_OPTION,
	{ "history-limit", OPT_HISTORY_LIMIT, "N", 0, "Keep the last N revisions that succeeded "
	  "(1..100; default 10, or what the deployment keeps now); recorded in the deployment", 0 },
	{},
};

static const struct argp_option rollback_opts[] = {
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Reopen or load and verify the target version, check "
	  "space in every live store, print the plan; change nothing", 0 },
	{ "to-version", OPT_TO_VERSION, "N", 0, "Return to version N, if the history keeps it "
	  "(default: the previous version)", 0 },
	{ "allow-unbound-object", OPT_ALLOW_UNBOUND, NULL, 0, "Return to a version whose object "
	  "carries no layout record, with a warning", 0 },
	SKIP_CORRUPT_OPTION,
	{},
};

/* A positive integer argument of at most max. */
static int parse_count(struct argp_state *state, const char *opt, const char *arg, __u32 max,
		       __u32 *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || !v || v > max)
		return cmd_arg_error(state, "%s: expected an integer from 1 to %u, got '%s'", opt, max, arg);
	*out = v;
	return 0;
}

static error_t rollout_parse(int key, char *arg, struct argp_state *state)
{
	struct rollout_args *a = state->input;

	switch (key) {
	case OPT_DRY_RUN: a->dry_run = true; return 0;
	case OPT_ALLOW_UNBOUND: a->allow_unbound = true; return 0;
	case OPT_SKIP_CORRUPT: a->skip_corrupt = true; return 0;
	case OPT_HISTORY_LIMIT:
		return parse_count(state, "--history-limit", arg, UPTRKV_HISTORY_MAX, &a->history_limit);
	case OPT_TO_VERSION:
		return parse_count(state, "--to-version", arg, UINT32_MAX, &a->to_version);
	}
	return ARGP_ERR_UNKNOWN;
}

/* ---- rollout ---- */

const struct argp rollout_argp = {
	.options = rollout_opts,
	.parser = rollout_parse,
	.doc = "Deploy or upgrade to MANIFEST: load and verify the new object against the live "
	       "maps, migrate every live store, switch every program atomically, reclaim the old "
	       "space, record the deployment.\v"
	       "The object must carry the layout record of the manifest's layout and deployment "
	       "(its source includes the header of `uptrkv gen header`); otherwise the rollout is "
	       "refused with code object_mismatch.\n\n"
	       "If --bpffs DIR is not a bpf filesystem, rollout mounts one there (the only "
	       "command that does; a dry run does not).\n\n"
	       "Exit status: 0 done or nothing to do, 1 refused or failed (the old version keeps "
	       "running, unchanged), 2 usage or manifest error. With --json a refusal is "
	       "{\"error\",\"code\",\"plan\"}.\n\n"
	       "Examples:\n"
	       "  uptrkv rollout examples/demo/demo_v1.yaml\n"
	       "  uptrkv rollout examples/demo/demo_v2.yaml --dry-run\n"
	       "  uptrkv rollout examples/demo/demo_v2.yaml -j",
};

int do_rollout(int argc, char **argv)
{
	struct rollout_args a = {};
	struct cmd_args pos;
	struct uptrkv_rollout_result r = {};
	struct uptrkv_rollout_opts o;
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_error e = {};
	int ret;

	if (cmd_parse(argc, argv, &a, &pos))
		return EXIT_USAGE;
	if (cmd_manifest_load("rollout", pos.v[0], &m, NULL))
		return EXIT_USAGE;
	if (prepare_bpffs(a.dry_run)) {
		uptrkv_manifest__free(m);
		return EXIT_FAIL;
	}
	init_opts(&o, a.dry_run, a.allow_unbound);
	o.history_limit = a.history_limit;
	o.skip_corrupt = a.skip_corrupt;
	if (uptrkv_rollout(m, &o, &r, &e))
		ret = report_failure(&e, &r, "rollout", m->object);
	else {
		print_result(&r, "upgraded", m->object);
		ret = EXIT_OK;
	}
	uptrkv_rollout_result__free(&r);
	uptrkv_manifest__free(m);
	return ret;
}

/* ---- rollback and undeploy ---- */

const struct argp rollback_argp = {
	.options = rollback_opts,
	.parser = rollout_parse,
	.doc = "Return deployment NAME to its previously deployed version, or to version N of its "
	       "history, with the same guarantees as a rollout. The version in the other slot is "
	       "switched back to as it is (its programs are still loaded and verified); any other "
	       "kept version is loaded from the history's own copy of its manifest and object, "
	       "checked against their sha256, so the files need not exist any more. Keys the target "
	       "version had are restored (to their default if they were removed); shrinking and "
	       "retyping back are allowed.\v"
	       "Exit status: as rollout; 1 also when the version is not kept (the message lists "
	       "those that are).\n\nExamples:\n  uptrkv rollback demo\n"
	       "  uptrkv rollback demo --to-version 1",
};

int do_rollback(int argc, char **argv)
{
	struct rollout_args a = {};
	struct cmd_args pos;
	struct uptrkv_rollout_result r = {};
	struct uptrkv_rollout_opts o;
	struct uptrkv_error e = {};
	int ret;

	if (cmd_parse(argc, argv, &a, &pos))
		return EXIT_USAGE;
	ret = need_bpffs();
	if (ret)
		return ret;
	init_opts(&o, a.dry_run, a.allow_unbound);
	o.to_version = a.to_version;
	o.skip_corrupt = a.skip_corrupt;
	if (uptrkv_rollback(pos.v[0], &o, &r, &e))
		ret = report_failure(&e, &r, "rollback", NULL);
	else {
		print_result(&r, "rolled back", NULL);
		ret = EXIT_OK;
	}
	uptrkv_rollout_result__free(&r);
	return ret;
}

const struct argp undeploy_argp = {
	.parser = rollout_parse,
	.doc = "Detach every program of deployment NAME and remove its pins. Applications that "
	       "still hold the store map keep their stores until they close it.\v"
	       "Exit status: 0 removed, 1 not deployed or failed.\n\nExample:\n  uptrkv undeploy demo",
};

int do_undeploy(int argc, char **argv)
{
	struct rollout_args a = {};
	struct cmd_args pos;
	const char *name;
	struct uptrkv_rollout_opts o;
	struct uptrkv_error e = {};
	int ret;

	if (cmd_parse(argc, argv, &a, &pos))
		return EXIT_USAGE;
	name = pos.v[0];
	ret = need_bpffs();
	if (ret)
		return ret;
	init_opts(&o, false, false);
	if (uptrkv_undeploy(name, &o, &e)) {
		p_lib_err(&e);
		return EXIT_FAIL;
	}
	if (env.json) {
		struct jw *w = json_begin();

		jw_start_object(w);
		jw_string_field(w, "name", name);
		jw_string_field(w, "result", "undeployed");
		jw_end_object(w);
	} else {
		printf("%s: undeployed\n", name);
	}
	return EXIT_OK;
}
