// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Registration benchmark: what uptrkv_app__register costs per thread, in
 * time and in memory.
 *
 *   - time, 1 thread: one thread registers and unregisters REPS times;
 *     the median register call.
 *   - time, N threads at once: N parked threads are released together and
 *     each registers; wall time from the first register's start to the
 *     last one's end, per thread, median of 3 runs (target: <= 20 us per
 *     thread with 1000).
 *   - memory: in a fresh child process, RSS of 200 parked threads (each
 *     has touched its stack and its malloc arena), then RSS after each has
 *     registered; the difference per thread is what uptrkv costs (libc's
 *     own per-thread cost, stack and arena, is printed beside it).
 *
 * For two layouts: 8 keys x 8 B, and 64 keys x 8 B. It deploys its own
 * deployments (bench/bench_rollout.bpf.o, found beside this binary in
 * $BUILD) in a private bpffs under /tmp, and removes everything after.
 * Needs root. Exit 0, or 1 on error; a missed target is printed, not fatal.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "uptrkv_tool.h"

#define REPS 200
#define MANY 1000
#define STACK (64 * 1024)
#define TARGET_US 20.0

static char tmp[] = "/tmp/uptrkv-regbench.XXXXXX";
static char bpffs[PATH_MAX], obj[PATH_MAX];
static const char *const names[] = { "reg-8x8", "reg-64x8" };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long rss_bytes(void)
{
	long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* $BUILD/bench/bench_register -> $BUILD/bpf/bench_rollout.bpf.o */
static int find_object(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -errno;
	exe[n] = 0;
	snprintf(obj, sizeof(obj), "%s/../bpf/bench_rollout.bpf.o", dirname(exe));
	return access(obj, R_OK) ? -errno : 0;
}

static int deploy(const char *name, int nkeys)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_rollout_result r = {};
	struct uptrkv_diags d = {};
	struct uptrkv_error e = {};
	char path[PATH_MAX];
	FILE *f;
	int err;

	UPTRKV_OPTS(uptrkv_rollout_opts, o, .bpffs = bpffs, .allow_unbound_object = true);
	snprintf(path, sizeof(path), "%s/%s.yaml", tmp, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "apiVersion: uptrkv/v1\nname: %s\nversion: 1\nobject: %s\nkeys:\n", name, obj);
	for (int i = 0; i < nkeys; i++)
		fprintf(f, "  - {id: %d, name: k%d, size: 8}\n", i, i);
	fclose(f);
	err = uptrkv_manifest__load(path, NULL, &m, &d);
	if (err) {
		fprintf(stderr, "bench_register: %s: %s\n", path, d.n ? d.v[0].msg : "cannot load");
		uptrkv_diags__free(&d);
		return err;
	}
	err = uptrkv_rollout(m, &o, &r, &e);
	if (err)
		fprintf(stderr, "bench_register: deploy %s: %s\n", name, e.msg);
	uptrkv_rollout_result__free(&r);
	uptrkv_manifest__free(m);
	return err;
}

/* ---- one thread, REPS times ---- */

struct one {
	struct uptrkv_app *app;
	double median;
	int err;
};

static void *one_thread(void *arg)
{
	struct one *o = arg;
	double t[REPS];

	for (int i = 0; i < REPS; i++) {
		struct uptrkv_thread *th;
		struct uptrkv_error e = {};
		double t0 = now_us();

		o->err = uptrkv_app__register(o->app, NULL, &th, &e);
		t[i] = now_us() - t0;
		if (o->err) {
			fprintf(stderr, "bench_register: register: %s\n", e.msg);
			return NULL;
		}
		uptrkv_thread__unregister(th);
	}
	qsort(t, REPS, sizeof(t[0]), cmp_double);
	o->median = t[REPS / 2];
	return NULL;
}

/* ---- many threads: parked, released at once ---- */

struct many {
	struct uptrkv_app *app;
	pthread_barrier_t start;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool go, stop;
	atomic_int parked, done, failed;
	double t_first, t_last;	/* first register started, last one ended */
};

static void set_min(double *p, double v)
{
	double cur;

	__atomic_load(p, &cur, __ATOMIC_RELAXED);
	while ((cur == 0 || v < cur) &&
	       !__atomic_compare_exchange(p, &cur, &v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void set_max(double *p, double v)
{
	double cur;

	__atomic_load(p, &cur, __ATOMIC_RELAXED);
	while (v > cur &&
	       !__atomic_compare_exchange(p, &cur, &v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void wait_flag(struct many *m, bool *flag)
{
	pthread_mutex_lock(&m->mu);
	while (!*flag)
		pthread_cond_wait(&m->cv, &m->mu);
	pthread_mutex_unlock(&m->mu);
}

static void set_flag(struct many *m, bool *flag)
{
	pthread_mutex_lock(&m->mu);
	*flag = true;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

static void *many_thread(void *arg)
{
	struct many *m = arg;
	struct uptrkv_thread *th = NULL;
	struct uptrkv_error e = {};
	void *p = malloc(64);	/* the thread's malloc arena: libc's cost, not ours */

	free(p);
	atomic_fetch_add(&m->parked, 1);
	wait_flag(m, &m->go);
	pthread_barrier_wait(&m->start);
	set_min(&m->t_first, now_us());
	if (uptrkv_app__register(m->app, NULL, &th, &e)) {
		if (!atomic_fetch_add(&m->failed, 1))
			fprintf(stderr, "bench_register: register: %s\n", e.msg);
	}
	set_max(&m->t_last, now_us());
	atomic_fetch_add(&m->done, 1);
	wait_flag(m, &m->stop);
	uptrkv_thread__unregister(th);
	return NULL;
}

struct many_res {
	double wall_us;
	double rss_libc, rss_uptrkv;	/* bytes per thread */
};

static int run_many(struct uptrkv_app *app, int n, struct many_res *res)
{
	pthread_t *th = calloc(n, sizeof(*th));
	struct many m = { .app = app };
	pthread_attr_t attr;
	long rss0, rss1, rss2;
	int err = 0, i;

	if (!th)
		return -ENOMEM;
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	rss0 = rss_bytes();
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], &attr, many_thread, &m)) {
			err = -EAGAIN;
			fprintf(stderr, "bench_register: pthread_create %d failed\n", i);
			break;
		}
	/* The created ones are parked on `go`; the barrier counts them. */
	n = i;
	pthread_barrier_init(&m.start, NULL, n + 1);
	while (atomic_load(&m.parked) < n)
		usleep(1000);
	rss1 = rss_bytes();
	set_flag(&m, &m.go);
	pthread_barrier_wait(&m.start);
	if (!err) {
		while (atomic_load(&m.done) < n)
			usleep(100);
		res->wall_us = m.t_last - m.t_first;
		rss2 = rss_bytes();
		res->rss_libc = (double)(rss1 - rss0) / n;
		res->rss_uptrkv = (double)(rss2 - rss1) / n;
		if (atomic_load(&m.failed))
			err = -EIO;
	}
	set_flag(&m, &m.stop);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	free(th);
	return err;
}

/* Memory: in a child forked before this process made any thread, so that
 * libc's stack cache and malloc arenas are fresh and what a registration
 * allocates shows in the RSS. */
static int measure_memory(const char *name, struct many_res *res)
{
	struct uptrkv_error e = {};
	struct uptrkv_app *app;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct many_res r = {};
		int err = uptrkv_app__open(bpffs, name, &app, &e);

		if (err)
			fprintf(stderr, "bench_register: open %s: %s\n", name, e.msg);
		err = err ?: run_many(app, 200, &r);
		uptrkv_app__close(app);
		_exit(err || write(fds[1], &r, sizeof(r)) != sizeof(r));
	}
	close(fds[1]);
	if (read(fds[0], res, sizeof(*res)) != sizeof(*res))
		res->rss_uptrkv = -1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static int cmp_res(const void *a, const void *b)
{
	return cmp_double(&((const struct many_res *)a)->wall_us, &((const struct many_res *)b)->wall_us);
}

static int bench_layout(const char *name, const struct many_res *mem)
{
	struct uptrkv_error e = {};
	struct uptrkv_app *app;
	struct one one = {};
	struct many_res r[3] = {};
	pthread_t t;
	int err;

	err = uptrkv_app__open(bpffs, name, &app, &e);
	if (err) {
		fprintf(stderr, "bench_register: open %s: %s\n", name, e.msg);
		return err;
	}
	one.app = app;
	pthread_create(&t, NULL, one_thread, &one);
	pthread_join(t, NULL);
	err = one.err;
	for (int i = 0; !err && i < 3; i++)
		err = run_many(app, MANY, &r[i]);
	if (!err) {
		double per;

		qsort(r, 3, sizeof(r[0]), cmp_res);
		per = r[1].wall_us / MANY;
		printf("%-12s %10.1f %14.1f %10s %12.2f %12.2f\n", name, one.median, per,
		       per <= TARGET_US ? "met" : "MISSED", mem->rss_uptrkv / 1024, mem->rss_libc / 1024);
	}
	uptrkv_app__close(app);
	return err;
}

int main(void)
{
	struct rlimit unl = { RLIM_INFINITY, RLIM_INFINITY };
	struct many_res mem[2] = {};
	int err;

	if (geteuid()) {
		fprintf(stderr, "bench_register: needs root (loads BPF programs)\n");
		return 1;
	}
	setrlimit(RLIMIT_MEMLOCK, &unl);
	if (find_object()) {
		fprintf(stderr, "bench_register: cannot find %s\n", obj);
		return 1;
	}
	if (!mkdtemp(tmp))
		return 1;
	snprintf(bpffs, sizeof(bpffs), "%s/bpffs", tmp);
	if (mkdir(bpffs, 0700) || mount("bpf", bpffs, "bpf", 0, NULL)) {
		perror("bench_register: mount bpffs");
		rmdir(bpffs);
		rmdir(tmp);
		return 1;
	}
	printf("registration per thread: time (us) and memory (KiB, RSS growth over 200 threads)\n");
	printf("%-12s %10s %14s %10s %12s %12s\n", "layout", "1 thread", "1000 at once", "<= 20 us",
	       "KiB uptrkv", "KiB libc");
	/* Deployments and memory first: no thread exists yet. */
	err = deploy(names[0], 8);
	err = err ?: deploy(names[1], 64);
	err = err ?: measure_memory(names[0], &mem[0]);
	err = err ?: measure_memory(names[1], &mem[1]);
	err = err ?: bench_layout(names[0], &mem[0]);
	err = err ?: bench_layout(names[1], &mem[1]);
	umount2(bpffs, MNT_DETACH);
	rmdir(bpffs);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s.yaml", tmp, names[i]);
		unlink(path);
	}
	rmdir(tmp);
	return err ? 1 : 0;
}
