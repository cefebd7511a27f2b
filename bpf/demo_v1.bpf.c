// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 1 (manifests/demo_v1.yaml). */
#include "demo_common.h"

#define VERSION 1
#define KEY_LEGACY_COUNTER 5	/* u32, removed in v2 */

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, VERSION);
	__u32 *legacy;

	if (!s)
		return 0;
	legacy = uptrkv_ptr(s, KEY_LEGACY_COUNTER, 4);
	if (legacy)
		(*legacy)++;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_exit, struct pt_regs *regs, long ret)
{
	if (regs->orig_ax == DEMO_NR_TRIGGER)
		demo_exit(ret, VERSION);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
