// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the verifier walks for a program with many gets
 * (tests/e2e/test_verify_cost.sh): 20 gets through a ctx, 10 of 8 bytes
 * and 10 of 4, the program docs/benchmarks.md ("Verification cost")
 * measures. Every get has a fast path, a page selection, an error exit and
 * the forwarded slow path, and the verifier walks each in every get.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uptrkv.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 sink;

#define GET(k, T)								\
	do {									\
		T v;								\
		if (uptrkv_get(&kv, k, &v, sizeof(v)) == sizeof(v))		\
			s += v;							\
	} while (0)

SEC("raw_tp/sys_enter")
int twenty_gets(void *ctx)
{
	struct uptrkv_ctx kv;
	__u64 s = 0;

	if (!uptrkv_open_ctx(&kv, &uptrkv_store))
		return 0;
	GET(0, __u64); GET(1, __u64); GET(2, __u64); GET(3, __u64); GET(4, __u64);
	GET(5, __u64); GET(6, __u64); GET(7, __u64); GET(8, __u64); GET(9, __u64);
	GET(10, __u32); GET(11, __u32); GET(12, __u32); GET(13, __u32); GET(14, __u32);
	GET(15, __u32); GET(16, __u32); GET(17, __u32); GET(18, __u32); GET(19, __u32);
	sink = s;
	return 0;
}
