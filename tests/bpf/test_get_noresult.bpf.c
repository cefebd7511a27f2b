// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Gets whose result nobody looks at (tests/e2e/test_verify_cost.sh): the
 * value is zeroed first and used whatever happened, a common way to write
 * a counter. No other program in this object uses a get's result, so
 * clang may drop the result of uptrkv.bpf.h's out-of-line slow paths; the
 * object must still load.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uptrkv.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 sink;

SEC("raw_tp/sys_enter")
int gets_no_result(void *ctx)
{
	struct uptrkv_ctx kv;
	__u64 a = 0, b = 0;
	__u32 c = 0;

	if (!uptrkv_open_ctx(&kv, &uptrkv_store))
		return 0;
	uptrkv_get(&kv, 0, &a, sizeof(a));
	uptrkv_get(&kv, 1, &b, sizeof(b));
	uptrkv_get(&kv, 2, &c, sizeof(c));
	sink = a + b + c;
	return 0;
}
