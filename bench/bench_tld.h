/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A TLD-style store for the per-hook-run benchmark (bench/bench_store.h,
 * bench/bench_store.c), written here from the public description of
 * the kernel selftests' task local data (tools/testing/selftests/bpf/
 * prog_tests/task_local_data.h): keys are names; one meta page per process
 * lists {name, size} in creation order, and a value's offset in the
 * thread's data page is the sum of the sizes before it. A task-storage
 * element points at both pages (uptr). BPF resolves a name to its offset
 * with string compares once per task, keeps it in a second task-storage
 * map, and each hook run then looks both elements up and loads data + off.
 * Shared by the BPF side and the harness.
 */
#ifndef __BENCH_TLD_H
#define __BENCH_TLD_H

#ifndef __bpf__
#include <linux/types.h>
#endif
#ifndef __uptr
#define __uptr __attribute__((btf_type_tag("uptr")))
#endif

#define BENCH_TLD_NAME_LEN	62
#define BENCH_TLD_MAX		63	/* entries in the meta page */
#define BENCH_TLD_KEYS		8	/* offsets one program caches */

struct bench_tld_ent {
	char name[BENCH_TLD_NAME_LEN];
	__u16 size;
};

struct bench_tld_meta {
	__u32 cnt;
	__u32 rsvd;
	struct bench_tld_ent ent[BENCH_TLD_MAX];
};

struct bench_tld_data {
	__u8 b[4096];
};

/* The task-storage value the harness registers for its thread. */
struct bench_tld_elem {
	struct bench_tld_meta __uptr *meta;
	struct bench_tld_data __uptr *data;
};

/* Per task, BPF's cache of resolved offsets: offset + 1, 0 if not yet. */
struct bench_tld_keys {
	__u16 off[BENCH_TLD_KEYS];
};

#endif
