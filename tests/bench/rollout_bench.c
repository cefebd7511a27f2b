// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rollout benchmark: how long uptrkv_rollout takes for a layout of 1024
 * keys (8 bytes each) across N live threads, as a function of N and of the
 * number of keys the new version changes.
 *
 * For each (threads, changed) case: a fresh deployment of version 1 (the
 * program is bpf/bench_rollout.bpf.c on a rarely hit tracepoint), a helper
 * process (forked) whose N threads register their stores (32 KiB reserve
 * each: room for both layouts) and then wait, and then REPS times: roll
 * out version 2 (timed, by step), roll back to version 1 (timed). Version 2
 * changes `changed` keys:
 *   0     every key renamed, none moved: meta and header writes only;
 *   K     keys 0..K-1 resized 8 -> 16 bytes: copied and zero-extended.
 * With --uptrkv PATH, the largest case is also timed through the CLI
 * (`uptrkv rollout -j`, process start and object load included).
 *
 *   rollout_bench --bpffs DIR --obj bench_rollout.bpf.o --dir TMPDIR
 *                 [--threads 10,100,1000] [--changed 0,64,1024] [--reps 3]
 *                 [--uptrkv PATH]
 * Exit: 0, 1 on error, 3 when 1024 keys x 1000 threads took >= 1 s.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "uptrkv.h"

#define NAME "rbench"
#define NKEYS 1024
#define RESERVE (8 * 4096)
#define MAX_LIST 16

static const char *bpffs, *obj, *dir, *cli;
static int reps = 3;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_list(const char *s, int *v)
{
	int n = 0;

	for (char *end; *s && n < MAX_LIST; s = *end ? end + 1 : end)
		v[n++] = (int)strtol(s, &end, 10);
	return n;
}

/* Version 1: 1024 keys k0..k1023 of 8 bytes. Version 2: `changed` keys
 * resized to 16 bytes, or (changed 0) every key renamed. */
static int write_manifest(const char *path, int version, int changed)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "apiVersion: uptrkv/v1\nname: %s\nversion: %d\nobject: %s\nkeys:\n", NAME, version, obj);
	for (int i = 0; i < NKEYS; i++) {
		bool renamed = version == 2 && changed == 0;
		int size = version == 2 && i < changed ? 16 : 8;

		fprintf(f, "  - {id: %d, name: %s%d, size: %d}\n", i, renamed ? "r" : "k", i, size);
	}
	return fclose(f) ? -errno : 0;
}

static struct uptrkv_manifest *load(const char *path)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	if (uptrkv_manifest__load(path, NULL, &m, &d))
		fprintf(stderr, "rollout_bench: %s: %s\n", path, d.n ? d.v[0].msg : "cannot load");
	uptrkv_diags__free(&d);
	return m;
}

/* ---- the helper process: N registered threads that wait ---- */

static struct uptrkv_app *app;
static atomic_int nr_ready, nr_failed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool stopping;

static void *app_thread(void *arg)
{
	struct uptrkv_thread *t = NULL;
	struct uptrkv_error e = {};

	UPTRKV_OPTS(uptrkv_app_thread_opts, o, .reserve_bytes = RESERVE);
	(void)arg;
	if (uptrkv_app__register(app, &o, &t, &e)) {
		if (!atomic_fetch_add(&nr_failed, 1))
			fprintf(stderr, "rollout_bench: register: %s\n", e.msg);
	}
	atomic_fetch_add(&nr_ready, 1);
	pthread_mutex_lock(&mu);
	while (!stopping)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	uptrkv_thread__unregister(t);
	return NULL;
}

static int app_main(int nthreads, int ready_fd, int ctl_fd)
{
	pthread_t *th = calloc(nthreads, sizeof(*th));
	struct uptrkv_error e = {};
	pthread_attr_t attr;
	char c = 'R';

	if (!th || uptrkv_app__open(bpffs, NAME, &app, &e)) {
		fprintf(stderr, "rollout_bench: app: %s\n", e.msg);
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], &attr, app_thread, NULL)) {
			fprintf(stderr, "rollout_bench: pthread_create %d failed\n", i);
			return 1;
		}
	while (atomic_load(&nr_ready) < nthreads)
		usleep(1000);
	if (atomic_load(&nr_failed))
		c = 'F';
	if (write(ready_fd, &c, 1) != 1)
		return 1;
	while (read(ctl_fd, &c, 1) > 0)
		;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	uptrkv_app__close(app);
	free(th);
	return 0;
}

/* ---- one case ---- */

struct sample {
	double total, preflight, migrate, sw, reclaim, back;
	size_t migrated;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* bench_rollout.bpf.o serves the layouts this program makes up, so it
 * carries no layout record: it is rolled out unbound, on purpose. */
static int rollout(const struct uptrkv_manifest *m, struct uptrkv_rollout_result *r)
{
	struct uptrkv_error e = {};

	UPTRKV_OPTS(uptrkv_rollout_opts, o, .bpffs = bpffs, .allow_unbound_object = true);
	if (uptrkv_rollout(m, &o, r, &e)) {
		fprintf(stderr, "rollout_bench: rollout to version %u: %s\n", m->version, e.msg);
		return -1;
	}
	return 0;
}

static int rollback(struct uptrkv_rollout_result *r)
{
	struct uptrkv_error e = {};

	UPTRKV_OPTS(uptrkv_rollout_opts, o, .bpffs = bpffs, .allow_unbound_object = true);
	if (uptrkv_rollback(NAME, &o, r, &e)) {
		fprintf(stderr, "rollout_bench: rollback: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int cli_rollout(const char *manifest, double *ms)
{
	char cmd[16384];
	double t0 = now_ms();
	int rc;

	snprintf(cmd, sizeof(cmd), "%s --bpffs %s rollout %s --allow-unbound-object -j > %s/cli.json", cli, bpffs, manifest, dir);
	rc = system(cmd);
	*ms = now_ms() - t0;
	if (rc) {
		fprintf(stderr, "rollout_bench: %s: exit %d\n", cmd, rc);
		return -1;
	}
	return 0;
}

static int run_case(int nthreads, int changed, bool via_cli, struct sample *out)
{
	char p1[4096], p2[4096];
	struct uptrkv_manifest *m1 = NULL, *m2 = NULL;
	struct uptrkv_rollout_result r = {};
	struct uptrkv_error e = {};
	double tot[MAX_LIST], pre[MAX_LIST], mig[MAX_LIST], sw[MAX_LIST], rec[MAX_LIST], back[MAX_LIST];
	int ready[2], ctl[2], status, err = -1, n = via_cli ? 1 : reps;
	pid_t pid = -1;
	char c = 0;

	snprintf(p1, sizeof(p1), "%s/v1.yaml", dir);
	snprintf(p2, sizeof(p2), "%s/v2-%d.yaml", dir, changed);
	if (write_manifest(p1, 1, 0) || write_manifest(p2, 2, changed))
		return -1;
	m1 = load(p1);
	m2 = load(p2);
	if (!m1 || !m2 || rollout(m1, &r))
		goto out;
	uptrkv_rollout_result__free(&r);
	if (pipe(ready) || pipe(ctl))
		goto out;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(ctl[1]);
		_exit(app_main(nthreads, ready[1], ctl[0]));
	}
	close(ready[1]);
	close(ctl[0]);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || c != 'R') {
		fprintf(stderr, "rollout_bench: the helper's %d threads did not all register\n", nthreads);
		goto stop;
	}
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n; i++) {
		if (via_cli) {
			if (cli_rollout(p2, &tot[i]))
				goto stop;
			pre[i] = mig[i] = sw[i] = rec[i] = 0;
		} else {
			if (rollout(m2, &r))
				goto stop;
			tot[i] = r.ms_total;
			pre[i] = r.ms_preflight;
			mig[i] = r.ms_migrate;
			sw[i] = r.ms_switch;
			rec[i] = r.ms_reclaim;
			out->migrated = r.nr_migrated;
			uptrkv_rollout_result__free(&r);
			if (out->migrated != (size_t)nthreads) {
				fprintf(stderr, "rollout_bench: %zu stores migrated, want %d\n", out->migrated, nthreads);
				goto stop;
			}
		}
		if (rollback(&r))
			goto stop;
		back[i] = r.ms_total;
		uptrkv_rollout_result__free(&r);
	}
	out->total = median(tot, n);
	out->preflight = median(pre, n);
	out->migrate = median(mig, n);
	out->sw = median(sw, n);
	out->reclaim = median(rec, n);
	out->back = median(back, n);
	out->migrated = nthreads;
	err = 0;
stop:
	close(ctl[1]);
	close(ready[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
out:
	uptrkv_rollout_result__free(&r);
	{
		UPTRKV_OPTS(uptrkv_rollout_opts, o, .bpffs = bpffs);
		uptrkv_undeploy(NAME, &o, &e);
	}
	uptrkv_manifest__free(m1);
	uptrkv_manifest__free(m2);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bpffs", 1, NULL, 'b' }, { "obj", 1, NULL, 'o' }, { "dir", 1, NULL, 'd' },
		{ "threads", 1, NULL, 't' }, { "changed", 1, NULL, 'c' }, { "reps", 1, NULL, 'r' },
		{ "uptrkv", 1, NULL, 'u' }, {},
	};
	int threads[MAX_LIST] = { 10, 100, 1000 }, changed[MAX_LIST] = { 0, 64, 1024 };
	int nt = 3, nc = 3, opt, rc = 0, big_t = 0, big_c = 0;
	double big_ms = 0;
	struct sample s;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'b': bpffs = optarg; break;
		case 'o': obj = optarg; break;
		case 'd': dir = optarg; break;
		case 't': nt = parse_list(optarg, threads); break;
		case 'c': nc = parse_list(optarg, changed); break;
		case 'r': reps = atoi(optarg); break;
		case 'u': cli = optarg; break;
		default: return 1;
		}
	}
	if (!bpffs || !obj || !dir || reps < 1 || reps > MAX_LIST) {
		fprintf(stderr, "usage: rollout_bench --bpffs DIR --obj OBJ --dir TMPDIR [--threads 10,100,1000] "
			"[--changed 0,64,1024] [--reps 3] [--uptrkv PATH]\n");
		return 1;
	}
	printf("rollout of 1024 keys x 8 B, median of %d; ms by step (library call uptrkv_rollout)\n", reps);
	printf("%8s %8s %10s %10s %10s %10s %10s %12s\n", "threads", "changed", "rollout", "preflight",
	       "migrate", "switch", "reclaim", "rollback");
	for (int i = 0; i < nt; i++)
		for (int j = 0; j < nc; j++) {
			if (run_case(threads[i], changed[j], false, &s)) {
				rc = 1;
				continue;
			}
			printf("%8d %8d %10.1f %10.1f %10.1f %10.1f %10.1f %12.1f\n", threads[i], changed[j],
			       s.total, s.preflight, s.migrate, s.sw, s.reclaim, s.back);
			fflush(stdout);
			if (threads[i] >= big_t && changed[j] >= big_c) {
				big_t = threads[i];
				big_c = changed[j];
				big_ms = s.total;
			}
		}
	if (cli && big_t) {
		if (run_case(big_t, big_c, true, &s))
			rc = 1;
		else
			printf("CLI: uptrkv rollout -j, %d threads, %d keys changed: %.1f ms wall "
			       "(process start, object load and verification included)\n", big_t, big_c, s.total);
	}
	if (!rc && big_t >= 1000 && big_c >= 1024) {
		printf("target: 1024 keys across %d live threads in %.1f ms: %s (< 1000 ms)\n", big_t, big_ms,
		       big_ms < 1000 ? "met" : "MISSED");
		if (big_ms >= 1000)
			rc = 3;
	}
	return rc;
}
