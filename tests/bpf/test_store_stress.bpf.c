// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Stress reader for tests/e2e/store_stress.c. A SEC("syscall") program,
 * run in a loop from another thread, opens the writer thread's store
 * (bpf_task_from_pid + bpf_task_storage_get) and reads values that carry
 * their own checksum while the writer keeps rewriting them. It counts torn
 * values (must stay 0) and successful reads, and writes key K_D (with a
 * checksum) for the user-side reader. K_A is read through the store
 * pointer, K_F and K_G through a uptrkv_ctx: K_A from page 0 (the fast
 * path), K_F from another page, K_G wherever its last re-creation put it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uptrkv.bpf.h"

#define K_A	1	/* 8 B: hi32 == ~lo32 */
#define K_B	2	/* 64 B: 8 words, w[7] = csum(w[0..6]) (inline copy) */
#define K_C	3	/* 1000 B: 125 words, w[124] = csum (probe_read copy) */
#define K_D	4	/* 48 B: written by BPF, 6 words, w[5] = csum */
#define K_E	5	/* 16 B: deleted and re-created by the writer; w[1] = ~w[0] */
#define K_F	6	/* 8 B as K_A, outside data page 0: the get picks its page */
#define K_G	7	/* 8 B as K_A, deleted and re-created: it moves between pages */
#define C_WORDS	125

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

struct args {
	__u32 tid;
	__u32 iters;
};

__u64 ok[8], torn[8], again[8], noent[8], busy, no_store, writes;
/* Where K_F and K_G were found (their entry's page): 0 or another page. */
__u64 f_page0, f_far, g_page0, g_far;

struct bufs {
	__u64 c[C_WORDS];
	__u64 w[8], d[6], e[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct bufs);
} scratch SEC(".maps");

struct loop_ctx {
	struct uptrkv_ctx kv;		/* K_F and K_G go through the ctx handle */
	struct uptrkv_task_store *s;
	struct bufs *b;
	__u64 n;
};

static __always_inline __u64 csum(const __u64 *w, int n)
{
	__u64 c = 0x9e3779b97f4a7c15ull;
	int i;

	for (i = 0; i < n; i++)
		c = (c ^ w[i]) * 0x100000001b3ull;
	return c;
}

static __always_inline void count(int key, int r, int want, bool good)
{
	if (r == want) {
		if (good)
			__sync_fetch_and_add(&ok[key], 1);
		else
			__sync_fetch_and_add(&torn[key], 1);
	} else if (r == -EAGAIN) {
		__sync_fetch_and_add(&again[key], 1);
	} else if (r == -ENOENT) {
		__sync_fetch_and_add(&noent[key], 1);
	} else {
		/* any other result is as bad as a torn value */
		__sync_fetch_and_add(&torn[key], 1);
	}
}

static int one(__u32 i, struct loop_ctx *c)
{
	struct uptrkv_task_store *s = c->s;
	struct bufs *b = c->b;
	__u64 a, *w = b->w, *d = b->d, *e = b->e;
	int r;

	r = uptrkv_get(s, K_A, &a, 8);
	count(K_A, r, 8, (__u32)(a >> 32) == (__u32)~a);

	r = uptrkv_get(s, K_B, w, sizeof(b->w));
	count(K_B, r, 64, r == 64 && w[7] == csum(w, 7));

	r = uptrkv_get(s, K_C, b->c, sizeof(b->c));
	count(K_C, r, sizeof(b->c), r == sizeof(b->c) && b->c[C_WORDS - 1] == csum(b->c, C_WORDS - 1));

	r = uptrkv_get(s, K_E, e, sizeof(b->e));
	count(K_E, r, 16, r == 16 && e[1] == ~e[0]);
	r = uptrkv_get(&c->kv, K_F, &a, 8);
	count(K_F, r, 8, (__u32)(a >> 32) == (__u32)~a);
	__sync_fetch_and_add(UPTRKV_ENT_PAGE(c->kv.m->ent[K_F]) ? &f_far : &f_page0, 1);
	r = uptrkv_get(&c->kv, K_G, &a, 8);
	count(K_G, r, 8, (__u32)(a >> 32) == (__u32)~a);
	__sync_fetch_and_add(UPTRKV_ENT_PAGE(c->kv.m->ent[K_G]) ? &g_far : &g_page0, 1);

	c->n++;
	d[0] = c->n;
	d[1] = a;
	d[2] = w[0];
	d[3] = i;
	d[4] = bpf_ktime_get_ns();
	d[5] = csum(d, 5);
	r = uptrkv_put(s, K_D, d, sizeof(b->d));
	if (r == sizeof(b->d))
		__sync_fetch_and_add(&writes, 1);
	else if (r == -EBUSY)
		__sync_fetch_and_add(&busy, 1);
	return 0;
}

SEC("syscall")
int reader(struct args *args)
{
	struct loop_ctx c = {};
	struct task_struct *task;
	int zero = 0;

	c.b = bpf_map_lookup_elem(&scratch, &zero);
	if (!c.b)
		return 0;
	task = bpf_task_from_pid(args->tid);
	if (!task)
		return -3; /* ESRCH */
	c.s = uptrkv_open_task_ctx(&c.kv, &uptrkv_store, task) ? c.kv.s : NULL;
	if (!c.s) {
		__sync_fetch_and_add(&no_store, 1);
		bpf_task_release(task);
		return -ENOENT;
	}
	bpf_loop(args->iters, one, &c, 0);
	bpf_task_release(task);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
