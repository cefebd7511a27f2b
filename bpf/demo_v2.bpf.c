// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 2 (manifests/demo_v2.yaml): counts events in tx_bytes too. */
#define DEMO_VERSION 2
#include "demo_common.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, DEMO_VERSION);

	if (s)
		demo_count_tx(s);
	return 0;
}
