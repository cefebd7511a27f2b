// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * End-to-end test of the admin layer (lib/admin.c, bpf/uptrkv_admin.bpf.c)
 * against real stores of this process's own threads, so every result can
 * be checked against the memory the threads registered.
 *
 *   admin_basic [NR_PERF_THREADS]	(default 1000; 0 skips the timing part)
 *
 * Prints "admin: ..." timing lines; exits 0 when every check passed.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "dump_reg.h"
#include "test_dump.skel.h"
#include "check.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct worker {
	pthread_t th;
	int map_fd;
	unsigned int npages, nkeys;
	__u32 magic;
	bool do_register;
	struct treg reg;
	pid_t tid;
	int err;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, stop;

static __u64 key_val(pid_t tid, __u32 key)
{
	return ((__u64)tid << 32) | (key * 2654435761u);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = syscall(SYS_gettid);
	if (w->do_register) {
		w->err = treg_register(&w->reg, w->map_fd, w->npages, w->magic, UPTRKV_FORMAT);
		for (__u32 k = 0; !w->err && k < w->nkeys; k++) {
			__u64 v = key_val(w->tid, k);

			w->err = treg_put(&w->reg, 0, k, &v, sizeof(v));
		}
	}
	pthread_mutex_lock(&mu);
	ready++;
	pthread_cond_broadcast(&cv);
	while (!stop)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (w->do_register && !w->err)
		treg_unregister(&w->reg, w->map_fd);
	return NULL;
}

static int start_workers(struct worker *w, int n)
{
	pthread_attr_t at;

	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	ready = stop = 0;
	for (int i = 0; i < n; i++)
		if (pthread_create(&w[i].th, &at, worker_main, &w[i]))
			return -1;
	pthread_attr_destroy(&at);
	pthread_mutex_lock(&mu);
	while (ready < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return 0;
}

static void stop_workers(struct worker *w, int n)
{
	pthread_mutex_lock(&mu);
	stop = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < n; i++)
		pthread_join(w[i].th, NULL);
}

static void test_not_a_store(void)
{
	struct uptrkv_error e = {};
	struct uptrkv_admin *a;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "not_store", 4, 88, 1, NULL);
	CHECK(fd >= 0, "create array");
	err = uptrkv_admin__open(fd, NULL, &a, &e);
	CHECK(err == -EINVAL && strstr(e.msg, "not an uptrkv store map"),
	      "array accepted as store: %d %s", err, e.msg);
	close(fd);
}

static bool tid_listed(const struct uptrkv_task_ref *r, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if ((pid_t)r[i].tid == tid)
			return r[i].tgid == (__u32)getpid() && r[i].magic == UPTRKV_MAGIC;
	return false;
}

/*
 * The header-and-metas snapshot a rollout plans from: the same header,
 * metas, regions and seqcounts as the whole one just taken (s; the store
 * is idle), and not one byte of the data pages written.
 */
static void check_snapshot_meta(struct uptrkv_admin *a, const struct worker *w,
				const struct uptrkv_snapshot *s)
{
	struct uptrkv_snapshot *m = malloc(sizeof(*m));
	struct uptrkv_error e = {};
	int err;

	CHECK(m, "malloc");
	if (!m)
		return;
	memset(m, 0xa5, sizeof(*m));
	err = uptrkv_admin__snapshot_meta(a, w->tid, m, &e);
	if (!w->do_register) {
		CHECK(err == -ENOENT, "snapshot_meta of unregistered tid: %d", err);
		goto out;
	}
	CHECK(!err, "snapshot_meta %d: %s", w->tid, e.msg);
	CHECK(m->tid == s->tid && m->present == s->present, "snapshot_meta present 0x%x, not 0x%x",
	      m->present, s->present);
	CHECK(!memcmp(&m->hdr, &s->hdr, sizeof(m->hdr)), "snapshot_meta hdr differs");
	CHECK(!memcmp(m->meta, s->meta, sizeof(m->meta)), "snapshot_meta metas differ");
	CHECK(!memcmp(m->seq_after, s->seq_after, sizeof(m->seq_after)) &&
	      m->struct_seq_after == s->struct_seq_after, "snapshot_meta seqcounts differ");
	for (size_t i = 0; i < sizeof(m->data); i++)
		if (((const __u8 *)m->data)[i] != 0xa5) {
			CHECK(false, "snapshot_meta wrote data byte %zu", i);
			break;
		}
out:
	free(m);
}

static void test_list_snapshot(struct uptrkv_admin *a, struct worker *w, int n,
			       struct uptrkv_snapshot *s)
{
	struct uptrkv_task_ref *r;
	struct uptrkv_error e = {};
	size_t nr;
	int err;

	err = uptrkv_admin__list(a, &r, &nr, &e);
	CHECK(!err, "list: %s", e.msg);
	for (int i = 0; i < n; i++)
		CHECK(tid_listed(r, nr, w[i].tid) == w[i].do_register, "tid %d listed wrongly",
		      w[i].tid);
	free(r);

	for (int i = 0; i < n; i++) {
		err = uptrkv_admin__snapshot(a, w[i].tid, s, &e);
		check_snapshot_meta(a, &w[i], s);
		if (!w[i].do_register) {
			CHECK(err == -ENOENT, "snapshot of unregistered tid: %d", err);
			continue;
		}
		CHECK(!err, "snapshot %d: %s", w[i].tid, e.msg);
		CHECK(!uptrkv_snapshot__check(s, &e), "check: %s", e.msg);
		CHECK(s->present == (0x7u | (((1u << w[i].npages) - 1) << UPTRKV_R_DATA0)),
		      "present 0x%x", s->present);
		CHECK(!memcmp(&s->hdr, w[i].reg.hdr, sizeof(s->hdr)), "hdr differs");
		CHECK(!memcmp(&s->meta[0], w[i].reg.meta[0], 4096), "meta0 differs");
		for (__u32 k = 0; k < w[i].nkeys; k++) {
			const void *p;
			__u32 sz;
			__u64 v;

			err = uptrkv_snapshot__value(s, 0, k, &p, &sz);
			CHECK(!err && sz == 8, "key %u: %d", k, err);
			if (err)
				break;
			memcpy(&v, p, 8);
			CHECK(v == key_val(w[i].tid, k), "key %u value", k);
			CHECK(uptrkv_snapshot__stable(s, k, sz), "key %u unstable", k);
		}
		CHECK(uptrkv_snapshot__value(s, 0, 1023, &(const void *){0}, &(__u32){0}) == -ENOENT,
		      "missing key found");
		CHECK(uptrkv_snapshot__value(s, 1, 0, &(const void *){0}, &(__u32){0}) == -ENOENT,
		      "slot 1 key found");
	}
	err = uptrkv_admin__snapshot(a, 0x3ffffff0, s, &e);
	CHECK(err == -ESRCH && strstr(e.msg, "no such task"), "snapshot of no task: %d %s", err,
	      e.msg);
	err = uptrkv_admin__snapshot_meta(a, 0x3ffffff0, s, &e);
	CHECK(err == -ESRCH, "snapshot_meta of no task: %d %s", err, e.msg);
}

static void test_write(struct uptrkv_admin *a, struct worker *w)
{
	static __u8 src[3 * 4096];
	struct uptrkv_write wr[64];
	struct uptrkv_error e = {};
	struct treg *t = &w->reg;
	__u8 *page = t->data[w->npages - 1]->bytes;
	__u8 want[4096];
	size_t n = 0;
	int err;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = i * 7 + 3;
	memcpy(want, page, sizeof(want));
	/* Every length 1..40 at odd offsets, then big pieces. */
	for (__u16 len = 1, off = 1; len <= 40; off += len + 1, len++) {
		wr[n++] = uptrkv_write__copy(UPTRKV_R_DATA(w->npages - 1), off, src + len, len);
		memcpy(want + off, src + len, len);
	}
	wr[n++] = uptrkv_write__copy(UPTRKV_R_DATA(w->npages - 1), 1024, src + 5, 3071);
	memcpy(want + 1024, src + 5, 3071);
	wr[n++] = uptrkv_write__copy(UPTRKV_R_DATA(w->npages - 2), 0, src + 9, 4096);
	wr[n++] = uptrkv_write__copy(UPTRKV_R_META1, 4092, src, 4);
	wr[n++] = uptrkv_write__store32(UPTRKV_R_META1, 8, UPTRKV_ENT(1, 16, 24));
	wr[n++] = uptrkv_write__add32(UPTRKV_R_HDR, offsetof(struct uptrkv_hdr, seq[7]), 2);
	wr[n++] = uptrkv_write__copy(UPTRKV_R_HDR, offsetof(struct uptrkv_hdr, reserved), src, 28);
	err = uptrkv_admin__write(a, w->tid, wr, n, &e);
	CHECK(!err, "write: %s", e.msg);
	CHECK(!memcmp(page, want, sizeof(want)), "page bytes differ after write");
	CHECK(!memcmp(t->data[w->npages - 2], src + 9, 4096), "whole page write");
	CHECK(!memcmp(t->meta[1]->ent + 1023, src, 4), "meta1 tail write");
	CHECK(t->meta[1]->ent[2] == UPTRKV_ENT(1, 16, 24), "store32");
	CHECK(t->hdr->seq[7] == 2, "add32");
	CHECK(!memcmp(t->hdr->reserved, src, 28), "hdr write");

	/* A batch touching a missing region writes nothing. */
	memcpy(want, page, sizeof(want));
	n = 0;
	wr[n++] = uptrkv_write__copy(UPTRKV_R_DATA(w->npages - 1), 0, src + 100, 64);
	wr[n++] = uptrkv_write__copy(UPTRKV_R_DATA(7), 0, src, 8);
	err = uptrkv_admin__write(a, w->tid, wr, n, &e);
	CHECK(err == -EFAULT, "missing region: %d %s", err, e.msg);
	CHECK(!memcmp(page, want, sizeof(want)), "partial write on -EFAULT");

	/* Bad arguments are refused before anything runs. */
	wr[0] = uptrkv_write__copy(UPTRKV_R_DATA(0), 4000, src, 97);
	CHECK(uptrkv_admin__write(a, w->tid, wr, 1, &e) == -EINVAL, "past page end");
	wr[0] = uptrkv_write__copy(UPTRKV_R_HDR, 2100, src, 13);
	CHECK(uptrkv_admin__write(a, w->tid, wr, 1, &e) == -EINVAL, "past hdr end");
	wr[0] = uptrkv_write__store32(UPTRKV_R_META0, 2, 0);
	CHECK(uptrkv_admin__write(a, w->tid, wr, 1, &e) == -EINVAL, "unaligned store32");
	wr[0] = uptrkv_write__copy(UPTRKV_R_DATA(0), 0, src, 8);
	CHECK(uptrkv_admin__write(a, 0x3ffffff0, wr, 1, &e) == -ESRCH, "write to no task");
}

/* Conditional groups: a write under the key's seqcount that happens only
 * if the bytes are still what the caller expects. */
static void test_write_groups(struct uptrkv_admin *a, struct worker *w)
{
	const __u32 key = 5;
	__u8 region = UPTRKV_R_DATA(w->npages - 1);
	__u8 *page = w->reg.data[w->npages - 1]->bytes;
	__u8 old[40], new[40], other[40];
	struct uptrkv_hdr *h = w->reg.hdr;
	struct uptrkv_write wr[16];
	struct uptrkv_error e = {};
	size_t skipped = 99, busy = 99;
	struct uptrkv_write *big;
	__u32 s0;
	int err;

	memset(old, 0x11, sizeof(old));
	memset(new, 0x22, sizeof(new));
	memset(other, 0x33, sizeof(other));
	memcpy(page + 64, old, sizeof(old));
	s0 = h->seq[5];
	CHECK(s0 % 2 == 0, "seq odd at start");
	wr[0] = uptrkv_write__lock(key);
	wr[1] = uptrkv_write__cmp(region, 64, old, sizeof(old));
	wr[2] = uptrkv_write__copy(region, 64, new, sizeof(new));
	wr[3] = uptrkv_write__unlock();

	/* The bytes are as expected: written, seq taken and released. */
	err = uptrkv_admin__write_groups(a, w->tid, wr, 4, &skipped, &busy, &e);
	CHECK(!err && skipped == 0 && busy == 0, "group: %d, %zu skipped: %s", err, skipped, e.msg);
	CHECK(!memcmp(page + 64, new, sizeof(new)), "group did not write");
	CHECK(h->seq[5] == s0 + 2, "seq %u, want %u", h->seq[5], s0 + 2);

	/* Someone else wrote meanwhile: skipped, their bytes kept. */
	memcpy(page + 64, other, sizeof(other));
	memcpy(page + 64 + 39, "\x34", 1);	/* the last byte alone differs */
	memcpy(other + 39, "\x34", 1);
	err = uptrkv_admin__write_groups(a, w->tid, wr, 4, &skipped, &busy, &e);
	CHECK(!err && skipped == 1 && busy == 0, "changed bytes: %d, %zu skipped, %zu busy", err, skipped, busy);
	CHECK(!memcmp(page + 64, other, sizeof(other)), "a changed value was overwritten");
	CHECK(h->seq[5] == s0 + 4, "seq %u after a skipped compare", h->seq[5]);

	/* A writer holds the seqcount: skipped, the seq left to its owner. */
	memcpy(page + 64, old, sizeof(old));
	__atomic_fetch_add(&h->seq[5], 1, __ATOMIC_SEQ_CST);
	err = uptrkv_admin__write_groups(a, w->tid, wr, 4, &skipped, &busy, &e);
	CHECK(!err && skipped == 1 && busy == 1, "busy seq: %d, %zu skipped, %zu busy", err, skipped, busy);
	CHECK(!memcmp(page + 64, old, sizeof(old)), "written under another writer's seq");
	CHECK(h->seq[5] == s0 + 5, "busy seq moved: %u", h->seq[5]);
	__atomic_fetch_add(&h->seq[5], 1, __ATOMIC_SEQ_CST);

	/* Two groups in one batch; the second one skipped does not stop the
	 * first, nor a plain write after it. */
	wr[4] = uptrkv_write__lock(key + 1);
	wr[5] = uptrkv_write__cmp(region, 128, new, 8);	/* not there */
	wr[6] = uptrkv_write__copy(region, 128, new, 8);
	wr[7] = uptrkv_write__unlock();
	wr[8] = uptrkv_write__copy(region, 256, new, 16);
	memset(page + 128, 0, 8);
	err = uptrkv_admin__write_groups(a, w->tid, wr, 9, &skipped, NULL, &e);
	CHECK(!err && skipped == 1, "two groups: %d, %zu skipped", err, skipped);
	CHECK(!memcmp(page + 64, new, sizeof(new)), "first group");
	CHECK(page[128] == 0, "second group wrote");
	CHECK(!memcmp(page + 256, new, 16), "write after the groups");
	CHECK(h->seq[5] % 2 == 0 && h->seq[6] % 2 == 0, "a lock left behind");

	/* A write that fails inside a group (the expected bytes cannot be
	 * read) fails the batch, and the lock it took is released. */
	s0 = h->seq[5];
	wr[0] = uptrkv_write__lock(key);
	wr[1] = uptrkv_write__cmp(region, 64, (const void *)0x10, 8);
	wr[2] = uptrkv_write__copy(region, 64, new, 8);
	wr[3] = uptrkv_write__unlock();
	err = uptrkv_admin__write(a, w->tid, wr, 4, &e);
	CHECK(err == -EFAULT, "bad compare source: %d %s", err, e.msg);
	CHECK(h->seq[5] == s0 + 2, "lock left behind after a failure: seq %u, was %u", h->seq[5], s0);

	/* Malformed groups are refused before anything runs. */
	CHECK(uptrkv_admin__write(a, w->tid, &wr[3], 1, &e) == -EINVAL, "unlock without lock");
	CHECK(uptrkv_admin__write(a, w->tid, wr, 3, &e) == -EINVAL, "lock without unlock");
	wr[1] = uptrkv_write__lock(key);
	CHECK(uptrkv_admin__write(a, w->tid, wr, 4, &e) == -EINVAL, "nested lock");
	wr[1] = uptrkv_write__cmp(UPTRKV_R_HDR, 0, old, 8);
	CHECK(uptrkv_admin__write(a, w->tid, wr, 4, &e) == -EINVAL, "compare in the header");
	CHECK(h->seq[5] % 2 == 0, "a refused batch took the lock");

	/* A group must fit one program run (8192 writes): one more is refused,
	 * not looped over. */
	big = calloc(8193, sizeof(*big));
	CHECK(big, "calloc");
	if (!big)
		return;
	big[0] = uptrkv_write__lock(key);
	for (int i = 1; i < 8192; i++)
		big[i] = uptrkv_write__copy(region, 64, new, 8);
	big[8192] = uptrkv_write__unlock();
	CHECK(uptrkv_admin__write(a, w->tid, big, 8193, &e) == -E2BIG, "group of 8193: %s", e.msg);
	big[8191] = uptrkv_write__unlock();
	CHECK(uptrkv_admin__write(a, w->tid, big, 8192, &e) == 0, "group of 8192: %s", e.msg);
	CHECK(h->seq[5] % 2 == 0, "the big group left its lock");
	free(big);
}

/* Like a BPF program of a deployment writing its store. */
static void test_bpf_writer(struct test_dump *skel, struct uptrkv_admin *a, struct worker *w,
			    struct uptrkv_snapshot *s)
{
	struct { __s32 tid; __u32 key; __u64 add; } c = { w->tid, 5, 1000 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &c, .ctx_size_in = sizeof(c));
	struct uptrkv_error e = {};
	const void *p;
	__u32 sz;
	__u64 v;

	CHECK(!bpf_prog_test_run_opts(bpf_program__fd(skel->progs.test_dump_bump), &o) &&
	      !o.retval, "bump: %d", (int)o.retval);
	CHECK(!uptrkv_admin__snapshot(a, w->tid, s, &e), "snapshot: %s", e.msg);
	CHECK(!uptrkv_snapshot__value(s, 0, 5, &p, &sz), "key 5");
	memcpy(&v, p, 8);
	CHECK(v == key_val(w->tid, 5) + 1000, "bpf write not seen");
}

static void test_perf(struct uptrkv_admin *a, int map_fd, int n, struct uptrkv_snapshot *s)
{
	struct worker *w = calloc(n, sizeof(*w));
	struct uptrkv_write *wr = calloc(2 * UPTRKV_MAX_KEYS, sizeof(*wr));
	struct uptrkv_task_ref *r = NULL;
	struct uptrkv_error e = {};
	static __u64 vals[UPTRKV_MAX_KEYS];
	double t0, t1, t2, t3, t4;
	size_t nr;
	int err = 0;

	for (int i = 0; i < n; i++)
		w[i] = (struct worker){ .map_fd = map_fd, .npages = 4, .nkeys = UPTRKV_MAX_KEYS,
					.magic = UPTRKV_MAGIC, .do_register = true };
	if (start_workers(w, n)) {
		CHECK(0, "cannot start %d threads", n);
		goto out;
	}
	for (int i = 0; i < n; i++)
		CHECK(!w[i].err, "register: %d", w[i].err);
	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++)
		vals[k] = ~(__u64)k;
	/* A migration: every key copied to pages 2-3 and published in meta 1. */
	t0 = now();
	err = uptrkv_admin__list(a, &r, &nr, &e);
	CHECK(!err && nr >= (size_t)n, "list %zu: %s", nr, e.msg);
	t1 = now();
	for (int i = 0; i < n && !err; i++) {
		size_t m = 0;

		for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++) {
			__u32 page = 2 + k / 512, off = (k % 512) * 8;

			wr[m++] = uptrkv_write__copy(UPTRKV_R_DATA(page), off, &vals[k], 8);
			wr[m++] = uptrkv_write__store32(UPTRKV_R_META1, k * 4,
							UPTRKV_ENT(page, off, 8));
		}
		err = uptrkv_admin__write(a, w[i].tid, wr, m, &e);
		CHECK(!err, "perf write: %s", e.msg);
	}
	t2 = now();
	for (int i = 0; i < n && !err; i++) {
		err = uptrkv_admin__snapshot(a, w[i].tid, s, &e);
		CHECK(!err, "perf snapshot: %s", e.msg);
	}
	t3 = now();
	for (int i = 0; i < n && !err; i++) {
		err = uptrkv_admin__snapshot_meta(a, w[i].tid, s, &e);
		CHECK(!err, "perf snapshot_meta: %s", e.msg);
	}
	t4 = now();
	for (int i = 0; i < n && !err; i++) {
		__u64 v;

		memcpy(&v, w[i].reg.data[3]->bytes + 4088, 8);
		CHECK(v == ~(__u64)1023 && w[i].reg.meta[1]->ent[1023] == UPTRKV_ENT(3, 4088, 8),
		      "perf write not applied");
	}
	printf("admin: list of %zu tasks: %.1f ms\n", nr, (t1 - t0) * 1e3);
	printf("admin: write %d threads x %u keys (value + meta entry): %.1f ms\n", n,
	       UPTRKV_MAX_KEYS, (t2 - t1) * 1e3);
	printf("admin: snapshot %d threads: %.1f ms\n", n, (t3 - t2) * 1e3);
	printf("admin: snapshot_meta (header and metas) %d threads: %.1f ms\n", n, (t4 - t3) * 1e3);
	stop_workers(w, n);
out:
	free(r);
	free(wr);
	free(w);
}

int main(int argc, char **argv)
{
	int nperf = argc > 1 ? atoi(argv[1]) : 1000;
	struct worker w[6] = {};
	struct uptrkv_snapshot *s = calloc(1, sizeof(*s));
	struct uptrkv_error e = {};
	struct uptrkv_admin *a = NULL;
	struct test_dump *skel;
	int map_fd, err;

	skel = test_dump__open_and_load();
	if (!skel) {
		fprintf(stderr, "loading test_dump: %s\n", strerror(errno));
		return 1;
	}
	map_fd = bpf_map__fd(skel->maps.uptrkv_store);
	test_not_a_store();
	err = uptrkv_admin__open(map_fd, NULL, &a, &e);
	CHECK(!err, "admin open: %s", e.msg);
	if (err)
		goto out;
	for (int i = 0; i < 6; i++)
		w[i] = (struct worker){ .map_fd = map_fd, .npages = 2 + i, .nkeys = 100 + i,
					.magic = UPTRKV_MAGIC, .do_register = i != 3 };
	start_workers(w, 6);
	for (int i = 0; i < 6; i++)
		CHECK(!w[i].err, "register %d: %s", i, strerror(-w[i].err));
	test_list_snapshot(a, w, 6, s);
	test_write(a, &w[5]);
	test_write_groups(a, &w[5]);
	test_bpf_writer(skel, a, &w[4], s);
	stop_workers(w, 6);
	if (nperf > 0)
		test_perf(a, map_fd, nperf, s);
out:
	uptrkv_admin__close(a);
	test_dump__destroy(skel);
	free(s);
	return check_summary("admin");
}
