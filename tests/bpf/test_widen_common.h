// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test objects for the widening rollout (tests/e2e/test_history.sh): the
 * dump test's keys (tests/e2e/dump_app.c) with one attachable program, so
 * that `uptrkv rollout` deploys it and migrates the stores of dump_app.
 * The program only reads (bpf_counter, key 13): the values the test checks
 * are the ones the application wrote before the rollout. One object per
 * layout (test_widen_v3/v4.bpf.c), each bound to its manifest.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TEST_WIDEN_KEY_BPF_COUNTER	13

__u64 test_widen_reads;

SEC("tp_btf/sys_enter")
int BPF_PROG(test_widen_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = uptrkv_open(&uptrkv_store);
	__u64 v;

	if (s && uptrkv_get(s, TEST_WIDEN_KEY_BPF_COUNTER, &v, sizeof(v)) == sizeof(v))
		__sync_fetch_and_add(&test_widen_reads, 1);
	return 0;
}
