// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * End-to-end test program for the uptrkv BPF API (tests/e2e/store_basic.c).
 * On sys_enter of getppid from the test process, it reads the IN keys of
 * the calling thread's store and writes the OUT keys, exercising every
 * access path: 1/8-byte direct loads, inline copies, 4096-byte copies,
 * variable-size copies, the no-copy pointer and delete.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

#define NR_getppid	110

/* Keys; tests/e2e/store_basic.c uses the same numbers. */
#define K_IN_U8		1	/* 1 B  -> K_OUT_U8 = in + 1 */
#define K_OUT_U8	2
#define K_IN_U64	3	/* 8 B  -> K_OUT_U64 = in * 3 + 1 */
#define K_OUT_U64	4
#define K_IN_STR	5	/* 24 B -> K_OUT_STR = every byte + 1 */
#define K_OUT_STR	6
#define K_IN_BIG	7	/* 4096 B -> K_OUT_BIG = copy, first u64 + 1 */
#define K_OUT_BIG	8
#define K_IN_VAR	9	/* any size -> K_OUT_VAR (same size) = copy */
#define K_OUT_VAR	10
#define K_PTR_U32	11	/* 4 B: incremented through uptrkv_ptr */
#define K_DEL_REQ	12	/* 4 B: BPF deletes the key it names */
#define K_RESULT	13	/* 8 B: bit i set = step i succeeded */
#define STR_LEN		24

const volatile __u32 target_tgid = 0;

/* Per-step last return code, for diagnostics. */
int last_ret[16];
__u64 runs, no_store;

struct bufs {
	__u8 big[4096];
	__u8 var[4096];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct bufs);
} scratch SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s;
	__u64 v64, result = 0;
	__u8 str[STR_LEN], v8;
	struct bufs *b;
	__u32 *p32, del;
	int zero = 0, r, i;

	if (id != NR_getppid || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&runs, 1);
	s = uptrkv_open(&uptrkv_store);
	if (!s) {
		__sync_fetch_and_add(&no_store, 1);
		return 0;
	}
	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b)
		return 0;

	r = uptrkv_get(s, K_IN_U8, &v8, 1);
	last_ret[0] = r;
	if (r == 1) {
		v8++;
		r = uptrkv_put(s, K_OUT_U8, &v8, 1);
		last_ret[1] = r;
		if (r == 1)
			result |= 1 << 0;
	}

	r = uptrkv_get(s, K_IN_U64, &v64, 8);
	last_ret[2] = r;
	if (r == 8) {
		v64 = v64 * 3 + 1;
		r = uptrkv_put(s, K_OUT_U64, &v64, 8);
		last_ret[3] = r;
		if (r == 8)
			result |= 1 << 1;
	}

	r = uptrkv_get(s, K_IN_STR, str, STR_LEN);
	last_ret[4] = r;
	if (r == STR_LEN) {
		for (i = 0; i < STR_LEN; i++)
			str[i]++;
		r = uptrkv_put(s, K_OUT_STR, str, STR_LEN);
		last_ret[5] = r;
		if (r == STR_LEN)
			result |= 1 << 2;
	}

	r = uptrkv_get(s, K_IN_BIG, b->big, 4096);
	last_ret[6] = r;
	if (r == 4096) {
		(*(__u64 *)b->big)++;
		r = uptrkv_put(s, K_OUT_BIG, b->big, 4096);
		last_ret[7] = r;
		if (r == 4096)
			result |= 1 << 3;
	}

	r = uptrkv_get_var(s, K_IN_VAR, b->var, sizeof(b->var));
	last_ret[8] = r;
	if (r > 0) {
		r = uptrkv_put_var(s, K_OUT_VAR, b->var, r);
		last_ret[9] = r;
		if (r > 0)
			result |= 1 << 4;
	}

	p32 = uptrkv_ptr(s, K_PTR_U32, 4);
	last_ret[10] = p32 ? 0 : -1;
	if (p32) {
		__sync_fetch_and_add(p32, 1);
		result |= 1 << 5;
	}

	r = uptrkv_get(s, K_DEL_REQ, &del, 4);
	last_ret[11] = r;
	if (r == 4) {
		r = uptrkv_delete(s, del);
		last_ret[12] = r;
		if (!r)
			result |= 1 << 6;
	}

	/* Error paths the verifier must accept and that must fail cleanly. */
	if (uptrkv_get(s, 1024, &v64, 8) == -EINVAL && uptrkv_get(s, K_IN_U8, &v64, 8) == -EMSGSIZE &&
	    uptrkv_put(s, 1000, &v64, 8) == -ENOENT && uptrkv_ptr(s, K_IN_U64, 4) == NULL)
		result |= 1 << 7;

	r = uptrkv_put(s, K_RESULT, &result, 8);
	last_ret[13] = r;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
