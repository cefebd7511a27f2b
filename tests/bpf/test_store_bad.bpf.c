// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bad-input test program (tests/e2e/store_bad.c): counts the getppid() calls
 * of the test process whose store uptrkv_open accepts or refuses, and writes
 * key 1 of accepted stores. Loaded with uptrkv_layout_hash set, so stores
 * of another layout must be refused. Also carries maps that are not uptrkv
 * stores, for the user-space checks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

#define NR_getppid	110

const volatile __u32 target_tgid = 0;
__u64 opened, refused;
int put_ret;

struct other_val {
	__u64 a, b;
};

/* A task storage map with another value type. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct other_val);
} other_store SEC(".maps");

/* Same size as the store value, other type. */
struct fake_val {
	__u64 w[11];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fake_val);
} fake_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct fake_val);
} not_store SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s;
	struct other_val *o;
	__u64 v = 0xdeadbeefcafef00dull;

	if (id != NR_getppid || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	o = bpf_task_storage_get(&other_store, bpf_get_current_task_btf(), 0, 0);
	if (o)
		o->a++;
	if (bpf_task_storage_get(&fake_store, bpf_get_current_task_btf(), 0, 0))
		v++;
	s = uptrkv_open(&uptrkv_store);
	if (!s) {
		__sync_fetch_and_add(&refused, 1);
		return 0;
	}
	__sync_fetch_and_add(&opened, 1);
	put_ret = uptrkv_put(s, 1, &v, 8);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
