// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stable entry of one hook. uptrkv loads this once per hook, retyped to
 * the hooked program's type and attach target (bpf_program__set_type and
 * set_attach_target), attaches it, and never replaces it. Every version's
 * program for the hook sits in slot (gen & 1) of the hook's own prog array;
 * a rollout fills the idle slot and then flips ctl.gen with one store, so
 * all hooks switch versions at the same instant.
 *
 * The code does nothing type-specific with ctx, which is what lets one
 * object serve tp_btf, raw_tp, uprobe, fentry, XDP and cgroup hooks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uptrkv_layout.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct uptrkv_ctl);
} uptrkv_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, UPTRKV_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} uptrkv_disp SEC(".maps");

/* What the hook returns when the active slot is empty: XDP_PASS for XDP,
 * 1 (allow) for cgroup_skb, 0 for tracing. Set by the loader. */
const volatile int uptrkv_default_ret = 0;

SEC("raw_tp")
int uptrkv_entry(void *ctx)
{
	__u32 zero = 0;
	struct uptrkv_ctl *c = bpf_map_lookup_elem(&uptrkv_ctl, &zero);

	if (c)
		bpf_tail_call(ctx, &uptrkv_disp, c->gen & 1);
	return uptrkv_default_ret;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
