// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Stress: one thread keeps rewriting values that carry their own checksum
 * (8 B atomic, 64 B inline copy, 1000 B probe_read copy) and keeps deleting
 * and re-creating a fourth key, while a SEC("syscall") program run in a loop
 * from another thread reads them through bpf_task_from_pid. BPF counts torn
 * values (must be 0) and good reads (must be > 0). BPF also writes a
 * checksummed value that the writer thread reads back (user-side tearing).
 *   store_stress BPFFS_DIR [SECONDS]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "uptrkv.h"
#include "test_store_stress.skel.h"
#include "test_store_stress_fast.skel.h"
#include "check.h"

#define K_A	1
#define K_B	2
#define K_C	3
#define K_D	4
#define K_E	5
#define K_F	6
#define K_G	7
#define K_H	8
#define FILL0	100	/* keys FILL0.. fill the rest of data page 0 */
#define C_WORDS	125

static struct test_store_stress *skel;
static struct test_store_stress_fast *fast;
static struct uptrkv_store *store;
static volatile int stop, writer_ready;
static volatile pid_t writer_tid;
static double seconds = 3;
static unsigned long long user_iters, user_d_ok, user_d_torn, user_d_other, user_d_again, e_cycles, user_errs;
static unsigned long long bpf_runs, bpf_run_errs;

static __u64 csum(const __u64 *w, int n)
{
	__u64 c = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < n; i++)
		c = (c ^ w[i]) * 0x100000001b3ull;
	return c;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *writer(void *arg)
{
	/* 8-byte values fill data page 0 first: K_A and K_G, then 510
	 * fillers, so that K_F goes to page 1 */
	struct uptrkv_init_key keys[6 + 510 + 1] = { { K_A, 8, NULL }, { K_B, 64, NULL },
		{ K_C, 1000, NULL }, { K_D, 48, NULL }, { K_E, 16, NULL }, { K_G, 8, NULL } };
	UPTRKV_OPTS(uptrkv_thread_opts, o, .keys = keys, .nr_keys = sizeof(keys) / sizeof(keys[0]));
	struct uptrkv_error err = {};
	struct uptrkv_thread *t;
	__u64 a, b[8], c[C_WORDS], d[6], e[2];
	__u64 n = 0;

	(void)arg;
	for (int i = 0; i < 510; i++)
		keys[6 + i] = (struct uptrkv_init_key){ FILL0 + i, 8, NULL };
	keys[6 + 510] = (struct uptrkv_init_key){ K_F, 8, NULL };
	if (uptrkv_thread__register(store, &o, &t, &err)) {
		fprintf(stderr, "register: %s\n", err.msg);
		user_errs++;
		writer_ready = -1;
		return NULL;
	}
	/* valid initial values */
	memset(b, 0, sizeof(b)); b[7] = csum(b, 7);
	memset(c, 0, sizeof(c)); c[C_WORDS - 1] = csum(c, C_WORDS - 1);
	e[0] = 0; e[1] = ~0ull;
	a = 0xffffffff00000000ull;
	if (uptrkv_thread__put(t, K_A, &a, 8) || uptrkv_thread__put(t, K_B, b, 64) ||
	    uptrkv_thread__put(t, K_C, c, sizeof(c)) || uptrkv_thread__put(t, K_E, e, 16) ||
	    uptrkv_thread__put(t, K_F, &a, 8) || uptrkv_thread__put(t, K_G, &a, 8))
		user_errs++;
	writer_tid = gettid();
	writer_ready = 1;
	while (!stop) {
		n++;
		a = ((__u64)(~(__u32)n) << 32) | (__u32)n;
		for (int i = 0; i < 7; i++)
			b[i] = n * 0x1000193 + i;
		b[7] = csum(b, 7);
		for (int i = 0; i < C_WORDS - 1; i++)
			c[i] = n ^ ((__u64)i << 40);
		c[C_WORDS - 1] = csum(c, C_WORDS - 1);
		if (uptrkv_thread__put(t, K_A, &a, 8) || uptrkv_thread__put(t, K_B, b, 64) ||
		    uptrkv_thread__put(t, K_C, c, sizeof(c)) || uptrkv_thread__put(t, K_F, &a, 8))
			user_errs++;
		/* structural changes under the reader: delete + re-create */
		if (n % 16 == 0) {
			if (uptrkv_thread__delete(t, K_E))
				user_errs++;
			e[0] = n;
			e[1] = ~n;
			if (uptrkv_thread__put(t, K_E, e, 16))
				user_errs++;
			/* K_H, created right after K_G's delete, would take K_G's
			 * place but for the quarantine; its value fails the check */
			__u64 h = n * 0x0000000100000001ull;

			if (uptrkv_thread__delete(t, K_G) || uptrkv_thread__put(t, K_H, &h, 8) ||
			    uptrkv_thread__delete(t, K_H) || uptrkv_thread__put(t, K_G, &a, 8))
				user_errs++;
			e_cycles++;
		}
		int r = uptrkv_thread__get(t, K_D, d, sizeof(d));

		if (r == sizeof(d)) {
			if (d[0] == 0 && d[5] == 0)
				;	/* not written by BPF yet */
			else if (d[5] == csum(d, 5))
				user_d_ok++;
			else
				user_d_torn++;
		} else if (r == -EAGAIN) {
			user_d_again++;	/* documented; BPF rewrote it 10000 times */
		} else {
			user_d_other++;
		}
	}
	user_iters = n;
	uptrkv_thread__unregister(t);
	return NULL;
}

/* Syscalls, each one a run of the non-sleepable tp_btf reader. */
static void *fast_reader(void *arg)
{
	(void)arg;
	fast->bss->reader_tid = gettid();
	while (!stop)
		syscall(SYS_getppid);
	return NULL;
}

static void *reader(void *arg)
{
	struct { __u32 tid, iters; } args = { writer_tid, 1000 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &args, .ctx_size_in = sizeof(args));
	int fd = bpf_program__fd(skel->progs.reader);

	(void)arg;
	while (!stop) {
		if (bpf_prog_test_run_opts(fd, &o) || o.retval)
			bpf_run_errs++;
		bpf_runs++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_error err = {};
	pthread_t w, r, fr;
	unsigned long long torn = 0, ok_total = 0;
	double t0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s BPFFS_DIR [SECONDS]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		seconds = atof(argv[2]);
	skel = test_store_stress__open_and_load();
	if (!skel)
		return fprintf(stderr, "load failed\n"), 1;
	if (uptrkv_store__open_fd(bpf_map__fd(skel->maps.uptrkv_store), &so, &store, &err))
		return fprintf(stderr, "store open: %s\n", err.msg), 1;
	/* The tp_btf reader: same store map, non-sleepable, as deployed. */
	fast = test_store_stress_fast__open();
	if (!fast || bpf_map__reuse_fd(fast->maps.uptrkv_store, bpf_map__fd(skel->maps.uptrkv_store)))
		return fprintf(stderr, "fast reader open failed\n"), 1;
	fast->rodata->uptrkv_sleepable = 0;
	if (test_store_stress_fast__load(fast) || test_store_stress_fast__attach(fast))
		return fprintf(stderr, "fast reader load/attach failed\n"), 1;
	pthread_create(&w, NULL, writer, NULL);
	while (!writer_ready)
		usleep(1000);
	if (writer_ready < 0)
		return 1;
	fast->bss->writer_tid = writer_tid;
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&fr, NULL, fast_reader, NULL);
	t0 = now();
	while (now() - t0 < seconds)
		usleep(10000);
	stop = 1;
	pthread_join(r, NULL);
	pthread_join(fr, NULL);
	fast->bss->writer_tid = 0;
	pthread_join(w, NULL);

	static const char *names[] = { "", "A 8B", "B 64B", "C 1000B", "D", "E 16B del/create",
				       "F 8B, page != 0", "G 8B del/create" };
	for (int k = 1; k < 8; k++) {
		if (k == K_D)
			continue;
		printf("BPF read %-17s ok %10llu  torn %llu  eagain %llu  enoent %llu\n", names[k],
		       (unsigned long long)skel->bss->ok[k], (unsigned long long)skel->bss->torn[k],
		       (unsigned long long)skel->bss->again[k], (unsigned long long)skel->bss->noent[k]);
		torn += skel->bss->torn[k];
		ok_total += skel->bss->ok[k];
		CHECK(skel->bss->ok[k], "no good BPF read of key %d", k);
	}
	printf("BPF found F in page 0 %llu times, elsewhere %llu; G in page 0 %llu, elsewhere %llu\n",
	       (unsigned long long)skel->bss->f_page0, (unsigned long long)skel->bss->f_far,
	       (unsigned long long)skel->bss->g_page0, (unsigned long long)skel->bss->g_far);
	CHECK(!skel->bss->f_page0 && skel->bss->f_far, "K_F is meant to be outside data page 0");
	printf("BPF runs %llu (errors %llu, no store %llu), BPF writes of D %llu (busy %llu)\n",
	       bpf_runs, bpf_run_errs, (unsigned long long)skel->bss->no_store,
	       (unsigned long long)skel->bss->writes, (unsigned long long)skel->bss->busy);
	printf("user: %llu rewrite rounds, %llu delete/create cycles, D reads ok %llu torn %llu eagain %llu other %llu, errors %llu\n",
	       user_iters, e_cycles, user_d_ok, user_d_torn, user_d_again, user_d_other, user_errs);
	CHECK(!torn, "BPF saw %llu torn values", torn);
	CHECK(!(user_d_torn || user_d_other || user_errs || bpf_run_errs || !user_d_ok ||
		!skel->bss->writes || !ok_total || user_iters < 100), "user-side check");
	{
		static const int fk[] = { K_A, K_F, K_G };
		unsigned long long ftorn = 0;

		for (int i = 0; i < 3; i++) {
			int k = fk[i];

			printf("tp_btf (non-sleepable, no re-check) read key %d: ok %llu  torn %llu  enoent %llu\n",
			       k, (unsigned long long)fast->bss->ok[k], (unsigned long long)fast->bss->torn[k],
			       (unsigned long long)fast->bss->noent[k]);
			ftorn += fast->bss->torn[k];
			CHECK(fast->bss->ok[k], "no good non-sleepable read of key %d", k);
		}
		printf("tp_btf reader runs %llu; K_G through a pointer held %d us: ok %llu, wrong %llu, absent %llu\n",
		       (unsigned long long)fast->bss->runs, 20,
		       (unsigned long long)fast->bss->held_ok, (unsigned long long)fast->bss->held_bad,
		       (unsigned long long)fast->bss->held_none);
		ftorn += fast->bss->held_bad;
		CHECK(fast->bss->held_ok, "no held read of key %d", K_G);
		CHECK(!ftorn, "the non-sleepable reader saw %llu wrong values", ftorn);
	}
	uptrkv_store__close(store);
	test_store_stress_fast__destroy(fast);
	test_store_stress__destroy(skel);
	return check_summary("store_stress");
}
