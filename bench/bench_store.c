// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Store benchmarks (make bench): BPF-side get against the alternatives, in
 * one run. Each program runs bpf_loop(N) in a raw_tp program (non-sleepable,
 * like every hook uptrkv deploys; bench/bench_store.bpf.c) via
 * bpf_prog_test_run_opts from a thread with a registered store. The 8-byte
 * cases run again as sleepable SEC("syscall") programs
 * (bench/bench_store_sleepable.bpf.c), where gets keep the entry re-check. Time per
 * operation = wall time of the run / N, best of R runs, repeated for L
 * loads of the programs (median reported). Ratios are given with the loop
 * cost included (as measured) and with it subtracted.
 *   bench_store [N] [R] [L]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/syscall.h>
#include "uptrkv_tool.h"
#include "bench_tld.h"
#include "bench_store.skel.h"
#include "bench_store_sleepable.skel.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double run(struct bpf_program *p, __u32 iters, int reps)
{
	__u64 args[1] = { iters };	/* ctx[0]: raw_tp reads u64 words */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));
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

enum { EMPTY, DIRECT, KV8, KV8F, KV8S, KV8P, HASH, E4K, KV4K, KV4KV, PROBE4K, S_EMPTY, S_DIRECT, S_KV8,
       HOOK_DIRECT, HOOK_KV8, HOOK_TIDHASH, HOOK_TLD, HOOK_FLOOR, NR_CASES };
#define MAX_LOADS 32
/* Any nonzero hash: the programs check the store's against it. */
#define BENCH_LAYOUT_HASH 0x6b766231u
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One load of the programs: register a store, then 3 interleaved rounds of
 * every case, best of reps runs each. The JIT places every load at another
 * address (x86 randomises the image start), and code placement moves the
 * short 8-byte paths by a few tenths of a ns, so main() repeats this for
 * several loads and reports the median.
 */
/*
 * Opens both objects. Both get a layout hash, as every deployed hook has
 * (the store is registered with it), so that uptrkv_open checks it as
 * there. The raw_tp one gets uptrkv_sleepable = 0, as uptrkv's
 * own loader sets it; the sleepable one shares its store map.
 */
static int load_objects(struct bench_store **fast, struct bench_store_sleepable **slow)
{
	*slow = NULL;
	*fast = bench_store__open();
	if (!*fast)
		return -1;
	(*fast)->rodata->uptrkv_sleepable = 0;
	(*fast)->rodata->uptrkv_layout_hash = BENCH_LAYOUT_HASH;
	if (bench_store__load(*fast))
		return -1;
	*slow = bench_store_sleepable__open();
	if (!*slow)
		return -1;
	if (bpf_map__reuse_fd((*slow)->maps.uptrkv_store, bpf_map__fd((*fast)->maps.uptrkv_store)))
		return -1;
	(*slow)->rodata->uptrkv_layout_hash = BENCH_LAYOUT_HASH;
	return bench_store_sleepable__load(*slow);
}

/*
 * The TLD-style store of this thread (bench/bench_tld.h): a meta page naming
 * two 8-byte keys, k0 and k8, and a data page where k8 sits after k0. The
 * pages are the caller's, page-aligned, as uptr pointees must not cross a
 * page.
 */
static int tld_register(int map_fd, struct bench_tld_meta *meta, struct bench_tld_data *data)
{
	struct bench_tld_elem e = { .meta = meta, .data = data };
	__u64 v = 0x1234;
	int pidfd, err;

	memset(meta, 0, sizeof(*meta));
	meta->cnt = 2;
	snprintf(meta->ent[0].name, sizeof(meta->ent[0].name), "k0");
	meta->ent[0].size = 8;
	snprintf(meta->ent[1].name, sizeof(meta->ent[1].name), "k8");
	meta->ent[1].size = 8;
	memcpy(&data->b[8], &v, 8);
	pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0)
		return -1;
	err = bpf_map_update_elem(map_fd, &pidfd, &e, BPF_ANY);
	close(pidfd);
	return err;
}

static int one_load(__u32 n, int reps, double *best)
{
	/* bench/bench_store.h says where each value lands, and checks it */
	struct uptrkv_init_key keys[UPTRKV_PAGE_SIZE / 8 + 2] = { { 2, 4096, NULL }, { 1, 8, NULL } };
	UPTRKV_OPTS(uptrkv_thread_opts, to, .keys = keys, .nr_keys = ARRAY_LEN(keys),
		    .layout_hash = BENCH_LAYOUT_HASH);
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct bench_store_sleepable *slow = NULL;
	struct uptrkv_error err = {};
	struct bench_store *skel = NULL;
	struct uptrkv_thread *t = NULL;
	struct uptrkv_store *s = NULL;
	struct bench_tld_meta *tld_meta = NULL;
	struct bench_tld_data *tld_data = NULL;
	__u64 v = 0x1234;
	__u32 key = 1;
	int ret = -1;

	for (__u32 i = 2; i < ARRAY_LEN(keys) - 1; i++)	/* fill page 0 ... */
		keys[i] = (struct uptrkv_init_key){ 1 + i, 8, NULL };
	keys[ARRAY_LEN(keys) - 1] = (struct uptrkv_init_key){ 600, 8, NULL };	/* ... K_FAR: page 1 */
	if (load_objects(&skel, &slow)) {
		fprintf(stderr, "load failed: %s\n", strerror(errno));
		goto out;
	}
	if (uptrkv_store__open_fd(bpf_map__fd(skel->maps.uptrkv_store), &so, &s, &err) ||
	    uptrkv_thread__register(s, &to, &t, &err)) {
		fprintf(stderr, "store: %s\n", err.msg);
		goto out;
	}
	uptrkv_thread__put(t, 1, &v, 8);
	uptrkv_thread__put(t, 600, &v, 8);
	bpf_map_update_elem(bpf_map__fd(skel->maps.hash), &key, &v, BPF_ANY);
	key = (__u32)syscall(SYS_gettid);
	bpf_map_update_elem(bpf_map__fd(skel->maps.tid_hash), &key, &v, BPF_ANY);
	tld_meta = aligned_alloc(4096, 4096);
	tld_data = aligned_alloc(4096, 4096);
	if (!tld_meta || !tld_data || tld_register(bpf_map__fd(skel->maps.tld_data), tld_meta, tld_data)) {
		fprintf(stderr, "TLD-style store: %s\n", strerror(errno));
		goto out;
	}

	/* warm up, then interleave so that frequency drift hits all alike */
	run(skel->progs.bench_kv8, n / 10, 1);
	for (int i = 0; i < NR_CASES; i++)
		best[i] = 1e30;
	for (int round = 0; round < 3; round++) {
#define MIN(x, y) ((y) < (x) ? (y) : (x))
#define CASE(i, prog, iters) best[i] = MIN(best[i], run(prog, iters, reps))
		/* the 8-byte cases: same loop, same N, same key */
		CASE(EMPTY, skel->progs.bench_empty, n);
		CASE(DIRECT, skel->progs.bench_direct, n);
		CASE(KV8, skel->progs.bench_kv8, n);
		CASE(KV8F, skel->progs.bench_kv8_far, n);
		CASE(KV8S, skel->progs.bench_kv8_s, n);
		CASE(KV8P, skel->progs.bench_kv8_ptr, n);
		CASE(HASH, skel->progs.bench_hash, n);
		CASE(HOOK_DIRECT, skel->progs.bench_hook_direct, n);
		CASE(HOOK_KV8, skel->progs.bench_hook_kv8, n);
		CASE(HOOK_TIDHASH, skel->progs.bench_hook_tidhash, n);
		CASE(HOOK_TLD, skel->progs.bench_hook_tld, n);
		CASE(HOOK_FLOOR, skel->progs.bench_hook_floor, n);
		CASE(S_EMPTY, slow->progs.bench_empty, n);
		CASE(S_DIRECT, slow->progs.bench_direct, n);
		CASE(S_KV8, slow->progs.bench_kv8, n);
		CASE(E4K, skel->progs.bench_empty, n / 20);
		CASE(KV4K, skel->progs.bench_kv4k, n / 20);
		CASE(KV4KV, skel->progs.bench_kv4k_var, n / 20);
		CASE(PROBE4K, skel->progs.bench_probe4k, n / 20);
	}
	ret = 0;
	if (skel->bss->err || slow->bss->err) {
		fprintf(stderr, "BPF error %d/%d\n", skel->bss->err, slow->bss->err);
		ret = -1;
	}
out:
	uptrkv_thread__unregister(t);
	uptrkv_store__close(s);
	bench_store_sleepable__destroy(slow);
	/* The map unpins the TLD pages when it goes. */
	bench_store__destroy(skel);
	free(tld_meta);
	free(tld_data);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	__u32 n = argc > 1 ? (__u32)atoi(argv[1]) : 2000000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	int loads = argc > 3 ? atoi(argv[3]) : 9;
	double all[NR_CASES][MAX_LOADS], med[NR_CASES], lo[NR_CASES], hi[NR_CASES];
	double empty, direct, kv8, kv8s, hash, kv4k, kv4kv, probe4k, e4k;
	int fail = 0;

	if (n < 20 || reps < 1 || loads < 1 || loads > MAX_LOADS)
		return fprintf(stderr, "usage: bench_store [N>=20] [REPS>=1] [LOADS 1..%d]\n", MAX_LOADS), 1;
	for (int l = 0; l < loads; l++) {
		double best[NR_CASES];

		if (one_load(n, reps, best))
			return 1;
		for (int i = 0; i < NR_CASES; i++)
			all[i][l] = best[i];
	}
	for (int i = 0; i < NR_CASES; i++) {
		qsort(all[i], loads, sizeof(double), cmp_double);
		lo[i] = all[i][0];
		hi[i] = all[i][loads - 1];
		med[i] = loads % 2 ? all[i][loads / 2] : (all[i][loads / 2 - 1] + all[i][loads / 2]) / 2;
	}
	empty = med[EMPTY], direct = med[DIRECT], kv8 = med[KV8], kv8s = med[KV8S];
	hash = med[HASH], e4k = med[E4K], kv4k = med[KV4K];
	kv4kv = med[KV4KV], probe4k = med[PROBE4K];

	printf("uptrkv store benchmark: ns per operation inside bpf_loop; per load the best of\n"
	       "%d x 3 runs of %u (4 KiB: %u); median over %d loads of the programs [min-max]\n",
	       reps, n, n / 20, loads);
	printf("%-44s %8s %10s %15s\n", "operation", "ns/op", "minus loop", "[min-max]");
#define ROW(name, i, base) do {							\
	if ((base) < 0)								\
		printf("%-44s %8.2f %10s ", name, med[i], "-");			\
	else									\
		printf("%-44s %8.2f %10.2f ", name, med[i], med[i] - (base));	\
	printf("  [%.2f-%.2f]\n", lo[i], hi[i]);				\
} while (0)
	printf("raw_tp (non-sleepable, as deployed hooks; uptrkv_sleepable = 0):\n");
	ROW("empty bpf_loop iteration (baseline)", EMPTY, -1);
	ROW("direct struct field in task storage", DIRECT, empty);
	ROW("uptrkv_get 8 B (uptrkv_ctx handle)", KV8, empty);
	ROW("uptrkv_get 8 B, value not in page 0", KV8F, empty);
	ROW("uptrkv_get 8 B (store pointer handle)", KV8S, empty);
	ROW("uptrkv_ptr 8 B (no copy, uptrkv_ctx)", KV8P, empty);
	ROW("hash map lookup per key", HASH, empty);
	ROW("per hook run: task storage lookup + field", HOOK_DIRECT, empty);
	ROW("per hook run: uptrkv_open_ctx + 8 B get", HOOK_KV8, empty);
	ROW("per hook run: tid-keyed hash lookup", HOOK_TIDHASH, empty);
	ROW("per hook run: TLD-style init + 8 B get", HOOK_TLD, empty);
	ROW("per hook run: floor (element, meta, entry, value)", HOOK_FLOOR, empty);
	ROW("empty bpf_loop iteration (4 KiB N)", E4K, -1);
	ROW("uptrkv_get 4096 B (constant size)", KV4K, e4k);
	ROW("uptrkv_get_var 4096 B", KV4KV, e4k);
	ROW("bpf_probe_read_kernel 4096 B", PROBE4K, e4k);
	printf("SEC(\"syscall\") (sleepable: gets re-check the entry):\n");
	ROW("empty bpf_loop iteration", S_EMPTY, -1);
	ROW("direct struct field in task storage", S_DIRECT, med[S_EMPTY]);
	ROW("uptrkv_get 8 B (uptrkv_ctx handle)", S_KV8, med[S_EMPTY]);
	printf("\nratios (loop included; target in brackets):\n");
#define RATIO(name, x, y, cond, target) do {					\
	bool ok = (cond);							\
	printf("  %-40s %6.2fx  [%s] %s\n", name, (x) / (y), target, ok ? "met" : "MISSED"); \
	fail |= !ok;								\
} while (0)
	RATIO("per hook run: open + 8 B get / lookup + field", med[HOOK_KV8], med[HOOK_DIRECT],
	      med[HOOK_KV8] / med[HOOK_DIRECT] <= 1.1, "<= 1.1x");
	RATIO("per hook run: TLD-style / uptrkv", med[HOOK_TLD], med[HOOK_KV8],
	      med[HOOK_TLD] / med[HOOK_KV8] >= 2.0, ">= 2x");
	printf("  %-40s %6.2fx  (no target)\n", "per hook run: tid hash / uptrkv",
	       med[HOOK_TIDHASH] / med[HOOK_KV8]);
	printf("  %-40s %6.2fx  (no target: the checks' cost)\n", "per hook run: open + 8 B get / floor",
	       med[HOOK_KV8] / med[HOOK_FLOOR]);
	printf("  %-40s %6.2fx  (no target: the meta's dependent loads)\n", "per hook run: floor / lookup + field",
	       med[HOOK_FLOOR] / med[HOOK_DIRECT]);
	RATIO("8 B get / direct struct", kv8, direct, kv8 / direct <= 1.2, "<= 1.2x");
	RATIO("hash lookup / 8 B get", hash, kv8, hash / kv8 >= 2.0, ">= 2x");
	RATIO("4 KB get / probe_read 4 KB", kv4k, probe4k, kv4k / probe4k <= 1.5, "<= 1.5x");
	RATIO("4 KB get_var / probe_read 4 KB", kv4kv, probe4k, kv4kv / probe4k <= 1.5, "<= 1.5x");
	printf("  %-40s %6.2fx  (value not in page 0, no target)\n", "8 B get, other page / direct",
	       med[KV8F] / direct);
	printf("  %-40s %6.2fx  (store pointer handle, no target)\n", "8 B get (store pointer) / direct",
	       kv8s / direct);
	printf("  %-40s %6.2fx  (sleepable program, no target)\n", "8 B get / direct, SEC(\"syscall\")",
	       med[S_KV8] / med[S_DIRECT]);
	printf("ratios with the loop subtracted: 8 B get / direct %.2f ns vs %.2f ns; hash / get %.1fx; 4 KB %.2fx\n",
	       kv8 - empty, direct - empty, (hash - empty) / (kv8 - empty > 0.01 ? kv8 - empty : 0.01),
	       (kv4k - e4k) / (probe4k - e4k));
	return fail ? 3 : 0;
}
