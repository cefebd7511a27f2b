// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A demo version 2 that the verifier must reject (tests/e2e/
 * test_rollout_failures.sh): the same maps and keys as bpf/demo_v2.bpf.c,
 * but on_enter writes through the data-page uptr at a random index up to
 * 8191, past the 4 KiB the kernel knows the page has. It compiles; loading
 * it fails, so a rollout to it must stop in the preflight, changing nothing.
 */
#include "demo_common.h"

#define VERSION 2
#define KEY_TX_BYTES 7

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, VERSION);
	struct uptrkv_page *pg;
	__u64 *tx;

	if (!s)
		return 0;
	tx = uptrkv_ptr(s, KEY_TX_BYTES, 8);
	if (tx)
		*tx += 1;
	pg = s->data[0];
	if (pg)	/* out of bounds: the page is 4096 bytes */
		pg->bytes[bpf_get_prandom_u32() & 0x1fff] = 1;
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
