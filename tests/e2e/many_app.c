// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * For tests/e2e/test_many_threads.sh: NTHREADS threads of one process
 * register in deployment NAME (key 0 "mine", u64; version 2 adds key 1
 * "added", u64, default 42) and stay registered, so that a low open-file
 * limit shows whether registration holds a file descriptor per thread.
 *   many_app BPFFS NAME NTHREADS CMDFILE
 * Prints "ready N FAILED first-error" once every thread has tried. Then
 * it follows CMDFILE, which the test appends to, one command a line:
 *   check V   every thread checks its store against layout version V (its
 *             own key 0 kept; key 1 42 then its own write under V 2, and
 *             -ENOENT under V 1), and 4 new threads register and check
 *             V's defaults; prints "checked ROUND V OK BAD first-error"
 *             (ROUND counts the checks from 1).
 *   quit      every thread unregisters; prints "bye".
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "uptrkv.h"

#define STACK (128 * 1024)	/* ASan's frames are large; still small */
#define FRESH 4

static struct uptrkv_app *app;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int round_no, version;	/* under mu: the check asked for */
static bool quitting;
static atomic_int tried, failed, ok, bad;
static char first_error[600];
static atomic_flag error_set = ATOMIC_FLAG_INIT;

static void note_error(const char *fmt, long a, long b)
{
	if (!atomic_flag_test_and_set(&error_set))
		snprintf(first_error, sizeof(first_error), fmt, a, b);
}

/* The store against layout version v; mine is the thread's key 0. */
static int check(struct uptrkv_thread *t, __u64 mine, int v, bool fresh)
{
	__u64 got = ~0ull, want = fresh ? 0 : mine, w = mine + 1000;
	int n;

	n = uptrkv_thread__get(t, 0, &got, sizeof(got));
	if (n != 8 || got != want) {
		note_error("key 0: got %ld, want %ld", n == 8 ? (long)got : n, (long)want);
		return -1;
	}
	n = uptrkv_thread__get(t, 1, &got, sizeof(got));
	if (v == 1) {
		if (n == -ENOENT)
			return 0;
		note_error("key 1 under v1: got %ld, want -ENOENT (%ld)", n, -ENOENT);
		return -1;
	}
	/* v2: the default, or the value this thread wrote at an earlier check. */
	if (n != 8 || (got != 42 && got != w)) {
		note_error("key 1 under v2: got %ld, size %ld", n == 8 ? (long)got : -1, n);
		return -1;
	}
	if (uptrkv_thread__put(t, 1, &w, sizeof(w)) || uptrkv_thread__get(t, 1, &got, 8) != 8 ||
	    got != w) {
		note_error("key 1 under v2: put %ld read back %ld", (long)w, (long)got);
		return -1;
	}
	return 0;
}

static struct uptrkv_thread *reg(void)
{
	struct uptrkv_thread *t = NULL;
	struct uptrkv_error e = {};

	if (uptrkv_app__register(app, NULL, &t, &e)) {
		atomic_fetch_add(&failed, 1);
		if (!atomic_flag_test_and_set(&error_set))
			snprintf(first_error, sizeof(first_error), "register: %s", e.msg);
		return NULL;
	}
	return t;
}

static void *worker(void *arg)
{
	__u64 mine = (__u64)(uintptr_t)arg;
	struct uptrkv_thread *t = reg();
	int seen = 0;

	if (t && uptrkv_thread__put(t, 0, &mine, sizeof(mine))) {
		note_error("put key 0: %ld %ld", 0, 0);
		atomic_fetch_add(&failed, 1);
	}
	atomic_fetch_add(&tried, 1);
	for (;;) {
		int v;

		pthread_mutex_lock(&mu);
		while (!quitting && round_no == seen)
			pthread_cond_wait(&cv, &mu);
		seen = round_no;
		v = version;
		pthread_mutex_unlock(&mu);
		if (quitting)
			break;
		if (t)
			atomic_fetch_add(check(t, mine, v, false) ? &bad : &ok, 1);
	}
	uptrkv_thread__unregister(t);
	return NULL;
}

/* A thread that registers after the rollout gets the new layout's defaults. */
static void *fresh(void *arg)
{
	struct uptrkv_thread *t = reg();

	if (t)
		atomic_fetch_add(check(t, 0, (int)(intptr_t)arg, true) ? &bad : &ok, 1);
	else
		atomic_fetch_add(&bad, 1);
	uptrkv_thread__unregister(t);
	return NULL;
}

static void run_check(int v, int n)
{
	pthread_t th[FRESH];
	pthread_attr_t attr;

	atomic_store(&ok, 0);
	atomic_store(&bad, 0);
	pthread_mutex_lock(&mu);
	round_no++;
	version = v;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	for (int i = 0; i < FRESH; i++)
		pthread_create(&th[i], &attr, fresh, (void *)(intptr_t)v);
	for (int i = 0; i < FRESH; i++)
		pthread_join(th[i], NULL);
	while (atomic_load(&ok) + atomic_load(&bad) < n + FRESH)
		usleep(1000);
	printf("checked %d %d %d %d %s\n", round_no, v, atomic_load(&ok), atomic_load(&bad),
	       atomic_load(&bad) ? first_error : "-");
	fflush(stdout);
}

/* The next line appended to the command file (polled: a file, not a
 * pipe, so neither side depends on the other still being there). */
static bool next_command(const char *path, long *done, char *line, size_t sz)
{
	for (;;) {
		FILE *f = fopen(path, "r");
		long n = 0;
		bool got = false;

		while (f && fgets(line, (int)sz, f))
			if (n++ == *done) {
				got = true;
				break;
			}
		if (f)
			fclose(f);
		if (got) {
			(*done)++;
			return true;
		}
		usleep(10000);
	}
}

int main(int argc, char **argv)
{
	struct uptrkv_error e = {};
	pthread_attr_t attr;
	pthread_t *th;
	char line[64];
	long done = 0;
	int n, created = 0;

	if (argc != 5)
		return 2;
	n = atoi(argv[3]);
	th = calloc(n, sizeof(*th));
	if (!th || uptrkv_app__open(argv[1], argv[2], &app, &e)) {
		fprintf(stderr, "many_app: %s\n", e.msg);
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	for (; created < n; created++)
		if (pthread_create(&th[created], &attr, worker, (void *)(uintptr_t)(created + 1))) {
			fprintf(stderr, "many_app: pthread_create %d failed\n", created);
			break;
		}
	while (atomic_load(&tried) < created)
		usleep(1000);
	printf("ready %d %d %s\n", created, atomic_load(&failed),
	       atomic_load(&failed) ? first_error : "-");
	fflush(stdout);
	while (next_command(argv[4], &done, line, sizeof(line))) {
		int v;

		if (sscanf(line, "check %d", &v) == 1)
			run_check(v, created - atomic_load(&failed));
		else if (!strncmp(line, "quit", 4))
			break;
	}
	pthread_mutex_lock(&mu);
	quitting = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < created; i++)
		pthread_join(th[i], NULL);
	uptrkv_app__close(app);
	free(th);
	printf("bye\n");
	return created == n ? 0 : 1;
}
