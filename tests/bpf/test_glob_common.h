/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Globals and shared maps carried over a rollout (tests/e2e/test_globals.sh).
 * Three objects of one layout (tests/e2e/manifests/glob.yaml), which differ
 * only in what they keep outside the store:
 *   A  .bss: hits (u64), widen_me (u32), cfg_echo; .data: data_sum = 1000;
 *      glob_m: hash u32 -> { a }
 *   B  as A, plus .bss extra_b (so .bss differs: copied, not shared)
 *   C  hits narrowed to u32 (refused without globals: {hits: reset}),
 *      widen_me widened to u64 (value kept), and glob_m's value grown to
 *      { a, b } (refused without maps:)
 * On every getppid of the process config: target_tgid names, each version
 * adds 1 to hits and widen_me, 2 to data_sum, copies config: cfg_magic to
 * cfg_echo and writes hits into glob_m[1].a. The test compares hits with
 * the number of getppid calls it made.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define GLOB_TRIGGER	110	/* getppid */

const volatile __u32 target_tgid = 0;
const volatile __u64 cfg_magic = 0;
/* More config: kinds, checked by the test in .rodata (cfg_echo_all). */
const volatile __s32 cfg_neg = 0;
const volatile bool cfg_flag = false;
const volatile char cfg_tag[8] = {};

GLOB_HITS_TYPE hits = 0;
GLOB_WIDEN_TYPE widen_me = 0;
__u64 cfg_echo = 0;
__s64 cfg_echo_all = 0;	/* cfg_neg + cfg_flag + cfg_tag[0] */
__u64 data_sum = 1000;
#ifdef GLOB_EXTRA
__u64 extra_b = 0;
#endif

struct glob_val {
	__u64 a;
#ifdef GLOB_VAL_B
	__u64 b;
#endif
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct glob_val);
} glob_m SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct glob_val *v, init = {};
	struct uptrkv_ctx kv;
	__u32 one = 1;

	if (id != GLOB_TRIGGER || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&hits, 1);
	__sync_fetch_and_add(&widen_me, 1);
	__sync_fetch_and_add(&data_sum, 2);
	cfg_echo = cfg_magic;
	cfg_echo_all = (__s64)cfg_neg + cfg_flag + cfg_tag[0];
#ifdef GLOB_EXTRA
	extra_b++;
#endif
	v = bpf_map_lookup_elem(&glob_m, &one);
	if (v)
		v->a = hits;
	else
		bpf_map_update_elem(&glob_m, &one, &init, BPF_NOEXIST);
	/* Uses the store, as every deployed object must (uptrkv_slot). */
	uptrkv_open_ctx(&kv, &uptrkv_store);
	return 0;
}
