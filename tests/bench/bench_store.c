// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Store benchmarks (make bench): BPF-side get against the alternatives, in
 * one run. Each program runs bpf_loop(N) in a SEC("syscall") program via
 * bpf_prog_test_run_opts from a thread with a registered store; time per
 * operation = wall time of the run / N, best of R runs. Ratios are given
 * with the loop cost included (as measured) and with it subtracted.
 *   bench_store [N] [R]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "uptrkv.h"
#include "bench_store.skel.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double run(struct bpf_program *p, __u32 iters, int reps)
{
	struct { __u32 iters, pad; } args = { iters, 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &args, .ctx_size_in = sizeof(args));
	double best = 1e30;

	for (int r = 0; r < reps; r++) {
		double t0 = now_ns(), t;

		if (bpf_prog_test_run_opts(bpf_program__fd(p), &o) || o.retval) {
			fprintf(stderr, "%s: run failed (retval %u, errno %d)\n", bpf_program__name(p),
				o.retval, errno);
			exit(1);
		}
		t = (now_ns() - t0) / iters;
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	__u32 n = argc > 1 ? (__u32)atoi(argv[1]) : 2000000;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	struct uptrkv_init_key keys[] = { { 2, 4096, NULL }, { 1, 8, NULL } };	/* 4K first: page 0 */
	UPTRKV_OPTS(uptrkv_thread_opts, to, .keys = keys, .nr_keys = 2);
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_error err = {};
	struct uptrkv_store *s;
	struct uptrkv_thread *t;
	struct bench_store *skel;
	__u64 v = 0x1234;
	__u32 key = 1;
	double empty, direct, kv8, kv8p, hash, kv4k, kv4kv, probe4k, e4k;
	int fail = 0;

	skel = bench_store__open_and_load();
	if (!skel)
		return fprintf(stderr, "load failed\n"), 1;
	if (uptrkv_store__open_fd(bpf_map__fd(skel->maps.uptrkv_store), &so, &s, &err) ||
	    uptrkv_thread__register(s, &to, &t, &err))
		return fprintf(stderr, "store: %s\n", err.msg), 1;
	uptrkv_thread__put(t, 1, &v, 8);
	bpf_map_update_elem(bpf_map__fd(skel->maps.hash), &key, &v, BPF_ANY);

	/* warm up, then interleave so that frequency drift hits all alike */
	run(skel->progs.bench_kv8, n / 10, 1);
	empty = direct = kv8 = kv8p = hash = kv4k = kv4kv = probe4k = e4k = 1e30;
	for (int round = 0; round < 3; round++) {
#define MIN(x, y) ((y) < (x) ? (y) : (x))
		empty = MIN(empty, run(skel->progs.bench_empty, n, reps));
		direct = MIN(direct, run(skel->progs.bench_direct, n, reps));
		kv8 = MIN(kv8, run(skel->progs.bench_kv8, n, reps));
		kv8p = MIN(kv8p, run(skel->progs.bench_kv8_ptr, n, reps));
		hash = MIN(hash, run(skel->progs.bench_hash, n, reps));
		e4k = MIN(e4k, run(skel->progs.bench_empty, n / 20, reps));
		kv4k = MIN(kv4k, run(skel->progs.bench_kv4k, n / 20, reps));
		kv4kv = MIN(kv4kv, run(skel->progs.bench_kv4k_var, n / 20, reps));
		probe4k = MIN(probe4k, run(skel->progs.bench_probe4k, n / 20, reps));
	}
	if (skel->bss->err)
		return fprintf(stderr, "BPF error %d\n", skel->bss->err), 1;

	printf("uptrkv store benchmark: ns per operation inside bpf_loop, best of %d x 3 runs of %u\n",
	       reps, n);
	printf("%-44s %8s %10s\n", "operation", "ns/op", "minus loop");
	printf("%-44s %8.2f %10s\n", "empty bpf_loop iteration (baseline)", empty, "-");
	printf("%-44s %8.2f %10.2f\n", "direct struct field in task storage", direct, direct - empty);
	printf("%-44s %8.2f %10.2f\n", "uptrkv_get 8 B", kv8, kv8 - empty);
	printf("%-44s %8.2f %10.2f\n", "uptrkv_ptr 8 B (no copy)", kv8p, kv8p - empty);
	printf("%-44s %8.2f %10.2f\n", "hash map lookup per key", hash, hash - empty);
	printf("%-44s %8.2f %10.2f\n", "uptrkv_get 4096 B (constant size)", kv4k, kv4k - e4k);
	printf("%-44s %8.2f %10.2f\n", "uptrkv_get_var 4096 B", kv4kv, kv4kv - e4k);
	printf("%-44s %8.2f %10.2f\n", "bpf_probe_read_kernel 4096 B", probe4k, probe4k - e4k);
	printf("\nratios (loop included; target in brackets):\n");
#define RATIO(name, x, y, cond, target) do {					\
	bool ok = (cond);							\
	printf("  %-40s %6.2fx  [%s] %s\n", name, (x) / (y), target, ok ? "met" : "MISSED"); \
	fail |= !ok;								\
} while (0)
	RATIO("8 B get / direct struct", kv8, direct, kv8 / direct <= 1.2, "<= 1.2x");
	RATIO("hash lookup / 8 B get", hash, kv8, hash / kv8 >= 2.0, ">= 2x");
	RATIO("4 KB get / probe_read 4 KB", kv4k, probe4k, kv4k / probe4k <= 1.5, "<= 1.5x");
	RATIO("4 KB get_var / probe_read 4 KB", kv4kv, probe4k, kv4kv / probe4k <= 1.5, "<= 1.5x");
	printf("ratios with the loop subtracted: 8 B get / direct %.2f ns vs %.2f ns; hash / get %.1fx; 4 KB %.2fx\n",
	       kv8 - empty, direct - empty, (hash - empty) / (kv8 - empty > 0.01 ? kv8 - empty : 0.01),
	       (kv4k - e4k) / (probe4k - e4k));
	uptrkv_thread__unregister(t);
	uptrkv_store__close(s);
	bench_store__destroy(skel);
	return fail ? 3 : 0;
}
