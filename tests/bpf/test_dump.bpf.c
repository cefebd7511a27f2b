// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test object for the admin and dump tests: declares a store map exactly as
 * user programs do, and one program that writes into a task's store the
 * way a deployed BPF program would (a single-word add through meta slot 0).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifndef __uptr
#define __uptr __attribute__((btf_type_tag("uptr")))
#endif
#include "uptrkv_layout.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

UPTRKV_STORE_MAP(uptrkv_store);
UPTRKV_BTF_COMPLETE(test_dump_);

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

struct test_dump_bump_ctx {
	__s32 tid;
	__u32 key;
	__u64 add;
};

static __always_inline struct uptrkv_page *page_of(struct uptrkv_task_store *st, __u32 i)
{
	switch (i) {
	case 0: return st->data[0];
	case 1: return st->data[1];
	case 2: return st->data[2];
	case 3: return st->data[3];
	case 4: return st->data[4];
	case 5: return st->data[5];
	case 6: return st->data[6];
	case 7: return st->data[7];
	}
	return NULL;
}

/* Adds c->add to the 8-byte value of c->key in tid's store (meta slot 0). */
SEC("syscall")
int test_dump_bump(struct test_dump_bump_ctx *c)
{
	struct uptrkv_task_store *st;
	struct task_struct *task;
	struct uptrkv_meta *m;
	struct uptrkv_page *pg;
	__u32 ent, off;
	int err = -2;

	task = bpf_task_from_pid(c->tid);
	if (!task)
		return -3;
	st = bpf_task_storage_get(&uptrkv_store, task, 0, 0);
	if (!st)
		goto out;
	m = st->meta[0];
	if (!m)
		goto out;
	ent = m->ent[c->key & (UPTRKV_MAX_KEYS - 1)];
	if (!UPTRKV_ENT_IS_VALID(ent) || UPTRKV_ENT_SIZE(ent) != 8)
		goto out;
	pg = page_of(st, UPTRKV_ENT_PAGE(ent));
	off = UPTRKV_ENT_OFF(ent);
	if (!pg || off > UPTRKV_PAGE_SIZE - 8)
		goto out;
	__sync_fetch_and_add((__u64 *)((void *)pg + off), c->add);
	err = 0;
out:
	bpf_task_release(task);
	return err;
}
