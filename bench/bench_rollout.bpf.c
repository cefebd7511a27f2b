// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The program every version of the rollout benchmark deploys
 * (bench/rollout_bench.c). It hooks a rarely hit tracepoint, a task
 * renaming itself (prctl PR_SET_NAME), so that the benchmark measures the
 * rollout and not the programs, and counts renames in key 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *task, const char *comm)
{
	struct uptrkv_task_store *s = uptrkv_open(&uptrkv_store);
	__u64 *n;

	if (!s)
		return 0;
	n = uptrkv_ptr(s, 0, 8);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
