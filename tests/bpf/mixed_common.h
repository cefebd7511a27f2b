/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A deployment with five kinds of hooks, switched together by one
 * generation word: tp_btf and raw_tp programs, a uprobe on libc's sendto(),
 * an XDP program on lo and a cgroup_skb egress program. Only the tp_btf one
 * uses the store: XDP and cgroup_skb have no current task. Both count what they handle per
 * version in mixed_stats, shared by every version; tests/e2e/test_mixed.sh
 * checks that every packet was counted exactly once across rollouts.
 * Each version's file includes uptrkv.bpf.h and its generated header (from
 * tests/e2e/manifests/mixed_vN.yaml: MIXED_VERSION, the accessors and the
 * layout record), then this.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "uptrkv.bpf.h"

#define MIXED_UDP_PORT	47999
#define MIXED_MARK	47999	/* getpgid(MIXED_MARK): the test's raw_tp event */
#define NR_getpgid	121
#define ETH_P_IP_	0x0800
#define IPPROTO_UDP_	17

/* By version v: [v] test packets on XDP lo ingress; [4 + v] the same packets
 * on cgroup_skb egress; [8 + v] getppid events of registered threads;
 * [12 + v] the test's getpgid(MIXED_MARK) calls, seen by raw_tp;
 * [16 + v] the test's sendto() calls to the port, seen by a uprobe on libc. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 24);
	__type(key, __u32);
	__type(value, __u64);
} mixed_stats SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&mixed_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int on_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP_) ||
	    ip->protocol != IPPROTO_UDP_ || ip->ihl != 5 || udp->dest != bpf_htons(MIXED_UDP_PORT))
		return XDP_PASS;
	count(MIXED_VERSION);
	return XDP_PASS;
}

/* cgroup_skb sees the packet from its IP header on. */
SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;

	if (skb->protocol != bpf_htons(ETH_P_IP_) || bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) ||
	    ip.protocol != IPPROTO_UDP_ || ip.ihl != 5 ||
	    bpf_skb_load_bytes(skb, sizeof(ip), &udp, sizeof(udp)) ||
	    udp.dest != bpf_htons(MIXED_UDP_PORT))
		return 1;
	count(4 + MIXED_VERSION);
	return 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s;
	__u64 *events;

	if (id != 110)	/* getppid */
		return 0;
	s = uptrkv_open(&uptrkv_store);
	if (!s)
		return 0;
	events = mixed_ptr_events(s);
	if (events)
		__sync_fetch_and_add(events, 1);
	count(8 + MIXED_VERSION);
	return 0;
}

/* raw_tp: the args are (struct pt_regs *regs, long id), untyped. */
SEC("raw_tp/sys_enter")
int on_raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	unsigned long arg0 = 0;

	if (ctx->args[1] != NR_getpgid)
		return 0;
	bpf_probe_read_kernel(&arg0, sizeof(arg0), &regs->di);
	if (arg0 == MIXED_MARK)
		count(12 + MIXED_VERSION);
	return 0;
}

/* Attached by the manifest: uprobe:/path/to/libc.so.6:sendto. */
SEC("uprobe")
int BPF_KPROBE(on_sendto, int fd, const void *buf, unsigned long len, int flags,
	       const struct sockaddr_in *addr)
{
	struct sockaddr_in sin = {};

	if (!addr || bpf_probe_read_user(&sin, sizeof(sin), addr) ||
	    sin.sin_port != bpf_htons(MIXED_UDP_PORT))
		return 0;
	count(16 + MIXED_VERSION);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
