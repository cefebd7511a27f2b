// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 1 (manifests/demo_v1.yaml). */
#define DEMO_VERSION 1
#include "demo_common.h"

#define KEY_LEGACY_COUNTER 5	/* u32, removed in v2 */

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, DEMO_VERSION);
	__u32 *legacy;

	if (!s)
		return 0;
	legacy = uptrkv_ptr(s, KEY_LEGACY_COUNTER, 4);
	if (legacy)
		(*legacy)++;
	return 0;
}
