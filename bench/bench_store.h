/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Benchmarks of BPF-side store access (bench/bench_store.c), shared by
 * two objects: bench_store.bpf.c runs them as raw_tp programs (non-sleepable,
 * like every hook uptrkv deploys), bench_store_sleepable.bpf.c as
 * SEC("syscall") programs (sleepable). Each object defines BENCH_SEC first.
 *
 * Every program is run with bpf_prog_test_run_opts by a thread that has a
 * registered store; it does the task-storage lookup once per run, then
 * bpf_loop(ctx[0]) with one operation per iteration. Every program runs the
 * same setup, so they differ only in the callback.
 *
 * Where the values live (the harness creates them in this order): the 4 KiB
 * key in the last data page, as values over 8 bytes fill from the top; the
 * 8-byte key K_8 in page 0, where small values go first; then 511 more
 * 8-byte keys fill page 0, so the 8-byte key K_FAR lands in page 1 and
 * shows a get that has to choose its page.
 */
#ifndef __BENCH_STORE_H
#define __BENCH_STORE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uptrkv.bpf.h"
#include "bench_tld.h"

#define K_8	1
#define K_4K	2
#define K_FAR	600

/* A plain struct in task storage: the physical limit for an 8-byte get. */
struct direct {
	__u64 v[8];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct direct);
} direct_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

/* The two other stores a user might pick: a hash keyed by tid, and a
 * TLD-style one (bench/bench_tld.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} tid_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bench_tld_elem);
} tld_data SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bench_tld_keys);
} tld_keys SEC(".maps");

/* The pointees must be complete in BTF, not only behind the uptr tag. */
struct bench_tld_meta *bench_tld_btf_meta SEC(".bss");
struct bench_tld_data *bench_tld_btf_data SEC(".bss");

struct buf {
	__u8 b[4096];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct buf);
} scratch SEC(".maps");

__u64 sink;
int err;

struct lctx {
	struct uptrkv_ctx kv;		/* uptrkv_open_ctx: store + meta */
	struct uptrkv_task_store *s;	/* uptrkv_open: the same store */
	struct direct *d;
	struct buf *buf;
	void *src;
	__u64 sum;
	__u32 key;
};

static int cb_empty(__u32 i, struct lctx *c)
{
	c->sum += i;
	return 0;
}

static int cb_direct(__u32 i, struct lctx *c)
{
	c->sum += UPTRKV_READ_ONCE(c->d->v[1]);
	return 0;
}

static int cb_kv8(__u32 i, struct lctx *c)
{
	__u64 v;

	if (uptrkv_get(&c->kv, K_8, &v, 8) != 8) {
		err = 1;
		return 1;
	}
	c->sum += v;
	return 0;
}

/* An 8-byte value outside page 0: the general path, which picks the page. */
static int cb_kv8_far(__u32 i, struct lctx *c)
{
	__u64 v;

	if (uptrkv_get(&c->kv, K_FAR, &v, 8) != 8) {
		err = 7;
		return 1;
	}
	c->sum += v;
	return 0;
}

/* The same get through the store-pointer handle of uptrkv_open. */
static int cb_kv8_s(__u32 i, struct lctx *c)
{
	__u64 v;

	if (uptrkv_get(c->s, K_8, &v, 8) != 8) {
		err = 6;
		return 1;
	}
	c->sum += v;
	return 0;
}

static int cb_kv8_ptr(__u32 i, struct lctx *c)
{
	__u64 *p = uptrkv_ptr(&c->kv, K_8, 8);

	if (!p) {
		err = 2;
		return 1;
	}
	c->sum += UPTRKV_READ_ONCE(*p);
	return 0;
}

/*
 * What a hook pays per run, the lookup included: uptrkv_open_ctx and an
 * 8-byte get, against bpf_task_storage_get and a field of its value (the
 * baseline a user would otherwise write).
 */
static int cb_hook_direct(__u32 i, struct lctx *c)
{
	struct direct *d = bpf_task_storage_get(&direct_store, bpf_get_current_task_btf(), 0, 0);

	if (!d) {
		err = 12;
		return 1;
	}
	c->sum += UPTRKV_READ_ONCE(d->v[1]);
	return 0;
}

static int cb_hook_kv8(__u32 i, struct lctx *c)
{
	struct uptrkv_ctx kv;
	__u64 v;

	if (!uptrkv_open_ctx(&kv, &uptrkv_store) || uptrkv_get(&kv, K_8, &v, 8) != 8) {
		err = 13;
		return 1;
	}
	c->sum += v;
	return 0;
}

/* The floor of any store behind a meta page: the element, its meta and
 * page-0 pointers, the entry, the value, with only the NULL tests the
 * verifier needs (no magic, format or layout check, no entry check). */
static int cb_hook_floor(__u32 i, struct lctx *c)
{
	struct uptrkv_task_store *s = bpf_task_storage_get(&uptrkv_store, bpf_get_current_task_btf(), 0, 0);
	struct uptrkv_meta *m;
	struct uptrkv_page *p0;
	__u32 e;

	/* asm goto, as the header's tests: the success path falls through */
	asm goto("if %[s] == 0 goto %l[fail]" :: [s] "r"(s) :: fail);
	m = s->meta[0];
	p0 = s->data[0];
	asm goto("if %[m] == 0 goto %l[fail]\n\t"
		 "if %[p] == 0 goto %l[fail]" :: [m] "r"(m), [p] "r"(p0) :: fail);
	e = UPTRKV_READ_ONCE(m->ent[K_8]);
	c->sum += UPTRKV_READ_ONCE(*(__u64 *)((void *)p0 + ((e >> 10) & 0xff8)));
	return 0;
fail:
	err = 17;
	return 1;
}

/* A hash keyed by the thread's id: the lookup is the whole cost. */
static int cb_hook_tidhash(__u32 i, struct lctx *c)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *v = bpf_map_lookup_elem(&tid_hash, &tid);

	if (!v) {
		err = 14;
		return 1;
	}
	c->sum += *v;
	return 0;
}

/* The name the harness gives the 8-byte key; in .rodata, as bpf_strncmp
 * wants its constant string. */
static const char tld_name_k8[] = "k8";

/* The offset + 1 of a name in the meta page, 0 if absent: once per task. */
static __noinline int tld_resolve(struct bench_tld_meta *meta)
{
	__u32 off = 0, cnt;

	if (!meta)
		return 0;
	cnt = meta->cnt;
	for (int i = 0; i < BENCH_TLD_MAX; i++) {
		if (i >= cnt)
			break;
		if (!bpf_strncmp(meta->ent[i].name, sizeof(tld_name_k8), tld_name_k8))
			return off + 1;
		off += meta->ent[i].size;
	}
	return 0;
}

/* TLD-style object init (both task-storage lookups) and an 8-byte get
 * through the cached offset, as a hook would run them. */
static int cb_hook_tld(__u32 i, struct lctx *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bench_tld_elem *e = bpf_task_storage_get(&tld_data, task, 0, 0);
	struct bench_tld_keys *k = bpf_task_storage_get(&tld_keys, task, 0,
							BPF_LOCAL_STORAGE_GET_F_CREATE);
	struct bench_tld_data *d;
	__u32 off;

	if (!e || !k) {
		err = 15;
		return 1;
	}
	off = k->off[0];
	if (!off) {
		off = tld_resolve(e->meta);
		k->off[0] = off;
	}
	d = e->data;
	off -= 1;
	if (!d || off > sizeof(d->b) - 8) {
		err = 16;
		return 1;
	}
	c->sum += *(__u64 *)&d->b[off];
	return 0;
}

static int cb_hash(__u32 i, struct lctx *c)
{
	__u64 *v = bpf_map_lookup_elem(&hash, &c->key);

	if (!v) {
		err = 3;
		return 1;
	}
	c->sum += *v;
	return 0;
}

static int cb_kv4k(__u32 i, struct lctx *c)
{
	if (uptrkv_get(&c->kv, K_4K, c->buf->b, 4096) != 4096) {
		err = 4;
		return 1;
	}
	c->sum += c->buf->b[i & 4095];
	return 0;
}

static int cb_kv4k_var(__u32 i, struct lctx *c)
{
	if (uptrkv_get_var(&c->kv, K_4K, c->buf->b, sizeof(c->buf->b)) != 4096) {
		err = 5;
		return 1;
	}
	c->sum += c->buf->b[i & 4095];
	return 0;
}

static int cb_probe4k(__u32 i, struct lctx *c)
{
	bpf_probe_read_kernel(c->buf->b, 4096, c->src);
	c->sum += c->buf->b[i & 4095];
	return 0;
}

static __always_inline int setup(struct lctx *c)
{
	int zero = 0;

	c->key = K_8;
	c->buf = bpf_map_lookup_elem(&scratch, &zero);
	c->d = bpf_task_storage_get(&direct_store, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!uptrkv_open_ctx(&c->kv, &uptrkv_store))
		c->kv.s = NULL;
	c->s = c->kv.s;
	if (!c->buf || !c->d || !c->s) {
		err = 10;
		return -1;
	}
	/* Each row measures what its name says only if the values are where
	 * the header comment puts them. */
	if (UPTRKV_ENT_PAGE(c->kv.m->ent[K_8]) != 0 || UPTRKV_ENT_PAGE(c->kv.m->ent[K_FAR]) != 1 ||
	    UPTRKV_ENT_PAGE(c->kv.m->ent[K_4K]) != UPTRKV_MAX_PAGES - 1) {
		err = 11;
		return -1;
	}
	return 0;
}

/* ctx[0] is the iteration count: raw_tp programs read their context only
 * as u64 words. */
#define BENCH(name, cb)						\
SEC(BENCH_SEC)							\
int name(__u64 *ctx)						\
{								\
	struct lctx c = {};					\
								\
	if (setup(&c))						\
		return 1;					\
	bpf_loop((__u32)ctx[0], cb, &c, 0);			\
	sink += c.sum;						\
	return 0;						\
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#endif /* __BENCH_STORE_H */
