// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 3 (manifests/demo_v3.yaml). It leaves ratio (added with
 * default -1) alone, so that the workload can check the default arrived. */
#include "demo_common.h"

#define VERSION 3
#define KEY_TX_BYTES 7		/* u64 */

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, VERSION);
	__u64 *tx;

	if (!s)
		return 0;
	tx = uptrkv_ptr(s, KEY_TX_BYTES, 8);
	if (tx)
		*tx += 1;
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
