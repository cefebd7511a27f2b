/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The BPF side of the app compatibility test (tests/e2e/test_app_compat.sh),
 * one object per layout (test_compat_v1/v2/v3.bpf.c, each bound to its
 * manifest). The programs only have to exist and use the store: the test is
 * about what an application built for layout 1 sees.
 */
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_ctx kv;

	if (id == 110)	/* getppid */
		uptrkv_open_ctx(&kv, &uptrkv_store);
	return 0;
}
