// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stress test's non-sleepable reader (tests/e2e/store_stress.c): a
 * tp_btf program, loaded with uptrkv_sleepable = 0 as uptrkv's loader does,
 * so its 1/2/4/8-byte gets skip the entry re-check and rely on the
 * quarantine's grace period alone. It fires on the syscalls of one reader
 * thread, opens the writer thread's store and reads the 8-byte keys while
 * the writer rewrites them and keeps deleting and re-creating K_G. A value
 * read from an extent that another key had meanwhile (or a filler's zeros)
 * fails its check: hi32 == ~lo32.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"

#define K_A	1	/* page 0, read through the store pointer */
#define K_F	6	/* outside page 0 */
#define K_G	7	/* deleted and re-created all the time */
#define READS	64	/* per event */

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

__u32 reader_tid, writer_tid;
__u64 ok[8], torn[8], noent[8], runs;
/* K_G through a pointer held for HOLD_NS: whatever happens to the key
 * meanwhile, the bytes must stay K_G's until the run ends. */
__u64 held_ok, held_bad, held_none;
#define HOLD_NS	20000

struct read_loop {
	struct uptrkv_ctx kv;
};

static __always_inline void check(int key, int r, __u64 v)
{
	if (r == 8 && (__u32)(v >> 32) == (__u32)~v)
		__sync_fetch_and_add(&ok[key], 1);
	else if (r == -ENOENT)
		__sync_fetch_and_add(&noent[key], 1);
	else
		__sync_fetch_and_add(&torn[key], 1);
}

static int one(__u32 i, struct read_loop *l)
{
	__u64 v = 0;
	int r;

	r = uptrkv_get(l->kv.s, K_A, &v, 8);
	check(K_A, r, v);
	r = uptrkv_get(&l->kv, K_F, &v, 8);
	check(K_F, r, v);
	r = uptrkv_get(&l->kv, K_G, &v, 8);
	check(K_G, r, v);
	return 0;
}

static int spin(__u32 i, __u64 *t0)
{
	return bpf_ktime_get_ns() - *t0 > HOLD_NS;
}

/*
 * The claim under test (docs/store.md): in a non-sleepable run, a value's
 * extent is not reused before the run ends, so a pointer (or a get without
 * re-check) never shows another key's bytes. The writer deletes K_G and at
 * once creates K_H, with a value that fails the check, where the allocator
 * would put it; only the quarantine keeps that place from being K_G's old
 * one. The hold makes the window thousands of times longer than a get's.
 */
static __always_inline void held_read(struct read_loop *l)
{
	__u64 *p = uptrkv_ptr(&l->kv, K_G, 8);
	__u64 t0 = bpf_ktime_get_ns(), v;

	if (!p) {
		__sync_fetch_and_add(&held_none, 1);
		return;
	}
	bpf_loop(1 << 20, spin, &t0, 0);
	v = UPTRKV_READ_ONCE(*p);
	__sync_fetch_and_add((__u32)(v >> 32) == (__u32)~v ? &held_ok : &held_bad, 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(fast_reader, struct pt_regs *regs, long id)
{
	struct read_loop l;
	struct task_struct *task;

	if ((__u32)bpf_get_current_pid_tgid() != reader_tid || !writer_tid)
		return 0;
	task = bpf_task_from_pid(writer_tid);
	if (!task)
		return 0;
	if (uptrkv_open_task_ctx(&l.kv, &uptrkv_store, task)) {
		bpf_loop(READS, one, &l, 0);
		if (runs % 16 == 0)
			held_read(&l);
		__sync_fetch_and_add(&runs, 1);
	}
	bpf_task_release(task);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
