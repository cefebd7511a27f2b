// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * End-to-end test of the move program (uptrkv_admin__move_slot,
 * uptrkv_admin_move in bpf/uptrkv_admin.bpf.c) on a real store of this
 * thread, built entry by entry from bpf/uptrkv_layout.h (dump_reg.h), so
 * that every converted value, entry, seqcount and count can be checked
 * against the memory the thread registered:
 *   - forwarded pairs of many sizes and every conversion (prefix grow and
 *     truncate on the plain-word path and the helper path, string grow
 *     and shrink, signed and unsigned widening) come out exactly;
 *   - a pair deleted in the old slot counts as gone, a corrupt pair stops
 *     the walk with -EINVAL and its key (what comes after it is left);
 *   - a seqcount stripe held by a writer leaves its keys busy until a later
 *     run, and a run with nothing forwarded takes no seqcount at all;
 *   - another thread's store is moved by tid, from this thread.
 *
 *   admin_move [ROUNDS [STORES]]
 *	ROUNDS (default 0: no timing): timed runs of 1024 moves through the
 *	program and through UPTRKV_W_MOVE writes, printed, never checked;
 *	STORES: the same over that many threads' stores in turn, as a
 *	rollout's move pass walks them (caches cold).
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "dump_reg.h"
#include "test_dump.skel.h"
#include "check.h"

#define SLOT_OLD	0
#define SLOT_NEW	1
#define FWD_BITS	(UPTRKV_ENT_VALID | UPTRKV_ENT_FWD)

/* A forwarded pair: the value in the old slot, a zeroed extent of the new
 * size in the new one, as a rollout's migration leaves them. */
static int forward(struct treg *t, __u32 key, const void *old, __u32 old_size, __u32 new_size,
		   enum uptrkv_ent_conv conv)
{
	static const __u8 zero[UPTRKV_MAX_VALUE];
	int err;

	err = treg_put(t, SLOT_OLD, key, old, old_size);
	err = err ?: treg_put(t, SLOT_NEW, key, zero, new_size);
	if (err)
		return err;
	t->meta[SLOT_NEW]->ent[key] = UPTRKV_ENT_FORWARD(t->meta[SLOT_NEW]->ent[key], conv);
	return 0;
}

struct expect {
	__u32 key, old_size, new_size;
	enum uptrkv_ent_conv conv;
	__u8 old[640], want[640];
};

static struct expect ex[16];
static int nr_ex;

static struct expect *add(__u32 key, __u32 old_size, __u32 new_size, enum uptrkv_ent_conv conv)
{
	struct expect *x = &ex[nr_ex++];

	x->key = key;
	x->old_size = old_size;
	x->new_size = new_size;
	x->conv = conv;
	for (__u32 i = 0; i < old_size; i++)
		x->old[i] = (__u8)(key * 31 + i * 7 + 1);
	/* prefix: min(old, new) bytes, then the zeros */
	memcpy(x->want, x->old, old_size < new_size ? old_size : new_size);
	return x;
}

static void add_int(__u32 key, __u32 old_size, __u32 new_size, enum uptrkv_ent_conv conv,
		    __u64 old, __u64 want)
{
	struct expect *x = add(key, old_size, new_size, conv);

	memcpy(x->old, &old, old_size);
	memset(x->want, 0, sizeof(x->want));
	memcpy(x->want, &want, new_size);
}

static void add_str(__u32 key, __u32 old_size, __u32 new_size, const char *old, const char *want)
{
	struct expect *x = add(key, old_size, new_size, UPTRKV_ENT_CONV_STRING);

	memset(x->old, 0, sizeof(x->old));
	memset(x->want, 0, sizeof(x->want));
	memcpy(x->old, old, strlen(old) + 1 < old_size ? strlen(old) + 1 : old_size);
	memcpy(x->want, want, strlen(want) + 1);
}

static void build_expected(void)
{
	add(1, 8, 16, UPTRKV_ENT_CONV_PREFIX);		/* the rollout bench's case */
	add(2, 24, 40, UPTRKV_ENT_CONV_PREFIX);		/* words only */
	add(3, 13, 20, UPTRKV_ENT_CONV_PREFIX);		/* a word and 5 bytes */
	add(4, 16, 8, UPTRKV_ENT_CONV_PREFIX);		/* truncate */
	add(5, 3, 8, UPTRKV_ENT_CONV_PREFIX);		/* bytes only */
	add(6, 256, 264, UPTRKV_ENT_CONV_PREFIX);	/* the last plain-word size */
	add(7, 300, 600, UPTRKV_ENT_CONV_PREFIX);	/* the helper's pieces */
	add_str(8, 32, 8, "hello world, this is long", "hello w");
	add_str(9, 5, 12, "abcd", "abcd");
	add_int(11, 1, 8, UPTRKV_ENT_CONV_SEXT, (__u8)-3, (__u64)-3);
	add_int(12, 4, 8, UPTRKV_ENT_CONV_SEXT, (__u32)-5, (__u64)-5);
	add_int(13, 2, 4, UPTRKV_ENT_CONV_UINT, 0xfff0, 0xfff0);
	add_int(14, 4, 8, UPTRKV_ENT_CONV_UINT, 0x80000001u, 0x80000001u);
	add(20, 8, 16, UPTRKV_ENT_CONV_PREFIX);		/* stripe 20 held busy */
	add(532, 12, 16, UPTRKV_ENT_CONV_PREFIX);	/* the same stripe */
	add(1010, 8, 16, UPTRKV_ENT_CONV_PREFIX);	/* after the corrupt pair */
}

#define K_GONE		10	/* the old version deleted it */
#define K_PLAIN		15	/* a key that was not resized */
#define K_CORRUPT	1000	/* both entries forwarded */
#define K_BUSY		20

static void check_moved(struct treg *t, const struct expect *x, struct uptrkv_snapshot *s,
			struct uptrkv_admin *a)
{
	__u32 e = t->meta[SLOT_NEW]->ent[x->key], eo = t->meta[SLOT_OLD]->ent[x->key];
	static __u8 buf[UPTRKV_MAX_VALUE];
	enum uptrkv_ent_conv back = x->conv == UPTRKV_ENT_CONV_STRING ? UPTRKV_ENT_CONV_STRING :
									 UPTRKV_ENT_CONV_PREFIX;
	struct uptrkv_error err = {};
	__u32 size = 0;

	CHECK(e == UPTRKV_ENT_PLAIN(e) && UPTRKV_ENT_IS_VALID(e), "key %u: new entry 0x%08x", x->key, e);
	CHECK(UPTRKV_ENT_IS_FWD(eo) && UPTRKV_ENT_CONV(eo) == back,
	      "key %u: old entry 0x%08x not forwarded back", x->key, eo);
	/* What the application reads in its own memory... */
	CHECK(!memcmp(treg_ptr(t, SLOT_NEW, x->key), x->want, x->new_size),
	      "key %u: value not converted as expected", x->key);
	/* ... and what BPF reads (the admin snapshot program, as dump). */
	CHECK(!uptrkv_admin__snapshot(a, syscall(SYS_gettid), s, &err), "snapshot: %s", err.msg);
	CHECK(!uptrkv_snapshot__read(s, SLOT_NEW, x->key, buf, &size) && size == x->new_size &&
	      !memcmp(buf, x->want, size), "key %u: BPF reads another value", x->key);
}

static bool forwarded(struct treg *t, __u32 key)
{
	return (t->meta[SLOT_NEW]->ent[key] & FWD_BITS) == FWD_BITS;
}

static int move(struct uptrkv_admin *a, pid_t tid, struct uptrkv_move_ctx *r)
{
	struct uptrkv_error e = {};
	int err = uptrkv_admin__move_slot(a, tid, SLOT_NEW, r, &e);

	/* a corrupt pair and a thread gone are what some checks expect */
	if (err && err != -EINVAL && err != -ESRCH && err != -ENOENT)
		fprintf(stderr, "move: %s\n", e.msg);
	return err;
}

static void test_move(struct uptrkv_admin *a, int map_fd, struct uptrkv_snapshot *s)
{
	pid_t tid = syscall(SYS_gettid);
	__u32 seq[UPTRKV_NR_SEQ];
	struct uptrkv_move_ctx r;
	struct treg t;
	__u64 v = 0x1122334455667788ull;
	int err;

	err = treg_register(&t, map_fd, UPTRKV_MAX_PAGES, UPTRKV_MAGIC, UPTRKV_FORMAT);
	CHECK_OR_RETURN(!err, , "register: %s", strerror(-err));
	t.hdr->layout_hash[SLOT_NEW] = 2;
	build_expected();
	for (int i = 0; i < nr_ex; i++)
		CHECK(!forward(&t, ex[i].key, ex[i].old, ex[i].old_size, ex[i].new_size, ex[i].conv),
		      "forward %u", ex[i].key);
	CHECK(!forward(&t, K_GONE, &v, 8, 16, UPTRKV_ENT_CONV_PREFIX), "forward gone");
	t.meta[SLOT_OLD]->ent[K_GONE] = 0;
	CHECK(!forward(&t, K_CORRUPT, &v, 8, 16, UPTRKV_ENT_CONV_PREFIX), "forward corrupt");
	t.meta[SLOT_OLD]->ent[K_CORRUPT] = UPTRKV_ENT_FORWARD(t.meta[SLOT_OLD]->ent[K_CORRUPT], 0);
	CHECK(!treg_put(&t, SLOT_OLD, K_PLAIN, &v, 8), "plain");
	t.meta[SLOT_NEW]->ent[K_PLAIN] = t.meta[SLOT_OLD]->ent[K_PLAIN];
	/* A writer holds stripe 20 (keys 20 and 532). */
	t.hdr->seq[K_BUSY] = 7;
	memcpy(seq, t.hdr->seq, sizeof(seq));

	/* 1: everything up to the corrupt pair, but the busy stripe. */
	err = move(a, tid, &r);
	CHECK(err == -EINVAL && r.err == -EINVAL && r.err_key == K_CORRUPT,
	      "corrupt pair: err %d, key %u", err, r.err_key);
	CHECK(r.moved == (__u32)nr_ex - 3 && r.busy == 2 && r.gone == 1,
	      "run 1: moved %u busy %u gone %u", r.moved, r.busy, r.gone);
	for (int i = 0; i < nr_ex; i++) {
		if (ex[i].key == K_BUSY || ex[i].key == K_BUSY + UPTRKV_NR_SEQ || ex[i].key > K_CORRUPT)
			CHECK(forwarded(&t, ex[i].key), "key %u moved", ex[i].key);
		else
			check_moved(&t, &ex[i], s, a);
		/* the seqcount protocol: taken and released once per move */
		if (!forwarded(&t, ex[i].key))
			CHECK(t.hdr->seq[ex[i].key % UPTRKV_NR_SEQ] == seq[ex[i].key % UPTRKV_NR_SEQ] + 2,
			      "key %u: seq %u", ex[i].key, t.hdr->seq[ex[i].key % UPTRKV_NR_SEQ]);
	}
	CHECK(t.meta[SLOT_NEW]->ent[K_GONE] == 0, "deleted key still 0x%08x", t.meta[SLOT_NEW]->ent[K_GONE]);
	CHECK(t.hdr->seq[K_BUSY] == 7, "held stripe changed: %u", t.hdr->seq[K_BUSY]);
	CHECK(t.meta[SLOT_NEW]->ent[K_PLAIN] == t.meta[SLOT_OLD]->ent[K_PLAIN] &&
	      t.hdr->seq[K_PLAIN] == seq[K_PLAIN], "a key not forwarded was touched");

	/* 2: the corrupt pair repaired, the stripe still held. */
	t.meta[SLOT_OLD]->ent[K_CORRUPT] = UPTRKV_ENT_PLAIN(t.meta[SLOT_OLD]->ent[K_CORRUPT]);
	err = move(a, tid, &r);
	CHECK(!err && r.moved == 2 && r.busy == 2 && r.gone == 0,
	      "run 2: err %d moved %u busy %u gone %u", err, r.moved, r.busy, r.gone);
	CHECK(!forwarded(&t, K_CORRUPT) && !memcmp(treg_ptr(&t, SLOT_NEW, K_CORRUPT), &v, 8),
	      "repaired pair not moved");
	check_moved(&t, &ex[nr_ex - 1], s, a);

	/* 3: the writer is done: the busy ones move. */
	t.hdr->seq[K_BUSY] = 8;
	err = move(a, tid, &r);
	CHECK(!err && r.moved == 2 && r.busy == 0, "run 3: err %d moved %u busy %u", err, r.moved, r.busy);
	for (int i = 0; i < nr_ex; i++)
		check_moved(&t, &ex[i], s, a);

	/* 4: nothing forwarded: nothing done, no seqcount taken. */
	memcpy(seq, t.hdr->seq, sizeof(seq));
	err = move(a, tid, &r);
	CHECK(!err && !r.moved && !r.busy && !r.gone, "run 4: err %d moved %u busy %u", err, r.moved, r.busy);
	CHECK(!memcmp(seq, t.hdr->seq, sizeof(seq)), "a seqcount was taken with nothing to move");
	treg_unregister(&t, map_fd);
}

/* ---- another thread's store, moved from here ---- */

struct other {
	int map_fd;
	struct treg t;
	pid_t tid;
	int err, ready, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void *other_main(void *arg)
{
	struct other *o = arg;
	int err;

	o->tid = syscall(SYS_gettid);
	err = treg_register(&o->t, o->map_fd, 4, UPTRKV_MAGIC, UPTRKV_FORMAT);
	for (__u32 k = 0; !err && k < 600; k++) {
		__u64 v = (__u64)o->tid << 32 | k;

		err = forward(&o->t, k, &v, 8, 16, UPTRKV_ENT_CONV_PREFIX);
	}
	pthread_mutex_lock(&o->mu);
	o->err = err;
	o->ready = 1;
	pthread_cond_broadcast(&o->cv);
	while (!o->stop)
		pthread_cond_wait(&o->cv, &o->mu);
	pthread_mutex_unlock(&o->mu);
	treg_unregister(&o->t, o->map_fd);
	return NULL;
}

static void test_other_thread(struct uptrkv_admin *a, int map_fd)
{
	struct other o = { .map_fd = map_fd, .mu = PTHREAD_MUTEX_INITIALIZER,
			   .cv = PTHREAD_COND_INITIALIZER };
	struct uptrkv_move_ctx r;
	pthread_t th;
	int err;

	CHECK_OR_RETURN(!pthread_create(&th, NULL, other_main, &o), , "thread");
	pthread_mutex_lock(&o.mu);
	while (!o.ready)
		pthread_cond_wait(&o.cv, &o.mu);
	pthread_mutex_unlock(&o.mu);
	CHECK(!o.err, "other thread's store: %s", strerror(-o.err));
	err = move(a, o.tid, &r);
	CHECK(!err && r.moved == 600 && !r.busy && !r.gone, "other thread: err %d moved %u", err, r.moved);
	for (__u32 k = 0; k < 600; k++) {
		__u64 *p = treg_ptr(&o.t, SLOT_NEW, k);

		CHECK(!forwarded(&o.t, k) && p[0] == ((__u64)o.tid << 32 | k) && p[1] == 0,
		      "other thread, key %u", k);
	}
	pthread_mutex_lock(&o.mu);
	o.stop = 1;
	pthread_cond_broadcast(&o.cv);
	pthread_mutex_unlock(&o.mu);
	pthread_join(th, NULL);
	err = move(a, o.tid, &r);
	CHECK(err == -ESRCH || err == -ENOENT, "a thread that exited: %d", err);
}

/* ---- timing, printed only: 1024 keys of 8 B grown to 16 B ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void time_moves(struct uptrkv_admin *a, int map_fd, int rounds)
{
	static __u32 e0[UPTRKV_MAX_KEYS], e1[UPTRKV_MAX_KEYS];
	static struct uptrkv_write w[UPTRKV_MAX_KEYS];
	double t_prog[64], t_write[64], t_none[64];
	pid_t tid = syscall(SYS_gettid);
	struct uptrkv_move_ctx r;
	struct uptrkv_error e = {};
	size_t skipped, busy;
	struct treg t;
	double t0;
	int err;

	if (rounds > 64)
		rounds = 64;
	err = treg_register(&t, map_fd, UPTRKV_MAX_PAGES, UPTRKV_MAGIC, UPTRKV_FORMAT);
	for (__u32 k = 0; !err && k < UPTRKV_MAX_KEYS; k++) {
		__u64 v = k;

		err = forward(&t, k, &v, 8, 16, UPTRKV_ENT_CONV_PREFIX);
	}
	CHECK_OR_RETURN(!err, , "timing store: %s", strerror(-err));
	memcpy(e0, t.meta[SLOT_OLD]->ent, sizeof(e0));
	memcpy(e1, t.meta[SLOT_NEW]->ent, sizeof(e1));
	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++)
		w[k] = uptrkv_write__move(SLOT_NEW, k);
	for (int i = 0; i < rounds; i++) {
		memcpy(t.meta[SLOT_NEW]->ent, e1, sizeof(e1));
		memcpy(t.meta[SLOT_OLD]->ent, e0, sizeof(e0));
		t0 = now();
		err = uptrkv_admin__move_slot(a, tid, SLOT_NEW, &r, &e);
		t_prog[i] = now() - t0;
		CHECK(!err && r.moved == UPTRKV_MAX_KEYS, "timed move: %d %u", err, r.moved);
		t0 = now();
		err = uptrkv_admin__move_slot(a, tid, SLOT_NEW, &r, &e);
		t_none[i] = now() - t0;
		memcpy(t.meta[SLOT_NEW]->ent, e1, sizeof(e1));
		memcpy(t.meta[SLOT_OLD]->ent, e0, sizeof(e0));
		t0 = now();
		err = uptrkv_admin__write_groups(a, tid, w, UPTRKV_MAX_KEYS, &skipped, &busy, &e);
		t_write[i] = now() - t0;
		CHECK(!err && !busy && !forwarded(&t, 7), "timed writes: %d %s", err, e.msg);
	}
	qsort(t_prog, rounds, sizeof(double), cmp_double);
	qsort(t_write, rounds, sizeof(double), cmp_double);
	qsort(t_none, rounds, sizeof(double), cmp_double);
	printf("admin_move: 1024 moves (8 B -> 16 B) per run, %d rounds, min/median ns per key:\n", rounds);
	printf("  move program         %6.1f / %6.1f\n", t_prog[0] * 1e9 / 1024, t_prog[rounds / 2] * 1e9 / 1024);
	printf("  UPTRKV_W_MOVE writes %6.1f / %6.1f\n", t_write[0] * 1e9 / 1024, t_write[rounds / 2] * 1e9 / 1024);
	printf("  move program, none forwarded: %.1f / %.1f us per run\n", t_none[0] * 1e6,
	       t_none[rounds / 2] * 1e6);
	treg_unregister(&t, map_fd);
}

/* ---- the same, cold: one store per thread, NR threads, walked in turn ---- */

struct cold {
	int map_fd;
	struct treg t;
	__u32 e0[UPTRKV_MAX_KEYS], e1[UPTRKV_MAX_KEYS];
	pid_t tid;
	int err;
};

static pthread_mutex_t cold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cold_cv = PTHREAD_COND_INITIALIZER;
static int cold_ready, cold_stop;

static void *cold_main(void *arg)
{
	struct cold *c = arg;
	int err;

	c->tid = syscall(SYS_gettid);
	err = treg_register(&c->t, c->map_fd, UPTRKV_MAX_PAGES, UPTRKV_MAGIC, UPTRKV_FORMAT);
	for (__u32 k = 0; !err && k < UPTRKV_MAX_KEYS; k++) {
		__u64 v = k;

		err = forward(&c->t, k, &v, 8, 16, UPTRKV_ENT_CONV_PREFIX);
	}
	if (!err) {
		memcpy(c->e0, c->t.meta[SLOT_OLD]->ent, sizeof(c->e0));
		memcpy(c->e1, c->t.meta[SLOT_NEW]->ent, sizeof(c->e1));
	}
	pthread_mutex_lock(&cold_mu);
	c->err = err;
	cold_ready++;
	pthread_cond_broadcast(&cold_cv);
	while (!cold_stop)
		pthread_cond_wait(&cold_cv, &cold_mu);
	pthread_mutex_unlock(&cold_mu);
	treg_unregister(&c->t, c->map_fd);
	return NULL;
}

static void cold_reset(struct cold *c, int n)
{
	for (int i = 0; i < n; i++) {
		memcpy(c[i].t.meta[SLOT_NEW]->ent, c[i].e1, sizeof(c[i].e1));
		memcpy(c[i].t.meta[SLOT_OLD]->ent, c[i].e0, sizeof(c[i].e0));
	}
}

static void time_cold(struct uptrkv_admin *a, int map_fd, int n, int rounds)
{
	static struct uptrkv_write w[UPTRKV_MAX_KEYS];
	struct cold *c = calloc(n, sizeof(*c));
	pthread_t *th = calloc(n, sizeof(*th));
	double t_prog[64], t_write[64], t0;
	struct uptrkv_error e = {};
	struct uptrkv_move_ctx r;
	size_t skipped, busy;
	pthread_attr_t at;
	int started = 0, err = 0;

	CHECK_OR_RETURN(c && th, , "out of memory");
	if (rounds > 64)
		rounds = 64;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (; started < n; started++) {
		c[started].map_fd = map_fd;
		if (pthread_create(&th[started], &at, cold_main, &c[started]))
			break;
	}
	pthread_mutex_lock(&cold_mu);
	while (cold_ready < started)
		pthread_cond_wait(&cold_cv, &cold_mu);
	pthread_mutex_unlock(&cold_mu);
	for (int i = 0; i < started; i++)
		err = err ?: c[i].err;
	CHECK(started == n && !err, "%d of %d cold stores: %s", started, n, strerror(-err));
	for (__u32 k = 0; k < UPTRKV_MAX_KEYS; k++)
		w[k] = uptrkv_write__move(SLOT_NEW, k);
	for (int i = 0; !err && started == n && i < rounds; i++) {
		cold_reset(c, n);
		t0 = now();
		for (int j = 0; j < n; j++) {
			err = uptrkv_admin__move_slot(a, c[j].tid, SLOT_NEW, &r, &e);
			CHECK(!err && r.moved == UPTRKV_MAX_KEYS, "cold move: %d %u", err, r.moved);
		}
		t_prog[i] = now() - t0;
		cold_reset(c, n);
		t0 = now();
		for (int j = 0; j < n; j++) {
			err = uptrkv_admin__write_groups(a, c[j].tid, w, UPTRKV_MAX_KEYS, &skipped, &busy, &e);
			CHECK(!err && !busy, "cold writes: %d %s", err, e.msg);
		}
		t_write[i] = now() - t0;
	}
	if (!err && started == n && rounds > 0) {
		qsort(t_prog, rounds, sizeof(double), cmp_double);
		qsort(t_write, rounds, sizeof(double), cmp_double);
		printf("admin_move: %d stores x 1024 moves (8 B -> 16 B), one after the other, %d rounds, "
		       "min/median ms per pass (ns per key):\n", n, rounds);
		printf("  move program         %7.1f / %7.1f  (%.1f / %.1f)\n", t_prog[0] * 1e3,
		       t_prog[rounds / 2] * 1e3, t_prog[0] * 1e9 / n / 1024, t_prog[rounds / 2] * 1e9 / n / 1024);
		printf("  UPTRKV_W_MOVE writes %7.1f / %7.1f  (%.1f / %.1f)\n", t_write[0] * 1e3,
		       t_write[rounds / 2] * 1e3, t_write[0] * 1e9 / n / 1024, t_write[rounds / 2] * 1e9 / n / 1024);
	}
	pthread_mutex_lock(&cold_mu);
	cold_stop = 1;
	pthread_cond_broadcast(&cold_cv);
	pthread_mutex_unlock(&cold_mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_attr_destroy(&at);
	free(th);
	free(c);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 0;
	int cold = argc > 2 ? atoi(argv[2]) : 0;
	struct uptrkv_snapshot *s = calloc(1, sizeof(*s));
	struct uptrkv_error e = {};
	struct uptrkv_admin *a = NULL;
	struct test_dump *skel;
	int map_fd, err;

	skel = test_dump__open_and_load();
	if (!skel || !s) {
		fprintf(stderr, "loading test_dump: %s\n", strerror(errno));
		return 1;
	}
	map_fd = bpf_map__fd(skel->maps.uptrkv_store);
	err = uptrkv_admin__open(map_fd, NULL, &a, &e);
	CHECK(!err, "admin open: %s", e.msg);
	if (err)
		goto out;
	test_move(a, map_fd, s);
	test_other_thread(a, map_fd);
	if (rounds > 0)
		time_moves(a, map_fd, rounds);
	if (rounds > 0 && cold > 0)
		time_cold(a, map_fd, cold, rounds);
out:
	uptrkv_admin__close(a);
	test_dump__destroy(skel);
	free(s);
	return check_summary("admin_move");
}
