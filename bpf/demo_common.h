/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the demo program versions bpf/demo_v{1,2,3}.bpf.c. Each version
 * handles getppid() from registered threads, the workload's "event":
 *   sys_enter  counts the event in key 1 (unchanged in every version) and
 *              stamps its version number in key 9 (version_seen);
 *   sys_exit   checks the stamp: a different version here means the event's
 *              two halves ran different versions (counted in demo_stats).
 * Because the count is exact, the workload can check after every event that
 * exactly one program handled it: a lost or doubled event shows at once.
 * A version's file defines DEMO_VERSION, includes this, and defines its
 * on_enter (or DEMO_ENTER_COUNTS_TX for the shared one of v2 and v3);
 * on_exit is the same in every version.
 */
#ifndef __DEMO_COMMON_H
#define __DEMO_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

#define DEMO_NR_TRIGGER		110	/* getppid */
#define DEMO_KEY_EVENTS		1
#define DEMO_KEY_LAST_SYSCALL	2
#define DEMO_KEY_VERSION_SEEN	9

/* Shared by every version (pinned once, reused by name). */
enum demo_stat {
	DEMO_STAT_EVENTS_V1 = 1,	/* DEMO_STAT_EVENTS_V1 + v - 1: events per version */
	DEMO_STAT_STRADDLE = 8,		/* enter and exit of one event saw two versions */
	DEMO_STAT_NO_STORE = 9,		/* trigger from a thread with no usable store */
	DEMO_STAT_MAX = 16,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEMO_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} demo_stats SEC(".maps");

static __always_inline void demo_stat_add(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&demo_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* The part of sys_enter every version shares. Returns the store or NULL. */
static __always_inline struct uptrkv_task_store *demo_enter(long id, __u32 version)
{
	struct uptrkv_task_store *s;
	__u64 *events;
	__u32 v32 = version, nr = id;

	if (id != DEMO_NR_TRIGGER)
		return NULL;
	s = uptrkv_open(&uptrkv_store);
	if (!s) {
		demo_stat_add(DEMO_STAT_NO_STORE);
		return NULL;
	}
	events = uptrkv_ptr(s, DEMO_KEY_EVENTS, 8);
	if (events)
		__sync_fetch_and_add(events, 1);
	uptrkv_put(s, DEMO_KEY_VERSION_SEEN, &v32, 4);
	uptrkv_put(s, DEMO_KEY_LAST_SYSCALL, &nr, 4);
	demo_stat_add(DEMO_STAT_EVENTS_V1 + version - 1);
	return s;
}

static __always_inline void demo_exit(long ret, __u32 version)
{
	struct uptrkv_task_store *s;
	__u32 seen;

	(void)ret;
	s = uptrkv_open(&uptrkv_store);
	if (!s)
		return;
	if (uptrkv_get(s, DEMO_KEY_VERSION_SEEN, &seen, 4) == 4 && seen != version)
		demo_stat_add(DEMO_STAT_STRADDLE);
}

/* Counts an event in tx_bytes (key 7, added in v2). */
static __always_inline void demo_count_tx(struct uptrkv_task_store *s)
{
	__u64 *tx = uptrkv_ptr(s, 7, 8);

	if (tx)
		*tx += 1;
}

#ifdef DEMO_ENTER_COUNTS_TX
/* v2 and v3: count each event in tx_bytes too. */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s = demo_enter(id, DEMO_VERSION);

	if (s)
		demo_count_tx(s);
	return 0;
}
#endif

SEC("tp_btf/sys_exit")
int BPF_PROG(on_exit, struct pt_regs *regs, long ret)
{
	if (regs->orig_ax == DEMO_NR_TRIGGER)
		demo_exit(ret, DEMO_VERSION);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#endif
