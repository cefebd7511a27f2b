// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An application built once against layout 1's generated header
 * (tests/e2e/manifests/compat_v1.yaml), run through v1 -> v2 -> v3 and
 * rollbacks by tests/e2e/test_app_compat.sh:
 *
 *   compat_app BPFFS REPORT
 *
 * Its one thread loops, using only the header's accessors (layout 1's
 * sizes), and checks every result against docs/store.md:
 *   counter (u64, unchanged)  reads back its last write, always;
 *   note    (8 bytes, 16 from v2)  get gives the 8-byte prefix, put writes
 *           it and leaves the rest (still zero: nobody writes it);
 *   label   (string, unchanged)  keeps what it wrote at the start;
 *   gone    (u32, removed in v2)  -ENOENT from get and put, never created
 *           again; back with its default (0) when a rollback returns it;
 *   level   (u32, u64 in v3)  -EPROTO from get and put; after the rollback
 *           out of v3, its default (0): going back resets a retyped key.
 * SIGTERM stops it; it then writes a JSON report of what it saw.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "uptrkv.h"
#include "test_compat_v1.keys.h"

static volatile sig_atomic_t stop;
static unsigned long iterations, note_prefix, gone_enoent, gone_back, level_eproto, level_reset,
	errors;
static char first_error[256];

__attribute__((format(printf, 1, 2)))
static void bad(const char *fmt, ...)
{
	va_list ap;

	if (!errors++) {
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof(first_error), fmt, ap);
		va_end(ap);
		fprintf(stderr, "compat_app: %s\n", first_error);
	}
}

struct state {
	__u64 counter;
	__u8 note[COMPAT_SIZE_NOTE];
	char label[COMPAT_SIZE_LABEL];
	__u32 gone, level;
	bool gone_absent, level_proto;	/* seen removed / retyped since */
};

static void round_counter(struct uptrkv_thread *t, struct state *s)
{
	__u64 v = 0;
	int r = compat_get_counter(t, &v);

	if (r != 8 || v != s->counter)
		bad("counter: get %d, value %llu, want 8 and %llu", r, (unsigned long long)v,
		    (unsigned long long)s->counter);
	r = compat_put_counter(t, s->counter + 1);
	if (r)
		bad("counter: put %d", r);
	else
		s->counter++;
}

/* v2 grew note to 16 bytes: the v1 app still reads and writes its 8. */
static void round_note(struct uptrkv_thread *t, struct state *s)
{
	__u8 got[COMPAT_SIZE_NOTE], full[64];
	int r = compat_get_note(t, got), size = uptrkv_thread__size(t, COMPAT_KEY_NOTE);

	if (r != COMPAT_SIZE_NOTE || memcmp(got, s->note, sizeof(got)))
		bad("note: get %d, or not the last write", r);
	if (size > COMPAT_SIZE_NOTE) {
		r = uptrkv_thread__get_exact(t, COMPAT_KEY_NOTE, full, sizeof(full));
		if (r == size) {
			note_prefix++;
			if (memcmp(full, s->note, COMPAT_SIZE_NOTE))
				bad("note: the first 8 of %d bytes are not the last write", r);
			for (int i = COMPAT_SIZE_NOTE; i < r; i++)
				if (full[i]) {
					bad("note: byte %d is %u: a prefix put touched the rest", i, full[i]);
					break;
				}
		}
	}
	memcpy(got, s->note, sizeof(got));
	(*(__u64 *)got)++;
	r = compat_put_note(t, got);
	if (r)
		bad("note: put %d", r);
	else
		memcpy(s->note, got, sizeof(got));
}

static void round_label(struct uptrkv_thread *t, struct state *s)
{
	char got[COMPAT_SIZE_LABEL] = {};
	int r = compat_get_label(t, got);

	if (r != COMPAT_SIZE_LABEL || strcmp(got, s->label))
		bad("label: get %d '%.16s', want '%s'", r, got, s->label);
}

/* Removed in v2: -ENOENT, and a put must not create it again. */
static void round_gone(struct uptrkv_thread *t, struct state *s)
{
	__u32 v = 0;
	int r = compat_get_gone(t, &v);

	if (r == -ENOENT) {
		gone_enoent++;
		s->gone_absent = true;
	} else if (r == 4 && s->gone_absent && v == 0) {
		gone_back++;	/* a rollback returned it, with its default */
		s->gone = 0;
		s->gone_absent = false;
	} else if (r != 4 || v != s->gone) {
		bad("gone: get %d value %u, want 4 and %u%s", r, v, s->gone,
		    s->gone_absent ? " (or 0 after a rollback)" : "");
	}
	r = compat_put_gone(t, s->gone + 1);
	if (r == 0) {
		/* The rollback returned it between our get and this put. */
		if (s->gone_absent)
			gone_back++;
		s->gone++;
		s->gone_absent = false;
	} else if (r == -ENOENT) {
		s->gone_absent = true;
		if (uptrkv_thread__size(t, COMPAT_KEY_GONE) != -ENOENT &&
		    uptrkv_thread__size(t, COMPAT_KEY_GONE) != 4)
			bad("gone: a refused put left size %d", uptrkv_thread__size(t, COMPAT_KEY_GONE));
	} else {
		bad("gone: put %d", r);
	}
}

/* Retyped to u64 in v3: -EPROTO; its live size is there to learn. */
static void round_level(struct uptrkv_thread *t, struct state *s)
{
	__u32 v = 0;
	int r = compat_get_level(t, &v);

	if (r == -EPROTO) {
		level_eproto++;
		s->level_proto = true;
		if (uptrkv_thread__size(t, COMPAT_KEY_LEVEL) != 8)
			bad("level: -EPROTO but size %d", uptrkv_thread__size(t, COMPAT_KEY_LEVEL));
	} else if (r == 4 && s->level_proto && v == 0 && s->level) {
		level_reset++;	/* the rollback out of v3 reset it */
		s->level = 0;
		s->level_proto = false;
	} else if (r != 4 || v != s->level) {
		bad("level: get %d value %u, want 4 and %u", r, v, s->level);
	}
	r = compat_put_level(t, s->level + 1);
	if (r == 0) {
		/* The rollback out of v3 came between our get and this put. */
		if (s->level_proto)
			level_reset++;
		s->level++;
		s->level_proto = false;
	} else if (r == -EPROTO) {
		s->level_proto = true;
	} else {
		bad("level: put %d", r);
	}
}

static int report(const char *path, const struct state *s)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 1;
	fprintf(f, "{\"iterations\": %lu, \"counter\": %llu, \"note_prefix\": %lu, "
		"\"gone_enoent\": %lu, \"gone_back\": %lu, \"level_eproto\": %lu, "
		"\"level_reset\": %lu, \"errors\": %lu, \"first_error\": \"%s\"}\n", iterations,
		(unsigned long long)s->counter, note_prefix, gone_enoent, gone_back, level_eproto,
		level_reset, errors, first_error);
	return fclose(f) ? 1 : 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct uptrkv_thread *t = NULL;
	struct uptrkv_app *app = NULL;
	struct uptrkv_error e = {};
	struct state s = {};

	if (argc != 3) {
		fprintf(stderr, "usage: %s BPFFS REPORT\n", argv[0]);
		return 2;
	}
	signal(SIGTERM, on_term);
	if (uptrkv_app__open(argv[1], "compat", &app, &e) || uptrkv_app__register(app, NULL, &t, &e)) {
		fprintf(stderr, "compat_app: %s\n", e.msg);
		return 1;
	}
	snprintf(s.label, sizeof(s.label), "v1-app-%d", (int)(gettid() % 100000));
	if (compat_put_label(t, s.label) || compat_put_gone(t, 0) || compat_put_level(t, 0))
		bad("initial puts failed");
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		round_counter(t, &s);
		round_note(t, &s);
		round_label(t, &s);
		round_gone(t, &s);
		round_level(t, &s);
		syscall(SYS_getppid);
		iterations++;
	}
	uptrkv_thread__unregister(t);
	uptrkv_app__close(app);
	return report(argv[2], &s) || errors;
}
