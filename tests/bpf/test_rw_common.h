/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The BPF side of the read-your-writes soak (tests/e2e/test_rw_soak.sh),
 * one object per layout: RW_LAYOUT 0, 1 or 2 and RW_W_TYPE, the type of key
 * 1 in that layout. On every getppid of a registered thread, one version's
 * program adds 1 to key 0 (through a pointer: unchanged in every layout)
 * and to key 1 (get and put: resized u32 -> u64 after layout 0). The app
 * checks both against its own count of getppid calls.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define RW_TRIGGER	110	/* getppid */
#define RW_KEY_EV	RW_KEY_EVENTS		/* from the generated header */
#define RW_KEY_W	RW_KEY_BPF_COUNT

/* Shared by every version: events per layout, then failures. */
enum { RW_STAT_GET_FAIL = 4, RW_STAT_PUT_FAIL, RW_STAT_PTR_FAIL, RW_STAT_MAX = 8 };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rw_stats SEC(".maps");

static __always_inline void rw_stat(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&rw_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_ctx kv;
	RW_W_TYPE w;
	__u64 *ev;

	if (id != RW_TRIGGER || !uptrkv_open_ctx(&kv, &uptrkv_store))
		return 0;
	rw_stat(RW_LAYOUT);
	ev = uptrkv_ptr(&kv, RW_KEY_EV, 8);
	if (ev)
		__sync_fetch_and_add(ev, 1);
	else
		rw_stat(RW_STAT_PTR_FAIL);
	if (uptrkv_get(&kv, RW_KEY_W, &w, sizeof(w)) != sizeof(w)) {
		rw_stat(RW_STAT_GET_FAIL);
		return 0;
	}
	w++;
	if (uptrkv_put(&kv, RW_KEY_W, &w, sizeof(w)) != sizeof(w))
		rw_stat(RW_STAT_PUT_FAIL);
	return 0;
}
