// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * End-to-end: several threads register stores and put keys; a real tp_btf
 * program (tests/bpf/test_store.bpf.c) reads them on the thread's getppid() and
 * writes others back. Checks both directions, 1-byte and 4096-byte values,
 * variable sizes, BPF delete, growth past one page, -ENOSPC at 32 KiB and
 * reuse after delete.
 *   store_basic BPFFS_DIR
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "uptrkv.h"
#include "test_store.skel.h"
#include "check.h"

#define K_IN_U8		1
#define K_OUT_U8	2
#define K_IN_U64	3
#define K_OUT_U64	4
#define K_IN_STR	5
#define K_OUT_STR	6
#define K_IN_BIG	7
#define K_OUT_BIG	8
#define K_IN_VAR	9
#define K_OUT_VAR	10
#define K_PTR_U32	11
#define K_DEL_REQ	12
#define K_RESULT	13
#define K_VICTIM	14
#define STR_LEN		24
#define NR_THREADS	4
#define ALL_STEPS	0xffu

static struct uptrkv_store *store;
static struct test_store *skel;

static void trigger(void)
{
	syscall(SYS_getppid);
}

static void fill(void *buf, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)buf)[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static void *worker(void *arg)
{
	unsigned int idx = (unsigned int)(long)arg;
	static const __u32 var_sizes[NR_THREADS] = { 1, 13, 1000, 4096 };
	__u32 var_size = var_sizes[idx];
	__u8 u8_def = (__u8)(250 + idx);	/* 255 + 1 wraps for idx 5: fine */
	struct uptrkv_init_key keys[] = {
		{ K_IN_U8, 1, &u8_def }, { K_OUT_U8, 1, NULL },
		{ K_IN_U64, 8, NULL }, { K_OUT_U64, 8, NULL },
		{ K_PTR_U32, 4, NULL }, { K_RESULT, 8, NULL },
	};
	UPTRKV_OPTS(uptrkv_thread_opts, o, .keys = keys, .nr_keys = 6);
	struct uptrkv_error err = {};
	struct uptrkv_thread *t;
	unsigned char *big = malloc(4096), *out = malloc(4096);
	__u8 str[STR_LEN], str_out[STR_LEN], v8;
	__u64 v64, result;
	__u32 v32, free0;
	int r;

	if (!big || !out)
		CHECK_OR_RETURN(0, (void *)1, "malloc");
	r = uptrkv_thread__register(store, &o, &t, &err);
	CHECK_OR_RETURN(r == 0, (void *)1, "register: %s", err.msg);

	/* Default of a key created at register. */
	r = uptrkv_thread__get(t, K_IN_U8, &v8, 1);
	CHECK_OR_RETURN(r == 1 && v8 == u8_def, (void *)1, "r=%d v8=%u", r, v8);

	/* Growth past one page: two 4096-byte values need two more pages. */
	free0 = uptrkv_thread__free_bytes(t);
	CHECK_OR_RETURN(free0 < 4096, (void *)1, "free0=%u", free0);
	fill(big, 4096, idx);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_BIG, big, 4096) == 0, (void *)1, "put big");
	memset(out, 0, 4096);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_OUT_BIG, out, 4096) == 0, (void *)1, "put out big");
	CHECK_OR_RETURN(uptrkv_thread__free_bytes(t) == free0, (void *)1, "free=%u", uptrkv_thread__free_bytes(t));

	v8 = (__u8)(10 + idx);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_U8, &v8, 1) == 0, (void *)1, "put u8");
	v64 = 0x100000000ull * (idx + 1) + 7;
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_U64, &v64, 8) == 0, (void *)1, "put u64");
	fill(str, STR_LEN, idx + 100);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_STR, str, STR_LEN) == 0, (void *)1, "put str");
	memset(str_out, 0, STR_LEN);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_OUT_STR, str_out, STR_LEN) == 0, (void *)1, "put str out");
	fill(big, var_size, idx + 200);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_VAR, big, var_size) == 0, (void *)1, "put var");
	memset(out, 0, var_size);
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_OUT_VAR, out, var_size) == 0, (void *)1, "put var out");
	v32 = 1000 * idx;
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_PTR_U32, &v32, 4) == 0, (void *)1, "put ptr");
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_VICTIM, str, 16) == 0, (void *)1, "put victim");
	v32 = K_VICTIM;
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_DEL_REQ, &v32, 4) == 0, (void *)1, "put del req");

	trigger();

	/* BPF -> user: every OUT key. */
	r = uptrkv_thread__get(t, K_RESULT, &result, 8);
	CHECK_OR_RETURN(r == 8 && result == ALL_STEPS, (void *)1, "result=0x%llx (r=%d); last_ret[0..13]=%d %d %d %d %d %d %d %d %d %d %d %d %d %d",
	      (unsigned long long)result, r, skel->bss->last_ret[0], skel->bss->last_ret[1],
	      skel->bss->last_ret[2], skel->bss->last_ret[3], skel->bss->last_ret[4],
	      skel->bss->last_ret[5], skel->bss->last_ret[6], skel->bss->last_ret[7],
	      skel->bss->last_ret[8], skel->bss->last_ret[9], skel->bss->last_ret[10],
	      skel->bss->last_ret[11], skel->bss->last_ret[12], skel->bss->last_ret[13]);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_U8, &v8, 1) == 1 && v8 == (__u8)(11 + idx), (void *)1, "u8 out %u", v8);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_U64, &v64, 8) == 8 &&
	      v64 == (0x100000000ull * (idx + 1) + 7) * 3 + 1, (void *)1, "u64 out %llu", (unsigned long long)v64);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_STR, str_out, STR_LEN) == STR_LEN, (void *)1, "get str");
	for (int i = 0; i < STR_LEN; i++)
		CHECK_OR_RETURN(str_out[i] == (__u8)(str[i] + 1), (void *)1, "str byte %d", i);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_BIG, out, 4096) == 4096, (void *)1, "get big");
	fill(big, 4096, idx);
	(*(__u64 *)big)++;
	CHECK_OR_RETURN(!memcmp(out, big, 4096), (void *)1, "big out differs");
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_VAR, out, 4096) == (int)var_size, (void *)1, "get var");
	fill(big, var_size, idx + 200);
	CHECK_OR_RETURN(!memcmp(out, big, var_size), (void *)1, "var out differs (size %u)", var_size);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_PTR_U32, &v32, 4) == 4 && v32 == 1000 * idx + 1, (void *)1, "ptr %u", v32);
	/* BPF deleted the victim. */
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_VICTIM, str, 16) == -ENOENT, (void *)1, "victim still there");

	/* A second run sees user-side updates (no stale copy anywhere). */
	v64 = 5;
	CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_U64, &v64, 8) == 0, (void *)1, "put u64 again");
	CHECK_OR_RETURN(uptrkv_thread__delete(t, K_DEL_REQ) == 0, (void *)1, "delete del req");
	CHECK_OR_RETURN(uptrkv_thread__delete(t, K_DEL_REQ) == -ENOENT, (void *)1, "double delete");
	trigger();
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_U64, &v64, 8) == 8 && v64 == 16, (void *)1, "u64 out %llu", (unsigned long long)v64);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_PTR_U32, &v32, 4) == 4 && v32 == 1000 * idx + 2, (void *)1, "ptr %u", v32);
	CHECK_OR_RETURN(uptrkv_thread__get(t, K_RESULT, &result, 8) == 8 && result == (ALL_STEPS & ~(1u << 6)), (void *)1,
	      "result 0x%llx", (unsigned long long)result);

	/* Fill to the 32 KiB limit: -ENOSPC, never corruption. */
	{
		__u32 k = 100, n = 0;
		unsigned char val[512];

		for (;; k++) {
			fill(val, sizeof(val), k);
			r = uptrkv_thread__put(t, k, val, sizeof(val));
			if (r)
				break;
			n++;
		}
		CHECK_OR_RETURN(r == -ENOSPC, (void *)1, "fill ended with %d after %u keys", r, n);
		/* live: 6 small keys, 2 x STR, 2 x BIG, 2 x VAR; at most one
		 * page lost to fragmentation, nothing beyond 32 KiB. */
		{
			__u32 used = 6 * 8 + 2 * 24 + 2 * 4096 + 2 * ((var_size + 7) / 8 * 8);

			CHECK_OR_RETURN(n * 512 + used <= 32768 && n * 512 + used + 4096 > 32768, (void *)1,
			      "%u 512-byte keys fit beside %u bytes", n, used);
		}
		/* Every value and the BPF-facing keys are intact. */
		for (__u32 i = 100; i < 100 + n; i++) {
			unsigned char got[512];

			fill(val, sizeof(val), i);
			CHECK_OR_RETURN(uptrkv_thread__get(t, i, got, sizeof(got)) == 512 && !memcmp(got, val, 512), (void *)1,
			      "key %u corrupted", i);
		}
		/* Reuse after delete: free one 512-byte key, put another. */
		CHECK_OR_RETURN(uptrkv_thread__delete(t, 100 + n / 2) == 0, (void *)1, "delete");
		fill(val, sizeof(val), 999);
		r = uptrkv_thread__put(t, 99, val, sizeof(val));
		CHECK_OR_RETURN(r == 0, (void *)1, "reuse after delete: %d", r);
		CHECK_OR_RETURN(uptrkv_thread__put(t, 98, val, sizeof(val)) == -ENOSPC, (void *)1, "full again");
		/* BPF still works on the full store. */
		v64 = 1;
		CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_U64, &v64, 8) == 0, (void *)1, "put");
		trigger();
		CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_U64, &v64, 8) == 8 && v64 == 4, (void *)1, "u64 out %llu",
		      (unsigned long long)v64);
		/* Fragmentation: delete every other 512-byte key, then a 4096-byte
		 * value needs compaction. */
		for (__u32 i = 100; i < 100 + n; i += 2)
			if (i != 100 + n / 2)
				uptrkv_thread__delete(t, i);
		r = uptrkv_thread__put(t, 97, big, 4096);
		CHECK_OR_RETURN(r == 0, (void *)1, "put after fragmentation (compaction): %d", r);
		for (__u32 i = 101; i < 100 + n; i += 2) {
			unsigned char got[512];

			if (i == 100 + n / 2)
				continue;
			fill(val, sizeof(val), i);
			CHECK_OR_RETURN(uptrkv_thread__get(t, i, got, sizeof(got)) == 512 && !memcmp(got, val, 512), (void *)1,
			      "key %u corrupted by compaction", i);
		}
		/* BPF reads through the moved entries. */
		v64 = 2;
		CHECK_OR_RETURN(uptrkv_thread__put(t, K_IN_U64, &v64, 8) == 0, (void *)1, "put");
		trigger();
		CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_U64, &v64, 8) == 8 && v64 == 7, (void *)1, "u64 out %llu",
		      (unsigned long long)v64);
		CHECK_OR_RETURN(uptrkv_thread__get(t, K_OUT_BIG, out, 4096) == 4096, (void *)1, "get big");
		fill(big, 4096, idx);
		(*(__u64 *)big)++;
		CHECK_OR_RETURN(!memcmp(out, big, 4096), (void *)1, "big out differs after compaction");
	}

	uptrkv_thread__unregister(t);
	free(big);
	free(out);
	return NULL;
}

int main(int argc, char **argv)
{
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_error err = {};
	pthread_t th[NR_THREADS];
	char path[4096];
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BPFFS_DIR\n", argv[0]);
		return 2;
	}
	skel = test_store__open();
	if (!skel)
		return fprintf(stderr, "open skeleton failed\n"), 1;
	skel->rodata->target_tgid = getpid();
	/* Its one program is tp_btf, non-sleepable: gets skip the entry
	 * re-check, as in every deployed program (docs/store.md). */
	skel->rodata->uptrkv_sleepable = 0;
	if (test_store__load(skel) || test_store__attach(skel))
		return fprintf(stderr, "load/attach failed\n"), 1;
	snprintf(path, sizeof(path), "%s/store", argv[1]);
	if (bpf_map__pin(skel->maps.uptrkv_store, path))
		return fprintf(stderr, "pin %s failed\n", path), 1;
	r = uptrkv_store__open(path, &so, &store, &err);
	if (r)
		return fprintf(stderr, "store open: %s\n", err.msg), 1;

	for (long i = 0; i < NR_THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < NR_THREADS; i++) {
		void *ret;

		pthread_join(th[i], &ret);
		if (ret)
			fprintf(stderr, "thread %d failed\n", i);
	}
	printf("BPF runs: %llu, runs without a store: %llu\n", (unsigned long long)skel->bss->runs,
	       (unsigned long long)skel->bss->no_store);
	CHECK(skel->bss->runs >= 4 * NR_THREADS, "only %llu BPF runs", (unsigned long long)skel->bss->runs);
	uptrkv_store__close(store);
	bpf_map__unpin(skel->maps.uptrkv_store, path);
	test_store__destroy(skel);
	return check_summary("store_basic");
}
