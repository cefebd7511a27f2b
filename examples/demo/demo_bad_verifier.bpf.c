// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A demo version 2 that the verifier must reject (tests/e2e/
 * test_rollout_failures.sh): the same maps, keys and programs as
 * examples/demo/demo_v2.bpf.c, but on_enter writes through the data-page uptr at a
 * random index up to 8191, past the 4 KiB the kernel knows the page has.
 * It compiles, bound to the v2 layout like demo_v2.bpf.o; loading it fails,
 * so a rollout to it must stop in the preflight, changing nothing.
 */
#include "uptrkv.bpf.h"
#include "demo_bad_verifier.keys.h"
#define DEMO_EVENTS_PTR(s)	demo_ptr_syscalls(s)
#include "demo_common.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, DEMO_VERSION);
	struct uptrkv_page *pg;

	if (!s)
		return 0;
	demo_count_tx(s);
	pg = s->data[0];
	if (pg)	/* out of bounds: the page is 4096 bytes */
		pg->bytes[bpf_get_prandom_u32() & 0x1fff] = 1;
	return 0;
}
