// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Random-mutation test of the manifest parser. Fixed seed, bounded count:
 * the same mutants every run. The example manifests are mutated (bytes,
 * bits, lines, YAML tokens) and parsed; ASan/UBSan catch crashes, leaks
 * and undefined behaviour, and this test checks the contract:
 *  - a rejected input has at least one diagnostic, each with a message
 *    and a position inside the input (or 0:0 for the whole file);
 *  - an accepted input is a manifest that keeps every rule (so the
 *    parser never lets a mutant through half-checked), and the plan
 *    against its original can be computed.
 * UPTRKV_FUZZ_COUNT and UPTRKV_FUZZ_SEED override the defaults.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit/helpers.h"
#include "uptrkv_tool.h"

#define DEFAULT_COUNT 20000
#define DEFAULT_SEED 0x5eed1234abcdull

static const char *const inputs[] = {
	"examples/demo/demo_v1.yaml",
	"examples/demo/demo_v2.yaml",
	"examples/demo/demo_v3.yaml",
	"tests/unit/manifests/good_full.yaml",
	"tests/unit/manifests/good_minimal.yaml",
};
#define NR_INPUTS (sizeof(inputs) / sizeof(inputs[0]))

/* Fragments that steer mutants toward the parser's interesting paths. */
static const char *const tokens[] = {
	"id:", "name:", "size:", "type:", "default:", "resize:", "keys:", "version:",
	"apiVersion:", "object:", "programs:", "store:", "map:", "- ", ": ", "\n", "\n  - ",
	"---\n", "...\n", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!!int ", "!foo ",
	"\"", "'", "#", "|\n", ">\n", "~", "null", "true", "0", "-1", "1023", "1024", "4096",
	"4097", "0x", "0xff", "18446744073709551616", "-9223372036854775809", "u8", "u64",
	"s32", "bool", "string", "bytes", "truncate", "reset", "zero-extend", "\t", "\\0",
	"\"\\x00\"", "\xc3\x28", "\xef\xbb\xbf", "? ", "%YAML 1.2\n", "<<: ", "uptrkv/v1",
};

struct buf {
	char *p;
	size_t len;
};

static __u64 rng_state;

static __u64 rnd(void)
{
	/* xorshift64*: small, deterministic, good enough to pick mutations */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

static void splice(struct buf *b, size_t at, size_t del, const char *ins, size_t ins_len)
{
	char *p = malloc(b->len - del + ins_len + 1);

	assert_non_null(p);
	memcpy(p, b->p, at);
	memcpy(p + at, ins, ins_len);
	memcpy(p + at + ins_len, b->p + at + del, b->len - at - del);
	b->len = b->len - del + ins_len;
	p[b->len] = '\0';
	free(b->p);
	b->p = p;
}

/* Start and length of line number n (0-based, clamped to the last). */
static void line_span(const struct buf *b, size_t n, size_t *start, size_t *len)
{
	size_t s = 0, i;

	for (i = 0; i < b->len && n; i++) {
		if (b->p[i] == '\n') {
			n--;
			s = i + 1;
		}
	}
	if (n)
		s = 0;
	for (i = s; i < b->len && b->p[i] != '\n'; i++)
		;
	*start = s;
	*len = i < b->len ? i - s + 1 : i - s;
}

static size_t nr_lines(const struct buf *b)
{
	size_t n = 1;

	for (size_t i = 0; i < b->len; i++)
		n += b->p[i] == '\n';
	return n;
}

/* Not strndup: a mutant may hold NUL bytes. */
static char *dup_bytes(const char *p, size_t n)
{
	char *c = malloc(n + 1);

	assert_non_null(c);
	memcpy(c, p, n);
	c[n] = '\0';
	return c;
}

static void mutate(struct buf *b)
{
	size_t at = rnd_below(b->len + 1), s, l, s2, l2;
	const char *t;
	char c, *copy;

	switch (rnd_below(10)) {
	case 0:	/* random byte */
		if (!b->len)
			break;
		c = (char)rnd();
		splice(b, rnd_below(b->len), 1, &c, 1);
		break;
	case 1:	/* bit flip */
		if (b->len)
			b->p[rnd_below(b->len)] ^= 1 << rnd_below(8);
		break;
	case 2:	/* delete a line */
		line_span(b, rnd_below(nr_lines(b)), &s, &l);
		splice(b, s, l, "", 0);
		break;
	case 3:	/* duplicate a line */
		line_span(b, rnd_below(nr_lines(b)), &s, &l);
		copy = dup_bytes(b->p + s, l);
		splice(b, s, 0, copy, l);
		free(copy);
		break;
	case 4:	/* move a line elsewhere */
		line_span(b, rnd_below(nr_lines(b)), &s, &l);
		copy = dup_bytes(b->p + s, l);
		splice(b, s, l, "", 0);
		line_span(b, rnd_below(nr_lines(b)), &s2, &l2);
		splice(b, s2, 0, copy, l);
		free(copy);
		break;
	case 5:	/* insert a token */
	case 6:
		t = tokens[rnd_below(sizeof(tokens) / sizeof(tokens[0]))];
		splice(b, at, 0, t, strlen(t));
		break;
	case 7:	/* replace a word with a token */
		for (s = at; s < b->len && (b->p[s] == ' ' || b->p[s] == '\n'); s++)
			;
		for (l = 0; s + l < b->len && b->p[s + l] != ' ' && b->p[s + l] != '\n'; l++)
			;
		t = tokens[rnd_below(sizeof(tokens) / sizeof(tokens[0]))];
		splice(b, s, l, t, strlen(t));
		break;
	case 8:	/* delete a range */
		l = rnd_below(16) + 1;
		if (at + l > b->len)
			l = b->len - at;
		splice(b, at, l, "", 0);
		break;
	case 9:	/* truncate */
		b->len = at;
		b->p[at] = '\0';
		break;
	}
}

static bool is_ident(const char *s)
{
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* Every rule an accepted manifest must keep. */
static void check_accepted(const struct uptrkv_manifest *m, const struct uptrkv_manifest *orig)
{
	struct uptrkv_error e = {};
	struct uptrkv_plan *p = NULL;

	assert_true(m->version >= 1);
	assert_true(strlen(m->name) >= 1 && strlen(m->name) <= 32);
	assert_non_null(m->object);
	assert_true(is_ident(m->store_map));
	assert_true(m->nr_keys <= UPTRKV_MAX_KEYS);
	for (size_t i = 0; i < m->nr_programs; i++)
		assert_true(is_ident(m->programs[i]));
	for (size_t i = 0; i < m->nr_keys; i++) {
		const struct uptrkv_key *k = &m->keys[i];
		__u32 w = uptrkv_type__width(k->type);

		assert_true(k->id < UPTRKV_MAX_KEYS);
		assert_true(i == 0 || m->keys[i - 1].id < k->id);
		assert_true(k->size >= 1 && k->size <= UPTRKV_MAX_VALUE);
		assert_true(w == 0 || w == k->size);
		assert_true(is_ident(k->name));
		assert_non_null(k->def);
		if (k->type == UPTRKV_T_STRING)
			assert_int_equal(k->def[k->size - 1], 0);
		if (k->type == UPTRKV_T_BOOL)
			assert_true(k->def[0] <= 1);
		assert_ptr_equal(uptrkv_manifest__key(m, k->id), k);
	}
	assert_int_equal(m->layout_hash, uptrkv_layout_hash(m->keys, m->nr_keys));
	assert_int_not_equal(m->layout_hash, 0);

	if (strcmp(m->name, orig->name))
		return;
	assert_int_equal(uptrkv_plan__new(orig, m, &p, &e), 0);
	assert_true(p->n >= m->nr_keys && p->n >= orig->nr_keys);
	assert_int_equal(p->compatible, p->nr_refused == 0);
	uptrkv_plan__free(p);
}

static void check_rejected(const struct buf *b, const struct uptrkv_diags *d, int err)
{
	size_t lines = nr_lines(b);

	/* YAML also breaks lines at a lone CR and at U+0085/2028/2029 */
	for (size_t i = 0; i < b->len; i++)
		lines += b->p[i] == '\r' || (unsigned char)b->p[i] >= 0x80;

	if (!d->n)
		fail_msg("rejected (%d) without a diagnostic:\n%s", err, b->p);
	for (size_t i = 0; i < d->n; i++) {
		const struct uptrkv_diag *g = &d->v[i];

		if (!g->msg[0] || !g->file || g->line < 0 || g->col < 0 ||
		    (size_t)g->line > lines + 1 || (g->line == 0) != (g->col == 0))
			fail_msg("bad diagnostic %d:%d '%s' (%zu lines) for:\n%s", g->line, g->col,
				 g->msg, lines, b->p);
		/* one line each: the CLI prints them as file:line:col: msg */
		assert_null(strchr(g->msg, '\n'));
	}
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n + 1);
	if (p && fread(p, 1, n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	if (p)
		p[n] = '\0';
	fclose(f);
	*len = n;
	return p;
}

static void test_mutations(void **state)
{
	UPTRKV_OPTS(uptrkv_manifest_opts, o, .display_name = "mutant.yaml", .base_dir = "/m");
	const char *env_count = getenv("UPTRKV_FUZZ_COUNT"), *env_seed = getenv("UPTRKV_FUZZ_SEED");
	struct uptrkv_manifest *orig[NR_INPUTS] = {};
	struct buf src[NR_INPUTS];
	size_t accepted = 0, rejected = 0, count;
	time_t t0 = time(NULL);

	(void)state;
	count = env_count ? strtoul(env_count, NULL, 0) : DEFAULT_COUNT;
	rng_state = env_seed ? strtoull(env_seed, NULL, 0) : DEFAULT_SEED;
	if (!rng_state)
		rng_state = DEFAULT_SEED;
	for (size_t i = 0; i < NR_INPUTS; i++) {
		src[i].p = read_all(inputs[i], &src[i].len);
		if (!src[i].p)
			fail_msg("%s: cannot read (run from the source tree)", inputs[i]);
		assert_int_equal(uptrkv_manifest__parse(src[i].p, src[i].len, &o, &orig[i], NULL), 0);
	}

	for (size_t n = 0; n < count; n++) {
		size_t which = rnd_below(NR_INPUTS), rounds = 1 + rnd_below(3);
		struct buf b = { .len = src[which].len };
		struct uptrkv_manifest *m = NULL;
		struct uptrkv_diags d = {};
		int err;

		b.p = malloc(b.len + 1);
		assert_non_null(b.p);
		memcpy(b.p, src[which].p, b.len + 1);
		for (size_t r = 0; r < rounds; r++)
			mutate(&b);

		err = uptrkv_manifest__parse(b.p, b.len, &o, &m, &d);
		if (err) {
			assert_null(m);
			assert_true(err == -EINVAL);
			check_rejected(&b, &d, err);
			rejected++;
		} else {
			assert_int_equal(d.n, 0);
			check_accepted(m, orig[which]);
			accepted++;
		}
		uptrkv_manifest__free(m);
		uptrkv_diags__free(&d);
		free(b.p);
	}
	print_message("%zu mutants: %zu accepted, %zu rejected, %lds\n", count, accepted,
		      rejected, (long)(time(NULL) - t0));
	/* Both outcomes must be common, or the mutations test nothing. */
	assert_true(accepted > count / 50);
	assert_true(rejected > count / 2);
	for (size_t i = 0; i < NR_INPUTS; i++) {
		uptrkv_manifest__free(orig[i]);
		free(src[i].p);
	}
}

static int to_top(void **state)
{
	char top[PATH_MAX];

	(void)state;
	if (ut_find_top("examples/demo/demo_v1.yaml", top))
		return -1;
	return chdir(top) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, to_top, NULL);
}
