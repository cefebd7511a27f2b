// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Rollout benchmark: uptrkv_rollout, uptrkv_rollback and uptrkv_dump__pid
 * side by side with a hand-written migration of the same data, across N
 * live threads, for layouts of TOTAL keys of which CHANGED change.
 *
 * For each (threads, TOTAL:CHANGED) case: a fresh deployment of version 1
 * (TOTAL keys of 8 bytes; the program is bench/bench_rollout.bpf.c on a
 * rarely hit tracepoint), a helper process (forked) whose N threads
 * register their stores and wait, and then REPS times: roll out version 2
 * (keys 0..CHANGED-1 resized 8 -> 16 bytes: copied and zero-extended; 0:
 * every key renamed), roll back to version 1, dump the helper's stores.
 *
 * The hand-written migration is what a user would otherwise write: the
 * same values in a hash map keyed by tid (one value per thread, the struct
 * of TOTAL u64s), a new map of the new value layout, bpf_map_lookup_batch
 * and bpf_map_update_batch to copy and convert every value, and one
 * prog-array update to switch programs. It loses writes made during the
 * copy; uptrkv does not. Its "dump" is one batch lookup of the whole map.
 *
 *   rollout_bench --bpffs DIR --obj bench_rollout.bpf.o --dir TMPDIR
 *                 [--threads 100,1000,10000] [--cases 64:64,1024:1024,1024:64]
 *                 [--reps 3] [--uptrkv PATH] [--tsv FILE]
 * --tsv writes every row, tab-separated, for bench/report.sh.
 * Exit: 0, 1 on error, 3 when a goal of issue 16 was missed (printed).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "uptrkv_tool.h"

#define NAME "rbench"
#define RESERVE (8 * 4096)
#define STACK (64 * 1024)	/* the helper's threads only wait */
#define MAX_LIST 16
#define MAX_REPS 16

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

/* "64:64,1024:64" into total[] and changed[]. */
static int parse_cases(const char *s, int *total, int *changed)
{
	int n = 0;

	for (char *end; *s && n < MAX_LIST; s = *end ? end + 1 : end) {
		total[n] = (int)strtol(s, &end, 10);
		changed[n] = *end == ':' ? (int)strtol(end + 1, &end, 10) : total[n];
		if (total[n] < 1 || total[n] > 1024 || changed[n] < 0 || changed[n] > total[n])
			return -1;
		n++;
	}
	return n;
}

/* Version 1: total keys k0.. of 8 bytes. Version 2: keys 0..changed-1
 * resized to 16 bytes, or (changed 0) every key renamed. */
static int write_manifest(const char *path, int version, int total, int changed)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "apiVersion: uptrkv/v1\nname: %s\nversion: %d\nobject: %s\nkeys:\n", NAME, version, obj);
	for (int i = 0; i < total; i++) {
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
static int nr_keys;

static void *app_thread(void *arg)
{
	struct uptrkv_thread *t = NULL;
	struct uptrkv_error e = {};
	__u64 v = 0;

	UPTRKV_OPTS(uptrkv_app_thread_opts, o, .reserve_bytes = RESERVE);
	(void)arg;
	if (uptrkv_app__register(app, &o, &t, &e)) {
		if (!atomic_fetch_add(&nr_failed, 1))
			fprintf(stderr, "rollout_bench: register: %s\n", e.msg);
	}
	/* Every key holds a value of its own, as in the hand-written map. */
	for (int k = 0; t && k < nr_keys; k++) {
		v = (__u64)gettid() << 16 | k;
		uptrkv_thread__put(t, k, &v, 8);
	}
	atomic_fetch_add(&nr_ready, 1);
	pthread_mutex_lock(&mu);
	while (!stopping)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	uptrkv_thread__unregister(t);
	return NULL;
}

/* Each thread holds file descriptors while it registers (issue 16 takes
 * them away): the soft limit up to the hard one, which is per process. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static int app_main(int nthreads, int ready_fd, int ctl_fd)
{
	pthread_t *th = calloc(nthreads, sizeof(*th));
	struct uptrkv_error e = {};
	pthread_attr_t attr;
	int started = 0;
	char c = 'R';

	raise_fd_limit();
	if (!th || uptrkv_app__open(bpffs, NAME, &app, &e)) {
		fprintf(stderr, "rollout_bench: app: %s\n", e.msg);
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	for (; started < nthreads; started++)
		if (pthread_create(&th[started], &attr, app_thread, NULL)) {
			fprintf(stderr, "rollout_bench: pthread_create %d failed\n", started);
			c = 'F';
			break;
		}
	while (atomic_load(&nr_ready) < started)
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
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	uptrkv_app__close(app);
	free(th);
	return 0;
}

/*
 * The live threads, in helper processes of at most PER_HELPER threads each:
 * a registered thread holds file descriptors until issue 16 takes them
 * away, and the open-file limit is per process.
 */
#define PER_HELPER 4000
#define MAX_HELPERS 16

struct helpers {
	int n;
	pid_t pid[MAX_HELPERS];
	int threads[MAX_HELPERS];
	int ctl[MAX_HELPERS];
};

static void stop_helpers(struct helpers *hs)
{
	int status;

	for (int i = 0; i < hs->n; i++)
		close(hs->ctl[i]);
	for (int i = 0; i < hs->n; i++)
		if (hs->pid[i] > 0)
			waitpid(hs->pid[i], &status, 0);
	hs->n = 0;
}

static int start_helpers(int nthreads, int total, struct helpers *hs)
{
	int left = nthreads, err = 0;

	memset(hs, 0, sizeof(*hs));
	nr_keys = total;
	while (left > 0 && hs->n < MAX_HELPERS) {
		int ready[2], ctl[2], k = left < PER_HELPER ? left : PER_HELPER;
		char c = 0;

		if (pipe(ready) || pipe(ctl))
			return -1;
		fflush(NULL);
		hs->pid[hs->n] = fork();
		if (hs->pid[hs->n] == 0) {
			close(ready[0]);
			close(ctl[1]);
			_exit(app_main(k, ready[1], ctl[0]));
		}
		close(ready[1]);
		close(ctl[0]);
		hs->ctl[hs->n] = ctl[1];
		hs->threads[hs->n++] = k;
		if (hs->pid[hs->n - 1] < 0 || read(ready[0], &c, 1) != 1 || c != 'R')
			err = -1;
		close(ready[0]);
		if (err)
			break;
		left -= k;
	}
	if (err || left)
		fprintf(stderr, "rollout_bench: the helpers' %d threads did not all register\n", nthreads);
	return err || left ? -1 : 0;
}

/* ---- the hand-written migration ---- */

/*
 * Two trivial programs and a prog array: the switch a hand-written
 * migration makes is one update of the array (tail-call dispatch).
 */
struct handmig {
	int old_map, prog_array, prog[2];
	__u32 n, old_size, new_size;
	__u32 *keys;
	__u8 *old_vals, *new_vals;
};

static int trivial_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "rb_prog", "GPL", insns, 2, NULL);
}

static void handmig_free(struct handmig *h)
{
	for (int i = 0; i < 2; i++)
		if (h->prog[i] > 0)
			close(h->prog[i]);
	if (h->prog_array > 0)
		close(h->prog_array);
	if (h->old_map > 0)
		close(h->old_map);
	free(h->keys);
	free(h->old_vals);
	free(h->new_vals);
	memset(h, 0, sizeof(*h));
}

/* n values of total u64 keys, in a hash map keyed by tid. */
static int handmig_setup(struct handmig *h, int n, int total, int changed)
{
	__u32 count = n, zero = 0;

	memset(h, 0, sizeof(*h));
	h->n = n;
	h->old_size = 8 * total;
	h->new_size = 8 * total + 8 * changed;
	h->keys = calloc(n, sizeof(*h->keys));
	h->old_vals = calloc(n, h->old_size);
	h->new_vals = calloc(n, h->new_size);
	h->old_map = bpf_map_create(BPF_MAP_TYPE_HASH, "rb_old", 4, h->old_size, n, NULL);
	h->prog_array = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "rb_disp", 4, 4, 1, NULL);
	h->prog[0] = trivial_prog();
	h->prog[1] = trivial_prog();
	if (!h->keys || !h->old_vals || !h->new_vals || h->old_map < 0 || h->prog_array < 0 ||
	    h->prog[0] < 0 || h->prog[1] < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		h->keys[i] = 100000 + i;
		for (int k = 0; k < total; k++)
			((__u64 *)(h->old_vals + (size_t)i * h->old_size))[k] = (__u64)i << 16 | k;
	}
	if (bpf_map_update_batch(h->old_map, h->keys, h->old_vals, &count, NULL) || count != (__u32)n)
		return -1;
	return bpf_map_update_elem(h->prog_array, &zero, &h->prog[0], 0);
}

#define HM_BATCH 256u

/* The migration, timed: a new map, the batch copy (keys 0..changed-1 go
 * 8 -> 16 bytes, zero-extended), the switch. Returns ms, or < 0. */
static double handmig_run(struct handmig *h, int changed)
{
	__u32 in = 0, out = 0, count, zero = 0, done = 0;
	double t0 = now_ms();
	bool first = true;
	int new_map, err = 0;

	new_map = bpf_map_create(BPF_MAP_TYPE_HASH, "rb_new", 4, h->new_size, h->n, NULL);
	if (new_map < 0)
		return -1;
	while (!err) {
		count = HM_BATCH;
		err = bpf_map_lookup_batch(h->old_map, first ? NULL : &in, &out, h->keys + done,
					   h->old_vals + (size_t)done * h->old_size, &count, NULL);
		if (err && errno != ENOENT)
			break;
		for (__u32 i = done; i < done + count; i++) {
			const __u64 *o = (const __u64 *)(h->old_vals + (size_t)i * h->old_size);
			__u64 *v = (__u64 *)(h->new_vals + (size_t)i * h->new_size);

			for (int k = 0; k < changed; k++) {
				v[2 * k] = o[k];
				v[2 * k + 1] = 0;
			}
			memcpy(v + 2 * changed, o + changed, h->old_size - 8 * changed);
		}
		done += count;
		in = out;
		first = false;
		if (err)
			break;
	}
	count = done;
	if ((err && errno != ENOENT) || done != h->n ||
	    bpf_map_update_batch(new_map, h->keys, h->new_vals, &count, NULL) || count != h->n ||
	    bpf_map_update_elem(h->prog_array, &zero, &h->prog[1], 0)) {
		close(new_map);
		return -1;
	}
	t0 = now_ms() - t0;
	close(new_map);
	bpf_map_update_elem(h->prog_array, &zero, &h->prog[0], 0);
	return t0;
}

/* Reading every value back: one batch lookup of the whole map. */
static double handmig_dump(struct handmig *h)
{
	__u32 in = 0, out = 0, count, done = 0;
	double t0 = now_ms();
	bool first = true;
	int err = 0;

	while (!err) {
		count = HM_BATCH;
		err = bpf_map_lookup_batch(h->old_map, first ? NULL : &in, &out, h->keys + done,
					   h->old_vals + (size_t)done * h->old_size, &count, NULL);
		done += count;
		in = out;
		first = false;
	}
	return errno == ENOENT && done == h->n ? now_ms() - t0 : -1;
}

/* ---- one case ---- */

struct sample {
	double total, preflight, migrate, sw, reclaim, back, dump, hand, hand_dump;
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

/*
 * The move pass alone (inside "switch": from the first store's move to the
 * reclaim step), through the progress callback, as any library version
 * reports it. Printed per case with UPTRKV_BENCH_MOVES=1.
 */
static double move_t0, move_ms[2 * MAX_REPS];
static int nr_move_ms;

static void on_progress(void *ctx, const char *step, size_t done, size_t total)
{
	(void)ctx;
	(void)total;
	if (!strcmp(step, "move") && !done)
		move_t0 = now_ms();
	else if (!strncmp(step, "reclaim", 7) && move_t0 > 0 && nr_move_ms < 2 * MAX_REPS) {
		move_ms[nr_move_ms++] = now_ms() - move_t0;
		move_t0 = 0;
	}
}

/* bench_rollout.bpf.o serves the layouts this program makes up, so it
 * carries no layout record: it is rolled out unbound, on purpose. */
static int rollout(const struct uptrkv_manifest *m, struct uptrkv_rollout_result *r)
{
	struct uptrkv_error e = {};

	UPTRKV_OPTS(uptrkv_rollout_opts, o, .bpffs = bpffs, .allow_unbound_object = true,
		    .progress = on_progress);
	if (uptrkv_rollout(m, &o, r, &e)) {
		fprintf(stderr, "rollout_bench: rollout to version %u: %s\n", m->version, e.msg);
		return -1;
	}
	return 0;
}

static int rollback(struct uptrkv_rollout_result *r)
{
	struct uptrkv_error e = {};

	UPTRKV_OPTS(uptrkv_rollout_opts, o, .bpffs = bpffs, .allow_unbound_object = true,
		    .progress = on_progress);
	if (uptrkv_rollback(NAME, &o, r, &e)) {
		fprintf(stderr, "rollout_bench: rollback: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* Every thread of every helper, decoded by the live version. */
static double dump(const struct helpers *hs, int total)
{
	double t0 = now_ms(), t = 0;

	for (int i = 0; i < hs->n; i++) {
		UPTRKV_OPTS(uptrkv_dump_opts, o, .deployment = NAME);
		struct uptrkv_dump **v = NULL;
		struct uptrkv_error e = {};
		size_t n = 0;
		bool ok;

		t0 = now_ms();
		if (uptrkv_dump__pid(bpffs, hs->pid[i], &o, &v, &n, &e)) {
			fprintf(stderr, "rollout_bench: dump: %s\n", e.msg);
			return -1;
		}
		t += now_ms() - t0;
		ok = n == 1 && v[0]->nr_threads == (size_t)hs->threads[i] &&
		     v[0]->threads[0].nr_keys == (size_t)total;
		if (!ok)
			fprintf(stderr, "rollout_bench: dump: %zu deployments, %zu threads\n", n,
				n ? v[0]->nr_threads : 0);
		uptrkv_dumps__free(v, n);
		if (!ok)
			return -1;
	}
	return t;
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

static int one_rep(const struct uptrkv_manifest *m2, const char *p2, bool via_cli, int nthreads,
		   int i, double *v[6])
{
	struct uptrkv_rollout_result r = {};

	if (via_cli) {
		if (cli_rollout(p2, &v[0][i]))
			return -1;
		v[1][i] = v[2][i] = v[3][i] = v[4][i] = 0;
	} else {
		if (rollout(m2, &r))
			return -1;
		v[0][i] = r.ms_total;
		v[1][i] = r.ms_preflight;
		v[2][i] = r.ms_migrate;
		v[3][i] = r.ms_switch;
		v[4][i] = r.ms_reclaim;
		if (r.nr_migrated != (size_t)nthreads) {
			fprintf(stderr, "rollout_bench: %zu stores migrated, want %d\n", r.nr_migrated, nthreads);
			uptrkv_rollout_result__free(&r);
			return -1;
		}
		uptrkv_rollout_result__free(&r);
	}
	if (rollback(&r))
		return -1;
	v[5][i] = r.ms_total;
	uptrkv_rollout_result__free(&r);
	return 0;
}

static int run_case(int nthreads, int total, int changed, bool via_cli, struct sample *out)
{
	char p1[4096], p2[4096];
	struct uptrkv_manifest *m1 = NULL, *m2 = NULL;
	struct uptrkv_rollout_result r = {};
	struct uptrkv_error e = {};
	double tot[MAX_REPS], pre[MAX_REPS], mig[MAX_REPS], sw[MAX_REPS], rec[MAX_REPS], back[MAX_REPS];
	double dmp[MAX_REPS], hand[MAX_REPS], hdmp[MAX_REPS];
	double *v[6] = { tot, pre, mig, sw, rec, back };
	int err = -1, n = via_cli ? 1 : reps;
	struct helpers hs = {};
	struct handmig h;

	memset(out, 0, sizeof(*out));
	snprintf(p1, sizeof(p1), "%s/v1-%d.yaml", dir, total);
	snprintf(p2, sizeof(p2), "%s/v2-%d-%d.yaml", dir, total, changed);
	if (write_manifest(p1, 1, total, 0) || write_manifest(p2, 2, total, changed))
		return -1;
	m1 = load(p1);
	m2 = load(p2);
	if (!m1 || !m2 || rollout(m1, &r))
		goto out;
	uptrkv_rollout_result__free(&r);
	if (handmig_setup(&h, nthreads, total, changed)) {
		fprintf(stderr, "rollout_bench: hand-written migration setup: %s\n", strerror(errno));
		goto out;
	}
	if (start_helpers(nthreads, total, &hs))
		goto stop;
	nr_move_ms = 0;
	for (int i = 0; i < n; i++) {
		/* Side by side: each rep runs every contender once, in turn. */
		if (one_rep(m2, p2, via_cli, nthreads, i, v))
			goto stop;
		dmp[i] = dump(&hs, total);
		hand[i] = handmig_run(&h, changed);
		hdmp[i] = handmig_dump(&h);
		if (dmp[i] < 0 || hand[i] < 0 || hdmp[i] < 0) {
			fprintf(stderr, "rollout_bench: dump or hand-written migration failed: %s\n",
				strerror(errno));
			goto stop;
		}
	}
	out->total = median(tot, n);
	out->preflight = median(pre, n);
	out->migrate = median(mig, n);
	out->sw = median(sw, n);
	out->reclaim = median(rec, n);
	out->back = median(back, n);
	out->dump = median(dmp, n);
	out->hand = median(hand, n);
	out->hand_dump = median(hdmp, n);
	if (getenv("UPTRKV_BENCH_MOVES") && !via_cli && nr_move_ms) {
		double med = median(move_ms, nr_move_ms);	/* sorts them */

		printf("move pass, %d threads x %d changed: median %.1f ms, min %.1f, of %d "
		       "rollouts and rollbacks\n", nthreads, changed, med, move_ms[0], nr_move_ms);
	}
	err = 0;
stop:
	stop_helpers(&hs);
	handmig_free(&h);
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

/* ---- the goals of issue 16, each a ratio or a bound from this run ---- */

struct row {
	int threads, total, changed;
	struct sample s;
};

static const struct row *find_row(const struct row *rows, int n, int threads, int total, int changed)
{
	for (int i = 0; i < n; i++)
		if (rows[i].threads == threads && rows[i].total == total && rows[i].changed == changed)
			return &rows[i];
	return NULL;
}

static int goals(const struct row *rows, int n)
{
	const struct row *big = find_row(rows, n, 1000, 1024, 1024);
	const struct row *few = find_row(rows, n, 1000, 1024, 64);
	const struct row *huge = find_row(rows, n, 10000, 1024, 1024);
	int missed = 0;

#define GOAL(cond, ...) do {						\
	bool ok_ = (cond);						\
	printf("  %-7s ", ok_ ? "met" : "MISSED");			\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	missed |= !ok_;							\
} while (0)
	printf("goals, from this run:\n");
	if (big) {
		GOAL(big->s.total <= 2 * big->s.hand, "1000 threads x 1024 changed keys: rollout %.1f ms = "
		     "%.2fx the hand-written migration (%.1f ms) [<= 2x]", big->s.total,
		     big->s.total / big->s.hand, big->s.hand);
		/* It shares the rollout's path, minus loading and verifying an
		 * object: the other slot's programs are pinned. */
		GOAL(big->s.back <= 1.25 * big->s.total,
		     "rollback / rollout, 1000 x 1024: %.2fx [no dearer: <= 1.25x]",
		     big->s.back / big->s.total);
		printf("  %-7s dump / batch lookup, 1000 x 1024: %.2fx (no target)\n", "", big->s.dump / big->s.hand_dump);
	}
	if (few)
		GOAL(few->s.total <= 15, "1000 threads x 64 changed keys (of 1024): rollout %.1f ms [<= 15 ms]; "
		     "%.2fx the hand-written migration", few->s.total, few->s.total / few->s.hand);
	if (huge)
		GOAL(huge->s.total < 1000, "10000 threads x 1024 changed keys: rollout %.1f ms [< 1000 ms]",
		     huge->s.total);
	/* Cost follows changed keys: 64 of 1024 changing costs about what a
	 * layout of only those 64 keys does, not what 1024 changing does. */
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct row *only = find_row(rows, n, r->threads, r->changed, r->changed);
		const struct row *all = find_row(rows, n, r->threads, r->total, r->total);

		if (r->changed == r->total || !only || !all)
			continue;
		GOAL(r->s.total <= 1.5 * only->s.total,
		     "%d threads: %d of %d keys changed %.1f ms, %d of %d %.1f ms (%.2fx), %d of %d %.1f ms "
		     "[cost follows changed keys: <= 1.5x the %d-key layout]", r->threads, r->changed, r->total,
		     r->s.total, only->changed, only->total, only->s.total, r->s.total / only->s.total,
		     all->changed, all->total, all->s.total, r->changed);
	}
	return missed;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bpffs", 1, NULL, 'b' }, { "obj", 1, NULL, 'o' }, { "dir", 1, NULL, 'd' },
		{ "threads", 1, NULL, 't' }, { "cases", 1, NULL, 'c' }, { "reps", 1, NULL, 'r' },
		{ "uptrkv", 1, NULL, 'u' }, { "tsv", 1, NULL, 'T' }, {},
	};
	int threads[MAX_LIST] = { 100, 1000, 10000 }, total[MAX_LIST] = { 64, 1024, 1024 };
	int changed[MAX_LIST] = { 64, 1024, 64 };
	int nt = 3, nc = 3, opt, rc = 0, nrows = 0;
	struct row rows[MAX_LIST * MAX_LIST];
	const char *tsv_path = NULL;
	FILE *tsv = NULL;
	struct sample s;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'b': bpffs = optarg; break;
		case 'o': obj = optarg; break;
		case 'd': dir = optarg; break;
		case 't': nt = parse_list(optarg, threads); break;
		case 'c': nc = parse_cases(optarg, total, changed); break;
		case 'r': reps = atoi(optarg); break;
		case 'u': cli = optarg; break;
		case 'T': tsv_path = optarg; break;
		default: return 1;
		}
	}
	if (!bpffs || !obj || !dir || reps < 1 || reps > MAX_REPS || nc < 1) {
		fprintf(stderr, "usage: rollout_bench --bpffs DIR --obj OBJ --dir TMPDIR [--threads 100,1000,10000] "
			"[--cases TOTAL:CHANGED,...] [--reps 3] [--uptrkv PATH] [--tsv FILE]\n");
		return 1;
	}
	if (tsv_path && !(tsv = fopen(tsv_path, "w"))) {
		fprintf(stderr, "rollout_bench: %s: %s\n", tsv_path, strerror(errno));
		return 1;
	}
	if (tsv)
		fprintf(tsv, "threads\ttotal\tchanged\trollout\tpreflight\tmigrate\tswitch\treclaim\trollback\tdump\thand\thand_dump\n");
	printf("keys of 8 B, CHANGED of them resized to 16 B; median of %d, ms; each rep runs every column once\n", reps);
	printf("%7s %5s %7s %9s %9s %8s %8s %8s %9s %8s %8s %8s %8s\n", "threads", "keys", "changed", "rollout",
	       "preflight", "migrate", "switch", "reclaim", "rollback", "dump", "by hand", "rollout/", "dump/");
	printf("%7s %5s %7s %9s %9s %8s %8s %8s %9s %8s %8s %8s %8s\n", "", "", "", "", "", "", "", "", "", "", "",
	       "by hand", "lookup");
	for (int i = 0; i < nt; i++)
		for (int j = 0; j < nc; j++) {
			if (run_case(threads[i], total[j], changed[j], false, &s)) {
				rc = 1;
				continue;
			}
			printf("%7d %5d %7d %9.1f %9.1f %8.1f %8.1f %8.1f %9.1f %8.1f %8.1f %7.2fx %7.2fx\n",
			       threads[i], total[j], changed[j], s.total, s.preflight, s.migrate, s.sw,
			       s.reclaim, s.back, s.dump, s.hand, s.total / s.hand, s.dump / s.hand_dump);
			fflush(stdout);
			if (tsv)
				fprintf(tsv, "%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n",
					threads[i], total[j], changed[j], s.total, s.preflight, s.migrate, s.sw,
					s.reclaim, s.back, s.dump, s.hand, s.hand_dump);
			rows[nrows++] = (struct row){ threads[i], total[j], changed[j], s };
		}
	if (tsv)
		fclose(tsv);
	if (cli && find_row(rows, nrows, 1000, 1024, 1024)) {
		if (run_case(1000, 1024, 1024, true, &s))
			rc = 1;
		else
			printf("CLI: uptrkv rollout -j, 1000 threads, 1024 keys changed: %.1f ms wall "
			       "(process start, object load and verification included)\n", s.total);
	}
	if (goals(rows, nrows) && !rc)
		rc = 3;
	return rc;
}
