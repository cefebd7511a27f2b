// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Workload for the dump tests. Its threads register stores through
 * lib/store.c (or, for foreign headers, tests/e2e/dump_reg.h), write keys of
 * every type, let a BPF program (tests/bpf/test_dump.bpf.c) add to one of them,
 * and the process reports its own view so the test can compare it with
 * what `uptrkv dump` reads from outside.
 *
 *   dump_app manifest OBJECT            print the test manifest (YAML)
 *   dump_app perf-manifest OBJECT       print a 1024 x u64 manifest
 *   dump_app run DEPLOY_DIR VIEW NTHREADS
 *        typed keys; VIEW gets the expected `dump --json` document
 *   dump_app perf DEPLOY_DIR NTHREADS   1024 u64 keys per thread
 *   dump_app churn DEPLOY_DIR [PAUSE_US]
 *                                       one thread rewrites a 4 KiB value
 *                                       (every byte equal), pausing
 *                                       PAUSE_US between writes (default 0)
 *   dump_app two DEPLOY_DIR DEPLOY_DIR2 NTHREADS
 *                                       every thread registers in both
 *                                       deployments: c_u8 = 1 and 2
 *   dump_app badmagic|badformat STORE_PIN
 *                                       a store whose header is not ours
 *
 * Every mode but the manifests prints "ready" on stdout once everything is
 * registered and written, then runs until stdin is closed.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "dump_reg.h"
#include "test_dump.skel.h"

enum { K_U8, K_U16, K_U32, K_U64, K_S8, K_S16, K_S32, K_S64, K_FLAG, K_COMM, K_BLOB,
       K_BIG_BLOB, K_BIG_STR, K_BPF, NR_K };
#define K_UNKNOWN 40		/* in the stores, not in the manifest */

static const struct { const char *name, *type; __u32 size; } keys[NR_K] = {
	[K_U8] = { "c_u8", "u8", 1 },		[K_U16] = { "c_u16", "u16", 2 },
	[K_U32] = { "c_u32", "u32", 4 },	[K_U64] = { "c_u64", "u64", 8 },
	[K_S8] = { "c_s8", "s8", 1 },		[K_S16] = { "c_s16", "s16", 2 },
	[K_S32] = { "c_s32", "s32", 4 },	[K_S64] = { "c_s64", "s64", 8 },
	[K_FLAG] = { "flag", "bool", 1 },	[K_COMM] = { "comm", "string", 32 },
	[K_BLOB] = { "blob", "bytes", 24 },	[K_BIG_BLOB] = { "big_blob", "bytes", 4096 },
	[K_BIG_STR] = { "big_str", "string", 4096 },
	[K_BPF] = { "bpf_counter", "u64", 8 },
};

static const char *mode;
static struct uptrkv_store *store, *store2;
static int nthreads;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, failed;
static volatile int stop;
static int pause_us;

struct worker {
	pthread_t th;
	int idx;
	pid_t tid;
	struct uptrkv_thread *t, *t2;
	__u8 val[NR_K][4096];	/* what this thread wrote */
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "dump_app: %s: %s\n", what, why);
	exit(1);
}

static void print_manifest(const char *object, bool perf)
{
	printf("apiVersion: uptrkv/v1\nname: %s\nversion: %d\nobject: %s\nkeys:\n",
	       perf ? "dumpperf" : "dumptest", perf ? 1 : 3, object);
	if (perf) {
		for (int k = 0; k < (int)UPTRKV_MAX_KEYS; k++)
			printf("  - {id: %d, name: k%d, size: 8, type: u64}\n", k, k);
		return;
	}
	for (int k = 0; k < NR_K; k++)
		printf("  - {id: %d, name: %s, size: %u, type: %s}\n", k, keys[k].name,
		       keys[k].size, keys[k].type);
}

/* The values thread idx writes; thread 0 gets the extremes of each type. */
static void make_values(struct worker *w)
{
	pid_t t = w->tid;
	bool x = w->idx == 0;
	__u8 u8 = x ? 255 : (t * 3) & 0xff;
	__u16 u16 = x ? 65535 : t & 0xffff;
	__u32 u32 = x ? UINT32_MAX : (__u32)t * 7;
	__u64 u64 = x ? UINT64_MAX : ((__u64)t << 33) | 5;
	__s8 s8 = x ? INT8_MIN : -(t % 100);
	__s16 s16 = x ? INT16_MIN : -(t % 30000);
	__s32 s32 = x ? INT32_MIN : -t;
	__s64 s64 = x ? INT64_MIN : -(__s64)t * 1000000007;
	__u64 bpf = (__u64)t * 10;

	memset(w->val, 0, sizeof(w->val));
	memcpy(w->val[K_U8], &u8, 1);
	memcpy(w->val[K_U16], &u16, 2);
	memcpy(w->val[K_U32], &u32, 4);
	memcpy(w->val[K_U64], &u64, 8);
	memcpy(w->val[K_S8], &s8, 1);
	memcpy(w->val[K_S16], &s16, 2);
	memcpy(w->val[K_S32], &s32, 4);
	memcpy(w->val[K_S64], &s64, 8);
	w->val[K_FLAG][0] = w->idx % 2;
	/* Quotes, a backslash, a tab and UTF-8 (e acute). */
	snprintf((char *)w->val[K_COMM], 32, "w%d \"q\" \\\t\xc3\xa9", t);
	for (int j = 0; j < 24; j++)
		w->val[K_BLOB][j] = (t + j * 13) & 0xff;
	for (int j = 0; j < 4096; j++)
		w->val[K_BIG_BLOB][j] = (t * 31 + j * 7) & 0xff;
	for (int j = 0; j < 4095; j++)
		w->val[K_BIG_STR][j] = 'a' + (j + t) % 26;
	if (w->idx == 1) {	/* the value ends at its NUL, not at its size */
		memcpy(w->val[K_BIG_STR], "short", 6);
		w->val[K_BIG_STR][10] = 'X';
	}
	memcpy(w->val[K_BPF], &bpf, 8);
}

static int put_all(struct worker *w)
{
	static const __u8 unknown[5] = { 1, 2, 3, 4, 5 };
	int err = 0;

	for (int k = 0; k < NR_K && !err; k++)
		err = uptrkv_thread__put(w->t, k, w->val[k], keys[k].size);
	return err ?: uptrkv_thread__put(w->t, K_UNKNOWN, unknown, sizeof(unknown));
}

static int put_perf(struct worker *w)
{
	int err = 0;

	for (__u32 k = 0; k < UPTRKV_MAX_KEYS && !err; k++) {
		__u64 v = ((__u64)w->tid << 32) | k;

		err = uptrkv_thread__put(w->t, k, &v, 8);
	}
	return err;
}

static void churn(struct worker *w)
{
	__u8 buf[4096];

	for (unsigned int b = 0; !stop; b++) {
		memset(buf, b & 0xff, sizeof(buf));
		if (uptrkv_thread__put(w->t, K_BIG_BLOB, buf, sizeof(buf)))
			die("churn", "put failed");
		if (pause_us)
			usleep(pause_us);
	}
}

static void *worker_main(void *arg)
{
	UPTRKV_OPTS(uptrkv_thread_opts, to, .reserve_bytes = 8 * 4096);
	struct uptrkv_error e = {};
	struct worker *w = arg;
	int err;

	w->tid = syscall(SYS_gettid);
	err = uptrkv_thread__register(store, &to, &w->t, &e);
	if (err) {
		fprintf(stderr, "dump_app: register: %s\n", e.msg);
	} else if (!strcmp(mode, "perf")) {
		err = put_perf(w);
	} else if (!strcmp(mode, "two")) {
		__u8 one = 1, two = 2;

		err = uptrkv_thread__register(store2, &to, &w->t2, &e);
		err = err ?: uptrkv_thread__put(w->t, K_U8, &one, 1);
		err = err ?: uptrkv_thread__put(w->t2, K_U8, &two, 1);
		if (err && e.msg[0])
			fprintf(stderr, "dump_app: register 2: %s\n", e.msg);
	} else {
		make_values(w);
		err = put_all(w);
	}
	if (err)
		fprintf(stderr, "dump_app: tid %d: put: %s\n", w->tid, strerror(-err));
	pthread_mutex_lock(&mu);
	ready++;
	failed += !!err;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (!err && !strcmp(mode, "churn"))
		churn(w);
	while (!stop)
		usleep(10000);
	if (w->t)
		uptrkv_thread__unregister(w->t);
	if (w->t2)
		uptrkv_thread__unregister(w->t2);
	return NULL;
}

/* What a deployed BPF program would do: add to bpf_counter of each thread. */
static void bpf_bump(const char *dir, struct worker *w, int n)
{
	struct test_dump *skel = test_dump__open();
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, UPTRKV_PIN_STORE);
	fd = bpf_obj_get(path);
	if (!skel || fd < 0 || bpf_map__reuse_fd(skel->maps.uptrkv_store, fd) ||
	    test_dump__load(skel))
		die("bpf writer", "cannot load test_dump against the store");
	for (int i = 0; i < n; i++) {
		struct { __s32 tid; __u32 key; __u64 add; } c = { w[i].tid, K_BPF, w[i].tid * 3ull };
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &c, .ctx_size_in = sizeof(c));
		__u64 v;

		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.test_dump_bump), &o) ||
		    o.retval)
			die("bpf writer", "test_dump_bump failed");
		memcpy(&v, w[i].val[K_BPF], 8);
		v += c.add;
		memcpy(w[i].val[K_BPF], &v, 8);
	}
	close(fd);
	test_dump__destroy(skel);
}

static void json_str(FILE *f, const __u8 *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(f, "\\%c", s[i]);
		else if (s[i] < 0x20)
			fprintf(f, "\\u%04x", s[i]);
		else
			fputc(s[i], f);
	}
	fputc('"', f);
}

static void json_value(FILE *f, int k, const __u8 *v)
{
	__u64 u = 0;
	__s64 s = 0;

	if (!strcmp(keys[k].type, "bool")) {
		fputs(v[0] ? "true" : "false", f);
	} else if (!strcmp(keys[k].type, "string")) {
		json_str(f, v, keys[k].size);
	} else if (!strcmp(keys[k].type, "bytes")) {
		fputs("\"0x", f);
		for (__u32 i = 0; i < keys[k].size; i++)
			fprintf(f, "%02x", v[i]);
		fputc('"', f);
	} else if (keys[k].type[0] == 'u') {
		memcpy(&u, v, keys[k].size);
		fprintf(f, "%" PRIu64, (uint64_t)u);
	} else {
		switch (keys[k].size) {
		case 1: s = (__s8)v[0]; break;
		case 2: s = *(const __s16 *)v; break;
		case 4: s = *(const __s32 *)v; break;
		default: memcpy(&s, v, 8);
		}
		fprintf(f, "%" PRId64, (int64_t)s);
	}
}

static int cmp_tid(const void *a, const void *b)
{
	return ((const struct worker *)a)->tid - ((const struct worker *)b)->tid;
}

static void write_view(const char *path, struct worker *w, int n)
{
	FILE *f = fopen(path, "we");

	if (!f)
		die(path, strerror(errno));
	qsort(w, n, sizeof(*w), cmp_tid);
	fprintf(f, "{\"pid\": %d, \"deployment\": \"dumptest\", \"version\": 3, \"threads\": [",
		getpid());
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s{\"tid\": %d, \"keys\": [", i ? ", " : "", w[i].tid);
		for (int k = 0; k < NR_K; k++) {
			fprintf(f, "{\"id\": %d, \"name\": \"%s\", \"type\": \"%s\", \"size\": %u, \"value\": ",
				k, keys[k].name, keys[k].type, keys[k].size);
			json_value(f, k, w[i].val[k]);
			fputs("}, ", f);
		}
		fprintf(f, "{\"id\": %d, \"name\": null, \"type\": \"bytes\", \"size\": 5, "
			"\"value\": \"0x0102030405\"}]}", K_UNKNOWN);
	}
	fputs("]}\n", f);
	fclose(f);
}

/* A store whose header is not uptrkv's (or of a format we do not know). */
static int foreign_store(const char *pin, bool bad_magic)
{
	struct treg t;
	char buf[16];
	int fd = bpf_obj_get(pin), err;

	if (fd < 0)
		die(pin, strerror(errno));
	err = treg_register(&t, fd, 1, bad_magic ? 0xdeadbeef : UPTRKV_MAGIC,
			    bad_magic ? UPTRKV_FORMAT : UPTRKV_FORMAT + 7);
	if (err)
		die("register foreign store", strerror(-err));
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	treg_unregister(&t, fd);
	return 0;
}

int main(int argc, char **argv)
{
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_error e = {};
	struct worker *w;
	char buf[16];

	if (argc < 3)
		die("usage", "see the comment at the top of tests/e2e/dump_app.c");
	mode = argv[1];
	if (!strcmp(mode, "manifest") || !strcmp(mode, "perf-manifest")) {
		print_manifest(argv[2], !strcmp(mode, "perf-manifest"));
		return 0;
	}
	if (!strcmp(mode, "badmagic") || !strcmp(mode, "badformat"))
		return foreign_store(argv[2], !strcmp(mode, "badmagic"));
	nthreads = !strcmp(mode, "churn") ? 1 : argc > 3 ? atoi(argv[argc - 1]) : 4;
	if (!strcmp(mode, "churn") && argc > 3)
		pause_us = atoi(argv[3]);
	so.deploy_dir = argv[2];
	if (uptrkv_store__open(NULL, &so, &store, &e))
		die("open store", e.msg);
	if (!strcmp(mode, "two")) {
		so.deploy_dir = argv[3];
		if (uptrkv_store__open(NULL, &so, &store2, &e))
			die("open second store", e.msg);
	}
	w = calloc(nthreads, sizeof(*w));
	for (int i = 0; i < nthreads; i++) {
		w[i].idx = i;
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]))
			die("pthread_create", strerror(errno));
	}
	pthread_mutex_lock(&mu);
	while (ready < nthreads)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (failed)
		die("workers", "registration or put failed");
	if (!strcmp(mode, "run")) {
		bpf_bump(argv[2], w, nthreads);
		write_view(argv[3], w, nthreads);
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	stop = 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(w[i].th, NULL);
	free(w);
	uptrkv_store__close(store);
	uptrkv_store__close(store2);
	return 0;
}
