// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The application side of the read-your-writes soak (test_rw_soak.sh).
 *
 *   rw_app BPFFS NAME THREADS REPORT
 *
 * THREADS threads (and, all along, short-lived ones that register, run a
 * few rounds and exit) each loop over:
 *   1. key 3 (bytes; 16, 40 or 24 bytes as the layout goes) and key 2
 *      (s16, then s32): read back what this thread wrote last, then write
 *      the next value in the live size. Only this thread writes its store's
 *      keys 2 and 3, so anything but its own last write is a stale read
 *      (or, if the key holds an older value for good, a lost write);
 *   2. getppid(): the event. Exactly one version's BPF program adds 1 to
 *      key 0 (pointer, unchanged key) and to key 1 (get and put; u32, then
 *      u64), so both must equal the thread's own event count after it.
 * Threads are not all laid out alike, so that one rollout migrates stores
 * of several layouts (it plans each distinct layout once, lib/migrate.c):
 * every third thread also keeps a key no manifest names (key 900, the
 * app's own, read back and written every round: no rollout may lose it),
 * and every third registers three data pages instead of the default.
 * A check that fails counts and prints its first occurrence; SIGTERM stops
 * the run and writes a JSON report. It prints "ready" when the first
 * THREADS threads are registered.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "uptrkv.h"

enum { K_EV = 0, K_W = 1, K_S = 2, K_BLOB = 3, K_OWN = 900 };
enum { V_PLAIN, V_OWN_KEY, V_MORE_PAGES, NR_VARIANTS };

static struct uptrkv_app *app;
static atomic_int stop;
static atomic_ulong checks, stale, lost_writes, lost_events, errors, rounds, churned;
static atomic_ulong started, variants[NR_VARIANTS];
static char first[512];
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;

static void bad(atomic_ulong *counter, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(counter, 1);
	pthread_mutex_lock(&first_lock);
	if (!first[0]) {
		va_start(ap, fmt);
		vsnprintf(first, sizeof(first), fmt, ap);
		va_end(ap);
		fprintf(stderr, "rw_app: %s\n", first);
	}
	pthread_mutex_unlock(&first_lock);
}

/* The live size of key, learned by reading it into a buffer of any size.
 * This app follows the live layout on purpose, so it uses the exact-size
 * calls: a put of the old size must fail, not write a prefix. */
static int get_any(struct uptrkv_thread *t, __u32 key, __u8 *buf)
{
	int n;

	for (int i = 0; i < 1000; i++) {
		n = uptrkv_thread__get_exact(t, key, buf, UPTRKV_MAX_VALUE);
		if (n != -EAGAIN)
			return n;
	}
	return n;
}

/* The pattern of write seq in n bytes: seq first, then a byte of it. */
static void pattern(__u8 *b, __u32 n, __u64 seq)
{
	memset(b, (int)(seq & 0x7f) | 1, n);
	memcpy(b, &seq, n < 8 ? n : 8);
}

/* Reads key 3 back (the write seq, in the size of whatever layout is live
 * now: a grown value is the old one zero-extended, a shrunk one its
 * prefix), then writes seq + 1 in the live size. */
static void blob_round(struct uptrkv_thread *t, __u64 *seq, __u32 *wrote_len)
{
	__u8 got[UPTRKV_MAX_VALUE], want[UPTRKV_MAX_VALUE] = {};
	int n, err;

	n = get_any(t, K_BLOB, got);
	if (n < 0) {
		bad(&errors, "tid %ld: get key 3: %s", syscall(SYS_gettid), strerror(-n));
		return;
	}
	if (*seq) {
		__u32 cmp = (__u32)n < *wrote_len ? (__u32)n : *wrote_len;

		pattern(want, cmp, *seq);
		atomic_fetch_add(&checks, 1);
		/* past what was written, a grown value is zero */
		memset(want + cmp, 0, n - cmp);
		if (memcmp(got, want, n)) {
			/* Right a moment later: a stale read. Still wrong: the write is lost. */
			usleep(2000);
			n = get_any(t, K_BLOB, got);
			bad(n > 0 && (__u32)n <= UPTRKV_MAX_VALUE && !memcmp(got, want, n) ? &stale : &lost_writes,
			    "tid %ld: key 3 read %llu, last write was %llu (%u bytes, now %d)",
			    syscall(SYS_gettid), *(unsigned long long *)got,
			    (unsigned long long)*seq, *wrote_len, n);
		}
	}
	for (int i = 0; i < 100; i++) {
		pattern(want, n, *seq + 1);
		err = uptrkv_thread__put_exact(t, K_BLOB, want, n);
		if (err != -EMSGSIZE)
			break;
		n = get_any(t, K_BLOB, got);	/* resized meanwhile */
		if (n < 0)
			break;
	}
	if (err) {
		bad(&errors, "tid %ld: put key 3: %s", syscall(SYS_gettid), strerror(-err));
		return;
	}
	(*seq)++;
	*wrote_len = n;
}

/* Key 2, s16 then s32: a negative value must keep its sign through the
 * widening. */
static void signed_round(struct uptrkv_thread *t, __s32 *last)
{
	__u8 got[UPTRKV_MAX_VALUE];
	__s32 v, next = -(__s32)((atomic_load(&rounds) % 30000) + 1);
	int n, err = 0;

	n = get_any(t, K_S, got);
	if (n != 2 && n != 4) {
		bad(&errors, "tid %ld: get key 2: %d", syscall(SYS_gettid), n);
		return;
	}
	v = n == 2 ? *(__s16 *)got : *(__s32 *)got;
	atomic_fetch_add(&checks, 1);
	if (*last && v != *last)
		bad(&stale, "tid %ld: key 2 read %d, last write was %d", syscall(SYS_gettid), v, *last);
	for (int i = 0; i < 100; i++) {
		__s16 s = next;

		err = n == 2 ? uptrkv_thread__put_exact(t, K_S, &s, 2) : uptrkv_thread__put_exact(t, K_S, &next, 4);
		if (err != -EMSGSIZE)
			break;
		n = get_any(t, K_S, got);
	}
	if (err)
		bad(&errors, "tid %ld: put key 2: %s", syscall(SYS_gettid), strerror(-err));
	else
		*last = next;
}

/* What BPF counted: key 0 and key 1 must equal this thread's events. */
static void event_round(struct uptrkv_thread *t, __u64 *events)
{
	__u8 got[UPTRKV_MAX_VALUE];
	__u64 ev, w;
	int n;

	syscall(SYS_getppid);
	(*events)++;
	n = get_any(t, K_EV, got);
	memcpy(&ev, got, 8);
	if (n == 8 && ev != *events)
		bad(&lost_events, "tid %ld: key 0 counted %llu events, the thread made %llu",
		    syscall(SYS_gettid), (unsigned long long)ev, (unsigned long long)*events);
	n = get_any(t, K_W, got);
	w = n == 4 ? *(__u32 *)got : *(__u64 *)got;
	if ((n == 4 || n == 8) && w != *events)
		bad(&lost_events, "tid %ld: key 1 (%d bytes) counted %llu events, the thread made %llu",
		    syscall(SYS_gettid), n, (unsigned long long)w, (unsigned long long)*events);
	if (n != 4 && n != 8)
		bad(&errors, "tid %ld: get key 1: %d", syscall(SYS_gettid), n);
	atomic_fetch_add(&checks, 2);
}

/* Key 900, the app's own: the value this thread wrote last, then the next. */
static void own_round(struct uptrkv_thread *t, __u64 *own)
{
	__u8 got[UPTRKV_MAX_VALUE];
	__u64 v;
	int n, err;

	n = get_any(t, K_OWN, got);
	memcpy(&v, got, 8);
	atomic_fetch_add(&checks, 1);
	if (n != 8 || v != *own) {
		bad(n == 8 ? &lost_writes : &errors, "tid %ld: own key 900 read %d bytes, %llu; last write was %llu",
		    syscall(SYS_gettid), n, (unsigned long long)v, (unsigned long long)*own);
		return;
	}
	v = *own + 1;
	err = uptrkv_thread__put_exact(t, K_OWN, &v, 8);
	if (err)
		bad(&errors, "tid %ld: put key 900: %s", syscall(SYS_gettid), strerror(-err));
	else
		*own = v;
}

/* Registers the calling thread as its variant wants it. */
static int register_variant(int variant, struct uptrkv_thread **t, __u64 *own, struct uptrkv_error *e)
{
	UPTRKV_OPTS(uptrkv_app_thread_opts, o, .reserve_bytes = 3 * UPTRKV_PAGE_SIZE);
	int err;

	err = uptrkv_app__register(app, variant == V_MORE_PAGES ? &o : NULL, t, e);
	if (err)
		return err;
	/* The default registers one page for this small layout: else the
	 * three-page threads would be laid out as the others. */
	if ((variant == V_MORE_PAGES) != (uptrkv_thread__free_bytes(*t) > 2 * UPTRKV_PAGE_SIZE)) {
		snprintf(e->msg, sizeof(e->msg), "variant %d: %u bytes free", variant,
			 uptrkv_thread__free_bytes(*t));
		return -EINVAL;
	}
	if (variant != V_OWN_KEY)
		return 0;
	*own = (__u64)syscall(SYS_gettid) << 20;
	err = uptrkv_thread__put_exact(*t, K_OWN, own, 8);
	if (err)
		snprintf(e->msg, sizeof(e->msg), "put key 900: %s", strerror(-err));
	return err;
}

struct worker {
	long rounds;		/* 0: until stop */
	atomic_int *ready;
};

static void *run(void *arg)
{
	struct worker *w = arg;
	struct uptrkv_error e = {};
	struct uptrkv_thread *t;
	__u64 seq = 0, events = 0, own = 0;
	int variant = atomic_fetch_add(&started, 1) % NR_VARIANTS;
	__u32 wrote_len = 0;
	__s32 last = 0;
	int err;

	err = register_variant(variant, &t, &own, &e);
	if (err) {
		bad(&errors, "register: %s", e.msg);
		return NULL;
	}
	atomic_fetch_add(&variants[variant], 1);
	if (w->ready)
		atomic_fetch_add(w->ready, 1);
	for (long i = 0; !atomic_load(&stop) && (!w->rounds || i < w->rounds); i++) {
		blob_round(t, &seq, &wrote_len);
		signed_round(t, &last);
		event_round(t, &events);
		if (variant == V_OWN_KEY)
			own_round(t, &own);
		atomic_fetch_add(&rounds, 1);
	}
	uptrkv_thread__unregister(t);
	return NULL;
}

/* Threads that come and go during the rollouts. */
static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct worker w = { .rounds = 200 };
		pthread_t th;

		if (pthread_create(&th, NULL, run, &w))
			break;
		pthread_join(th, NULL);
		atomic_fetch_add(&churned, 1);
	}
	return NULL;
}

static void on_term(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

int main(int argc, char **argv)
{
	struct uptrkv_error e = {};
	atomic_int ready = 0;
	pthread_t *th, ch;
	struct worker w;
	FILE *f;
	int n;

	if (argc != 5) {
		fprintf(stderr, "usage: rw_app BPFFS NAME THREADS REPORT\n");
		return 2;
	}
	n = atoi(argv[3]);
	if (uptrkv_app__open(argv[1], argv[2], &app, &e)) {
		fprintf(stderr, "rw_app: %s\n", e.msg);
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	th = calloc(n, sizeof(*th));
	w = (struct worker){ .ready = &ready };
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, run, &w);
	while (atomic_load(&ready) < n && !atomic_load(&errors))
		usleep(1000);
	pthread_create(&ch, NULL, churn, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	/* Not pause(): SIGTERM may land on any thread, not this one. */
	while (!atomic_load(&stop))
		usleep(10000);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_join(ch, NULL);
	f = fopen(argv[4], "w");
	if (f) {
		fprintf(f, "{\"threads\":%d,\"rounds\":%lu,\"checks\":%lu,\"stale\":%lu,"
			"\"lost_writes\":%lu,\"lost_events\":%lu,\"errors\":%lu,\"churned\":%lu,"
			"\"variants\":[%lu,%lu,%lu],\"first\":\"%s\"}\n",
			n, atomic_load(&rounds), atomic_load(&checks), atomic_load(&stale),
			atomic_load(&lost_writes), atomic_load(&lost_events), atomic_load(&errors),
			atomic_load(&churned), atomic_load(&variants[V_PLAIN]),
			atomic_load(&variants[V_OWN_KEY]), atomic_load(&variants[V_MORE_PAGES]), first);
		fclose(f);
	}
	free(th);
	uptrkv_app__close(app);
	return 0;
}
