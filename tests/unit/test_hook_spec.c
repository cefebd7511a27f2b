// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* How a program's SEC() (and the manifest's attach:) become a hook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hook.h"

static void parse_ok(const char *sec, const char *attach, struct uptrkv_hook_spec *h)
{
	struct uptrkv_error e = {};
	int err = uptrkv_hook_spec__parse(sec, attach, h, &e);

	if (err)
		fail_msg("SEC(\"%s\") attach %s: %d %s", sec, attach ? attach : "-", err, e.msg);
}

static void parse_bad(const char *sec, const char *attach, int want, const char *msg)
{
	struct uptrkv_hook_spec h;
	struct uptrkv_error e = {};

	assert_int_equal(uptrkv_hook_spec__parse(sec, attach, &h, &e), want);
	if (!strstr(e.msg, msg))
		fail_msg("SEC(\"%s\"): message '%s' lacks '%s'", sec, e.msg, msg);
}

static void test_targets_in_sec(void **state)
{
	struct uptrkv_hook_spec h;

	(void)state;
	parse_ok("tp_btf/sys_enter", NULL, &h);
	assert_int_equal(h.kind, UPTRKV_AK_TRACE);
	assert_int_equal(h.type, BPF_PROG_TYPE_TRACING);
	assert_int_equal(h.eat, BPF_TRACE_RAW_TP);
	assert_string_equal(h.target, "sys_enter");

	parse_ok("raw_tp/sched_switch", NULL, &h);
	assert_int_equal(h.kind, UPTRKV_AK_RAW_TP);
	assert_string_equal(h.target, "sched_switch");
	parse_ok("raw_tracepoint/sched_switch", NULL, &h);
	assert_int_equal(h.kind, UPTRKV_AK_RAW_TP);

	parse_ok("fexit/do_exit", NULL, &h);
	assert_int_equal(h.eat, BPF_TRACE_FEXIT);
	parse_ok("lsm/file_open", NULL, &h);
	assert_int_equal(h.type, BPF_PROG_TYPE_LSM);

	parse_ok("uprobe//usr/bin/app:handle_request+16", NULL, &h);
	assert_int_equal(h.kind, UPTRKV_AK_UPROBE);
	assert_string_equal(h.path, "/usr/bin/app");
	assert_string_equal(h.target, "handle_request");
	assert_int_equal(h.offset, 16);
	assert_false(h.retprobe);
	parse_ok("uretprobe//usr/bin/app:f", NULL, &h);
	assert_true(h.retprobe);

	parse_ok("tp/syscalls/sys_enter_getpid", NULL, &h);
	assert_int_equal(h.kind, UPTRKV_AK_TP);
	assert_string_equal(h.target, "syscalls/sys_enter_getpid");
}

static void test_targets_from_manifest(void **state)
{
	struct uptrkv_hook_spec h;

	(void)state;
	parse_ok("xdp", "xdp:lo", &h);
	assert_int_equal(h.kind, UPTRKV_AK_XDP);
	assert_int_equal(h.type, BPF_PROG_TYPE_XDP);
	assert_string_equal(h.target, "lo");

	parse_ok("cgroup_skb/egress", "cgroup:/sys/fs/cgroup/unified", &h);
	assert_int_equal(h.kind, UPTRKV_AK_CGROUP);
	assert_int_equal(h.eat, BPF_CGROUP_INET_EGRESS);
	assert_string_equal(h.target, "/sys/fs/cgroup/unified");

	parse_ok("uprobe", "uprobe:/lib/libc.so.6:sendto", &h);
	assert_int_equal(h.kind, UPTRKV_AK_UPROBE);
	assert_string_equal(h.path, "/lib/libc.so.6");
	assert_string_equal(h.target, "sendto");
	parse_ok("uretprobe", "uprobe:/lib/libc.so.6:sendto", &h);
	assert_true(h.retprobe);
}

/* Which SEC()s run sleepable: decides uptrkv_sleepable of a loaded object. */
static void test_sleepable(void **state)
{
	(void)state;
	assert_true(uptrkv_sec__sleepable("fentry.s/do_exit"));
	assert_true(uptrkv_sec__sleepable("lsm.s/file_open"));
	assert_true(uptrkv_sec__sleepable("uprobe.s"));
	assert_true(uptrkv_sec__sleepable("uretprobe.s//bin/x:f"));
	assert_true(uptrkv_sec__sleepable("iter.s/task"));
	assert_true(uptrkv_sec__sleepable("syscall"));
	assert_false(uptrkv_sec__sleepable("tp_btf/sys_enter"));
	assert_false(uptrkv_sec__sleepable("uprobe//bin/x.s:f"));
	assert_false(uptrkv_sec__sleepable("raw_tp/sys_enter"));
	assert_false(uptrkv_sec__sleepable("xdp"));
	assert_false(uptrkv_sec__sleepable("s"));
	assert_false(uptrkv_sec__sleepable(".s"));
	assert_false(uptrkv_sec__sleepable("syscalls"));
}

static void test_refused(void **state)
{
	(void)state;
	parse_bad("xdp", NULL, -EINVAL, "needs a target");
	parse_bad("xdp", "cgroup:/x", -EINVAL, "is not xdp:");
	parse_bad("cgroup_skb/ingress", NULL, -EINVAL, "needs a target");
	parse_bad("uprobe", NULL, -EINVAL, "needs a target");
	parse_bad("uprobe//usr/bin/app", NULL, -EOPNOTSUPP, "BINARY:FUNCTION");
	parse_bad("tp_btf/", NULL, -EOPNOTSUPP, "uptrkv attaches");
	parse_bad("socket", NULL, -EOPNOTSUPP, "uptrkv attaches");
	parse_bad("syscall", NULL, -EOPNOTSUPP, "uptrkv attaches");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets_in_sec),
		cmocka_unit_test(test_targets_from_manifest),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sleepable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
