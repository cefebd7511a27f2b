// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uptrkv history NAME */
#include <stdio.h>
#include <string.h>
#include "cmd.h"

static void sha_hex(const __u8 *sha, char *buf)
{
	for (int i = 0; i < 32; i++)
		sprintf(buf + 2 * i, "%02x", sha[i]);
}

static bool has_sha(const __u8 *sha)
{
	for (int i = 0; i < 32; i++)
		if (sha[i])
			return true;
	return false;
}

static __u64 ms(__u64 us)
{
	return (us + 500) / 1000;
}

static void json_timing(struct jw *w, const struct uptrkv_revision *r)
{
	jw_name(w, "timing_ms");
	jw_start_object(w);
	jw_uint_field(w, "preflight", ms(r->us_preflight));
	jw_uint_field(w, "migrate", ms(r->us_migrate));
	jw_uint_field(w, "switch", ms(r->us_switch));
	jw_uint_field(w, "reclaim", ms(r->us_reclaim));
	jw_uint_field(w, "total", ms(r->us_total));
	jw_end_object(w);
}

static void json_revision(struct jw *w, const struct uptrkv_revision *r)
{
	char buf[80];

	jw_start_object(w);
	jw_uint_field(w, "revision", r->revision);
	jw_uint_field(w, "version", r->version);
	jw_uint_field(w, "from_version", r->from_version);
	jw_hash_field(w, "layout_hash", r->layout_hash);
	sha_hex(r->object_sha256, buf);
	jw_name(w, "object_sha256");
	jw_string(w, has_sha(r->object_sha256) ? buf : NULL);
	jw_uint_field(w, "object_size", r->object_size);
	jw_bool_field(w, "object_kept", r->has_object);
	jw_string_field(w, "object", r->object_path);
	jw_string_field(w, "manifest", r->manifest_path);
	jw_time_field(w, "when", r->when);
	jw_uint_field(w, "uid", r->uid);
	jw_string_field(w, "user", r->user);
	jw_string_field(w, "host", r->host);
	jw_string_field(w, "command", r->command);
	jw_string_field(w, "outcome", uptrkv_outcome__str(r->outcome));
	jw_name(w, "reason");
	jw_string(w, r->outcome == UPTRKV_OUTCOME_FAILED ? r->reason : NULL);
	json_timing(w, r);
	jw_bool_field(w, "live", r->live);
	jw_end_object(w);
}

static void json_history(const char *name, const struct uptrkv_history *h)
{
	struct jw *w = json_begin();

	jw_start_object(w);
	jw_string_field(w, "name", name);
	jw_uint_field(w, "limit", h->limit);
	jw_bool_field(w, "recorded", h->present);
	jw_name(w, "revisions");
	jw_start_array(w);
	for (size_t i = 0; i < h->n; i++)
		json_revision(w, &h->v[i]);
	jw_end_array(w);
	jw_end_object(w);
}

static void text_history(const char *name, const struct uptrkv_history *h)
{
	if (!h->present) {
		printf("%s: no history yet: deployed by an older uptrkv; the next rollout starts one\n",
		       name);
		return;
	}
	printf("%s: %zu revision(s) kept (the last %u that succeeded, and the failures since)\n",
	       name, h->n, h->limit);
	printf("%-4s %-7s %-10s %-12s %-20s %-12s %-16s %s\n", "REV", "VERSION", "LAYOUT", "OBJECT",
	       "WHEN", "WHO", "HOST", "OUTCOME");
	for (size_t i = 0; i < h->n; i++) {
		const struct uptrkv_revision *r = &h->v[i];
		char when[32], sha[80], who[48], layout[24];

		rfc3339(r->when, when, sizeof(when));
		sha_hex(r->object_sha256, sha);
		snprintf(sha + 12, sizeof(sha) - 12, "%s", r->has_object ? "" : "*");
		snprintf(who, sizeof(who), "%s(%u)", r->user, r->uid);
		snprintf(layout, sizeof(layout), "0x%08llx", (unsigned long long)r->layout_hash);
		printf("%-4llu %-7u %-10s %-12s %-20s %-12s %-16s %s%s%s%s\n",
		       (unsigned long long)r->revision, r->version, layout,
		       has_sha(r->object_sha256) ? sha : "-", when, who, r->host,
		       uptrkv_outcome__str(r->outcome), r->live ? " (live)" : "",
		       r->outcome == UPTRKV_OUTCOME_FAILED ? ": " : "",
		       r->outcome == UPTRKV_OUTCOME_FAILED ? r->reason : "");
	}
	printf("'uptrkv rollback %s --to-version N' returns to any version that succeeded here.\n",
	       name);
}

const struct argp history_argp = {
	.doc = "Show the revisions deployment NAME keeps: each rollout and rollback, with the "
	       "version, layout hash, the sha256 of the object (a copy of which is kept, so "
	       "'rollback --to-version' works without the file), when (UTC), who (user and uid), "
	       "the host, the command line, the outcome (deployed, rolled_back, failed and why) "
	       "and the timing. A '*' after the object hash: no copy is kept (a failed run).\v"
	       "Exit status: 0, or 1 if NAME is not deployed, 2 if --bpffs is not a mounted bpffs.\n\n"
	       "Examples:\n  uptrkv history demo\n  uptrkv history demo -p",
};

int do_history(int argc, char **argv)
{
	struct cmd_args pos;
	const char *name;
	struct uptrkv_history h;
	struct uptrkv_error e = {};
	int ret;

	if (cmd_parse(argc, argv, NULL, &pos))
		return EXIT_USAGE;
	name = pos.v[0];
	ret = need_bpffs();
	if (ret)
		return ret;
	if (uptrkv_deploy__history(env.bpffs, name, &h, &e)) {
		p_lib_err(&e);
		return EXIT_FAIL;
	}
	if (env.json)
		json_history(name, &h);
	else
		text_history(name, &h);
	uptrkv_history__free(&h);
	return EXIT_OK;
}
