// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Demo version 1 (examples/demo/demo_v1.yaml, which the build makes its header of). */
#include "uptrkv.bpf.h"
#include "demo_v1.keys.h"
#define DEMO_EVENTS_PTR(s)	demo_ptr_events(s)
#include "demo_common.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, DEMO_VERSION);
	__u32 *legacy;

	if (!s)
		return 0;
	legacy = demo_ptr_legacy_counter(s);	/* removed in v2 */
	if (legacy)
		(*legacy)++;
	return 0;
}
