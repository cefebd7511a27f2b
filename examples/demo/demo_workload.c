// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uptrkv-demo-workload: the application side of the demo deployment
 * (examples/demo/demo_v*.yaml, examples/demo/demo_v*.bpf.c). Each thread registers its
 * store and loops:
 *   - put rx_bytes = i, then read it back: an unchanged key never loses a write;
 *   - getppid(): the "event"; the live version's sys_enter counts it in key 1;
 *   - key 1 must then equal the thread's own event count: exactly one
 *     program handled every event, none was lost or handled twice;
 *   - version_seen (key 9) is the version that handled the event: it must
 *     never be 0 and, with --monotonic, never go down;
 *   - now and then, the values every version must agree on: comm, blob,
 *     and the defaults of added keys.
 * It prints "ready PID TID..." once every thread is registered, and a JSON
 * report when it stops (SIGTERM, SIGINT or --duration).
 */
#include <argp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "uptrkv.h"
/* The build writes these with `uptrkv gen header examples/demo/demo_vN.yaml
 * --prefix demo_vN`, as a user would: the workload follows every version,
 * and some keys live in only some of them. */
#include "demo_v1_app.h"
#include "demo_v2_app.h"
#include "demo_v3_app.h"

/* A key keeps its id across versions, whatever its name becomes. */
enum {
	K_RX = DEMO_V3_KEY_RX_BYTES,
	K_EVENTS = DEMO_V1_KEY_EVENTS,		/* 'syscalls' from v2 on */
	K_COMM = DEMO_V3_KEY_COMM,
	K_FLAGS = DEMO_V3_KEY_FLAGS,
	K_BLOB = DEMO_V3_KEY_BLOB,
	K_LABEL = DEMO_V2_KEY_LABEL,		/* v2 only */
	K_VERSION = DEMO_V3_KEY_VERSION_SEEN,
	K_BIG = DEMO_V3_KEY_BIG,		/* v3 only */
	K_RATIO = DEMO_V3_KEY_RATIO,		/* v3 only */
};
_Static_assert(DEMO_V1_KEY_EVENTS == DEMO_V2_KEY_SYSCALLS &&
	       DEMO_V2_KEY_SYSCALLS == DEMO_V3_KEY_SYSCALLS, "key 1 keeps its id");
_Static_assert(DEMO_V1_KEY_BLOB == DEMO_V3_KEY_BLOB && DEMO_V1_KEY_COMM == DEMO_V3_KEY_COMM,
	       "the stable keys keep their ids");
#define BLOB_LEN DEMO_V1_SIZE_BLOB	/* v1's size; v2 grows it */
#define MAX_VERSIONS 16

struct cfg {
	const char *bpffs, *name, *report;
	int threads;
	unsigned int reserve;
	double duration;
	bool churn, monotonic;
};

struct worker {
	pthread_t th;
	int tid;
	unsigned long iterations, events, errors, checks;
	unsigned int versions[MAX_VERSIONS];	/* distinct versions, in order seen */
	int nr_versions;
	char first_error[256];
};

/* v2 and v3 each add a 4 KiB value beside the live layout: 4 pages of room. */
static struct cfg cfg = { .bpffs = "/sys/fs/bpf", .name = "demo", .threads = 4, .reserve = 16384 };
static struct uptrkv_app *app;
static atomic_int stop, registered, churn_threads, churn_errors;
static char churn_error[256];

static void fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->errors++) {
		va_start(ap, fmt);
		vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
		va_end(ap);
	}
}

static void blob_pattern(int tid, __u8 *b)
{
	for (int i = 0; i < BLOB_LEN; i++)
		b[i] = (__u8)(tid * 31 + i);
}

/* Values every version must agree on, whatever it added or resized. The
 * workload follows the live layout (it reads into a buffer of any size and
 * writes at the size it read), so it uses the exact-size calls throughout:
 * no prefix, no -EPROTO for a key retyped under it. */
static void check_stable(struct worker *w, struct uptrkv_thread *t, const char *comm)
{
	__u8 buf[UPTRKV_MAX_VALUE], pat[BLOB_LEN];
	int n;

	w->checks++;
	n = uptrkv_thread__get_exact(t, K_COMM, buf, sizeof(buf));
	if (n < 0 || strncmp((char *)buf, comm, n))
		fail(w, "comm: got '%.*s' (%d), want '%s'", n > 0 ? n : 0, buf, n, comm);
	n = uptrkv_thread__get_exact(t, K_BLOB, buf, sizeof(buf));
	blob_pattern(w->tid, pat);
	if (n < 0 || memcmp(buf, pat, n < BLOB_LEN ? n : BLOB_LEN))
		fail(w, "blob: first bytes changed (size %d)", n);
	for (int i = BLOB_LEN; i < n; i++)
		if (buf[i]) {
			fail(w, "blob: byte %d is %u, want 0 (zero-extended)", i, buf[i]);
			break;
		}
	n = uptrkv_thread__get_exact(t, K_LABEL, buf, sizeof(buf));
	if (n >= 0 && strcmp((char *)buf, "demo"))
		fail(w, "label: got '%s', want the default 'demo'", buf);
	n = uptrkv_thread__get_exact(t, K_RATIO, buf, sizeof(buf));
	if (n == 4 && *(__s32 *)buf != -1)
		fail(w, "ratio: got %d, want the default -1", *(__s32 *)buf);
	n = uptrkv_thread__get_exact(t, K_FLAGS, buf, sizeof(buf));
	if ((n == 2 && *(__u16 *)buf != 7) || (n == 4 && *(__u32 *)buf != 1))
		fail(w, "flags: got %u (size %d), want the default", n == 2 ? *(__u16 *)buf : *(__u32 *)buf, n);
}

static void note_version(struct worker *w, __u32 v)
{
	unsigned int last = w->nr_versions ? w->versions[w->nr_versions - 1] : 0;

	if (!v) {
		fail(w, "event %lu handled by no program (version_seen 0)", w->events);
		return;
	}
	if (v == last)
		return;
	if (cfg.monotonic && v < last)
		fail(w, "version went back from %u to %u", last, v);
	if (w->nr_versions < MAX_VERSIONS)
		w->versions[w->nr_versions++] = v;
}

static void one_iteration(struct worker *w, struct uptrkv_thread *t, const char *comm)
{
	__u64 i = ++w->iterations, v64 = 0;
	__u32 v32 = 0;
	int n;

	n = uptrkv_thread__put_exact(t, K_RX, &i, 8);
	if (n < 0)
		fail(w, "put rx_bytes: %s", strerror(-n));
	syscall(SYS_getppid);
	w->events++;
	n = uptrkv_thread__get_exact(t, K_EVENTS, &v64, 8);
	if (n < 0)
		fail(w, "event %lu: get key 1: %s", w->events, strerror(-n));
	else if (n != 8 || v64 != w->events)
		fail(w, "event %lu: key 1 is %llu: an event was lost or handled twice",
		     w->events, (unsigned long long)v64);
	n = uptrkv_thread__get_exact(t, K_RX, &v64, 8);
	if (n < 0)
		fail(w, "get rx_bytes: %s", strerror(-n));
	else if (n != 8 || v64 != i)
		fail(w, "rx_bytes: wrote %llu, read %llu", (unsigned long long)i, (unsigned long long)v64);
	if (uptrkv_thread__get_exact(t, K_VERSION, &v32, 4) == 4)
		note_version(w, v32);
	if (!(i % 64))
		check_stable(w, t, comm);
}

static int setup_thread(struct worker *w, struct uptrkv_thread **t, char *comm, size_t sz)
{
	struct uptrkv_error e = {};
	__u8 blob[UPTRKV_MAX_VALUE] = {};
	int err, n;

	UPTRKV_OPTS(uptrkv_app_thread_opts, ro, .reserve_bytes = cfg.reserve);

	w->tid = gettid();
	err = uptrkv_app__register(app, &ro, t, &e);
	if (err) {
		fail(w, "register: %s", e.msg);
		return err;
	}
	/* Write comm and blob at whatever size the live layout gives them. */
	snprintf(comm, sz, "w%d", w->tid % 100000);
	n = uptrkv_thread__get_exact(*t, K_COMM, blob, sizeof(blob));
	memset(blob, 0, sizeof(blob));
	memcpy(blob, comm, strlen(comm));
	if (n <= 0 || uptrkv_thread__put_exact(*t, K_COMM, blob, n) < 0)
		fail(w, "put comm failed (size %d)", n);
	n = uptrkv_thread__get_exact(*t, K_BLOB, blob, sizeof(blob));
	memset(blob, 0, sizeof(blob));
	blob_pattern(w->tid, blob);
	if (n <= 0 || uptrkv_thread__put_exact(*t, K_BLOB, blob, n) < 0)
		fail(w, "put blob failed (size %d)", n);
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct uptrkv_thread *t = NULL;
	char comm[16];

	if (setup_thread(w, &t, comm, sizeof(comm))) {
		atomic_fetch_add(&registered, 1);
		return NULL;
	}
	atomic_fetch_add(&registered, 1);
	while (!atomic_load(&stop))
		one_iteration(w, t, comm);
	uptrkv_thread__unregister(t);
	return NULL;
}

/* A short-lived thread: registers, handles a few events, exits. */
static void *churn_one(void *arg)
{
	struct worker *w = arg;
	struct uptrkv_thread *t = NULL;
	char comm[16];

	if (setup_thread(w, &t, comm, sizeof(comm)))
		return NULL;
	for (int i = 0; i < 200 && !atomic_load(&stop); i++)
		one_iteration(w, t, comm);
	uptrkv_thread__unregister(t);
	return NULL;
}

/* Threads that come and go, some of them while a rollout runs. */
static void *churn_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct worker w = {};
		pthread_t th;

		if (pthread_create(&th, NULL, churn_one, &w))
			break;
		pthread_join(th, NULL);
		atomic_fetch_add(&churn_threads, 1);
		if (w.errors && !atomic_fetch_add(&churn_errors, w.errors))
			snprintf(churn_error, sizeof(churn_error), "%s", w.first_error);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

static void report(struct worker *ws, int n)
{
	FILE *f = cfg.report ? fopen(cfg.report, "w") : stdout;
	unsigned long errors = atomic_load(&churn_errors);

	if (!f)
		f = stdout;
	fprintf(f, "{\"pid\":%d,\"threads\":[", getpid());
	for (int i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		errors += w->errors;
		fprintf(f, "%s{\"tid\":%d,\"iterations\":%lu,\"events\":%lu,\"checks\":%lu,\"errors\":%lu,"
			"\"first_error\":\"%s\",\"versions\":[", i ? "," : "", w->tid, w->iterations,
			w->events, w->checks, w->errors, w->first_error);
		for (int j = 0; j < w->nr_versions; j++)
			fprintf(f, "%s%u", j ? "," : "", w->versions[j]);
		fprintf(f, "]}");
	}
	fprintf(f, "],\"churn_threads\":%d,\"churn_errors\":%d,\"churn_first_error\":\"%s\",\"errors\":%lu}\n",
		atomic_load(&churn_threads), atomic_load(&churn_errors), churn_error, errors);
	if (f != stdout)
		fclose(f);
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'b': cfg.bpffs = arg; break;
	case 'n': cfg.name = arg; break;
	case 't': cfg.threads = atoi(arg); break;
	case 'd': cfg.duration = atof(arg); break;
	case 'r': cfg.report = arg; break;
	case 'c': cfg.churn = true; break;
	case 'm': cfg.monotonic = true; break;
	case 'R': cfg.reserve = strtoul(arg, NULL, 0); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	if (cfg.threads < 1 || cfg.threads > 4096) {
		argp_error(state, "--threads must be 1..4096");
		return EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp_option opts[] = {
		{ "bpffs", 'b', "DIR", 0, "bpffs root (default /sys/fs/bpf)", 0 },
		{ "name", 'n', "NAME", 0, "deployment name (default demo)", 0 },
		{ "threads", 't', "N", 0, "worker threads (default 4)", 0 },
		{ "duration", 'd', "SEC", 0, "stop after SEC seconds (default: at SIGTERM)", 0 },
		{ "report", 'r', "FILE", 0, "write the JSON report here (default stdout)", 0 },
		{ "churn", 'c', NULL, 0, "also keep starting short-lived registered threads", 0 },
		{ "monotonic", 'm', NULL, 0, "fail if the handling version ever goes down", 0 },
		{ "reserve", 'R', "BYTES", 0, "data bytes each thread registers (default 16384)", 0 },
		{},
	};
	const struct argp argp = { opts, parse, NULL,
		"The demo application: registered threads that check, after every event, that "
		"no value and no event was lost while uptrkv rolls out new versions." };
	struct uptrkv_error e = {};
	struct worker *ws;
	pthread_t churn;
	struct timespec t0, now;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (uptrkv_app__open(cfg.bpffs, cfg.name, &app, &e)) {
		fprintf(stderr, "uptrkv-demo-workload: %s\n", e.msg);
		return 1;
	}
	ws = calloc(cfg.threads, sizeof(*ws));
	for (int i = 0; i < cfg.threads; i++)
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	while (atomic_load(&registered) < cfg.threads)
		usleep(1000);
	printf("ready %d", getpid());
	for (int i = 0; i < cfg.threads; i++)
		printf(" %d", ws[i].tid);
	printf("\n");
	fflush(stdout);
	if (cfg.churn)
		pthread_create(&churn, NULL, churn_main, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&stop)) {
		usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (cfg.duration > 0 && now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 > cfg.duration)
			atomic_store(&stop, 1);
	}
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(ws[i].th, NULL);
	if (cfg.churn)
		pthread_join(churn, NULL);
	report(ws, cfg.threads);
	free(ws);
	uptrkv_app__close(app);
	return 0;
}
