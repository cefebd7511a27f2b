// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Layout 3 of the app compatibility test (tests/e2e/manifests/compat_v3.yaml).
 * The programs only have to exist and use the store: the test is about
 * what an application built for layout 1 sees. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"
#include "test_compat_v3.keys.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_ctx kv;

	if (id == 110)	/* getppid */
		uptrkv_open_ctx(&kv, &uptrkv_store);
	return 0;
}
