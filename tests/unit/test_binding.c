// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Layout records (lib/binding.c): the canonical text and its SHA-256, the
 * record `gen header` embeds, and its parser against hostile input: cut
 * short at every byte, bad magic, huge counts, no NUL, repeated ids, a
 * hash that does not match its keys, two records in one object, and
 * random bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "helpers.h"
#include "sha256.h"

static const char manifest_text[] =
	"apiVersion: uptrkv/v1\n"
	"name: demo\n"
	"version: 1\n"
	"object: x.bpf.o\n"
	"keys:\n"
	"  - {id: 3, name: comm, size: 16, type: string}\n"
	"  - {id: 0, name: rx_bytes, size: 8, type: u64}\n"
	"  - {id: 1, name: events, size: 8, type: u64, default: 5}\n";

/* printf '0 rx_bytes 8 u64\n1 events 8 u64\n3 comm 16 string\n' | sha256sum */
#define CANON "0 rx_bytes 8 u64\n1 events 8 u64\n3 comm 16 string\n"
#define CANON_SHA "9cc700890ed6ea3f48dcedb123d8f7f62efd45c579739ddec7b080ea2900dff9"
#define RECORD "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 3\n" CANON

static struct uptrkv_manifest *load(const char *text)
{
	UPTRKV_OPTS(uptrkv_manifest_opts, o, .base_dir = "/tmp", .display_name = "t.yaml");
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};

	assert_int_equal(uptrkv_manifest__parse(text, strlen(text), &o, &m, &d), 0);
	uptrkv_diags__free(&d);
	return m;
}

static void test_canon_and_hash(void **state)
{
	struct uptrkv_manifest *m = load(manifest_text);
	__u8 sha[UPTRKV_LAYOUT_SHA_LEN];
	char hex[UPTRKV_LAYOUT_HEX_LEN];
	struct uptrkv_error e = {};
	char *text;
	size_t len;

	(void)state;
	/* sorted by id; defaults and resize are not part of the layout */
	assert_int_equal(uptrkv_layout__canon(m->keys, m->nr_keys, &text, &len, &e), 0);
	assert_string_equal(text, CANON);
	assert_int_equal(len, strlen(CANON));
	free(text);
	assert_int_equal(uptrkv_layout__sha256(m->keys, m->nr_keys, sha, &e), 0);
	uptrkv_layout__hex(sha, hex);
	assert_string_equal(hex, CANON_SHA);
	/* no keys: the hash of the empty text */
	assert_int_equal(uptrkv_layout__sha256(NULL, 0, sha, &e), 0);
	uptrkv_layout__hex(sha, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	uptrkv_manifest__free(m);
}

/* A name, size or type change changes the hash; a default does not. */
static void test_hash_covers_the_table(void **state)
{
	static const char *const variants[] = {
		"  - {id: 3, name: comm2, size: 16, type: string}\n",
		"  - {id: 3, name: comm, size: 17, type: string}\n",
		"  - {id: 3, name: comm, size: 16, type: bytes}\n",
		"  - {id: 4, name: comm, size: 16, type: string}\n",
	};
	struct uptrkv_manifest *base = load(manifest_text);
	__u8 a[UPTRKV_LAYOUT_SHA_LEN], b[UPTRKV_LAYOUT_SHA_LEN];
	char text[1024];

	(void)state;
	assert_int_equal(uptrkv_layout__sha256(base->keys, base->nr_keys, a, NULL), 0);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct uptrkv_manifest *m;
		const char *cut = strstr(manifest_text, "  - {id: 3");

		snprintf(text, sizeof(text), "%.*s%s%s", (int)(cut - manifest_text), manifest_text,
			 variants[i], strchr(cut, '\n') + 1);
		m = load(text);
		assert_int_equal(uptrkv_layout__sha256(m->keys, m->nr_keys, b, NULL), 0);
		assert_memory_not_equal(a, b, sizeof(a));
		uptrkv_manifest__free(m);
	}
	uptrkv_manifest__free(base);
}

static void test_record_round_trip(void **state)
{
	struct uptrkv_manifest *m = load(manifest_text);
	struct uptrkv_layout_rec r;
	struct uptrkv_error e = {};
	char hex[UPTRKV_LAYOUT_HEX_LEN];
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(uptrkv_layout__record(m, &text, &len, &e), 0);
	assert_string_equal(text, RECORD);
	assert_int_equal(uptrkv_layout_rec__parse(text, len, &r, &e), 0);
	assert_string_equal(r.name, "demo");
	uptrkv_layout__hex(r.sha256, hex);
	assert_string_equal(hex, CANON_SHA);
	assert_int_equal(r.nr_keys, 3);
	assert_int_equal(r.keys[2].id, 3);
	assert_string_equal(r.keys[2].name, "comm");
	assert_int_equal(r.keys[2].size, 16);
	assert_int_equal(r.keys[2].type, UPTRKV_T_STRING);
	uptrkv_layout_rec__free(&r);
	free(text);
	uptrkv_manifest__free(m);
}

static void refused(const char *rec, size_t len, const char *why)
{
	struct uptrkv_layout_rec r;
	struct uptrkv_error e = {};

	assert_int_equal(uptrkv_layout_rec__parse(rec, len, &r, &e), -EINVAL);
	if (why && !strstr(e.msg, why))
		fail_msg("'%s': message '%s' lacks '%s'", rec, e.msg, why);
	assert_null(r.keys);
}

/* Every proper prefix of a valid record is refused, never read past. */
static void test_truncated(void **state)
{
	size_t len = strlen(RECORD);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		/* a heap copy of exactly n bytes: ASan catches any over-read */
		char *cut = malloc(n ? n : 1);

		memcpy(cut, RECORD, n);
		refused(cut, n, NULL);
		free(cut);
	}
}

static void test_hostile_records(void **state)
{
	static const struct { const char *rec, *why; } cases[] = {
		{ "uptrkv-layuot 1\nname demo\n", "not a layout record" },
		{ "uptrkv-layout 2\nname demo\n", "format 2" },
		{ "uptrkv-layout 99999999999\n", "not a layout record" },
		{ "uptrkv-layout 1\nname Demo!\n", "deployment name" },
		{ "uptrkv-layout 1\nname aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "name" },
		{ "uptrkv-layout 1\nname demo\nsha256 abc\n", "64 hex" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 99999999999\n", "at most 1024" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1025\n", "at most 1024" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys -1\n", "at most 1024" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1000\n0 a 8 u64\n", "truncated" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 2\n0 a 8 u64\n0 b 8 u64\n",
		  "repeats" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 2\n5 a 8 u64\n1 b 8 u64\n",
		  "out of order" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n1024 a 8 u64\n", "id 0..1023" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0 a 0 bytes\n", "size 1..4096" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0 a 4097 bytes\n", "size" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0 a 4 u64\n", "fits the type" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0 a 8 float\n", "ID NAME" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0 9a 8 u64\n", "ID NAME" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0  a 8 u64\n", "ID NAME" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n0 a 8 u64 x\n", "ID NAME" },
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 1\n00 a 8 u64\n", "ID NAME" },
		/* a key changed under an unchanged hash */
		{ "uptrkv-layout 1\nname demo\nsha256 " CANON_SHA "\nkeys 3\n"
		  "0 rx_bytes 8 u64\n1 events 8 u64\n3 comm 32 string\n", "does not match" },
		{ RECORD "4 extra 8 u64\n", "more than" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused(cases[i].rec, strlen(cases[i].rec), cases[i].why);
	/* a NUL inside */
	refused("uptrkv-layout 1\n\0name demo\n", 27, "NUL");
}

/* A long name: within the key name limit it parses, past it it does not. */
static void test_name_limits(void **state)
{
	char name[UPTRKV_NAME_MAX + 8], canon[256], rec[512];
	__u8 sha[32];
	char hex[65];
	struct uptrkv_layout_rec r;

	(void)state;
	for (int n = UPTRKV_NAME_MAX - 1; n <= UPTRKV_NAME_MAX; n++) {
		memset(name, 'k', n);
		name[n] = '\0';
		snprintf(canon, sizeof(canon), "0 %s 8 u64\n", name);
		uptrkv_sha256(canon, strlen(canon), sha);
		uptrkv_sha256_hex(sha, hex);
		snprintf(rec, sizeof(rec), "uptrkv-layout 1\nname demo\nsha256 %s\nkeys 1\n%s", hex,
			 canon);
		if (n < UPTRKV_NAME_MAX) {
			assert_int_equal(uptrkv_layout_rec__parse(rec, strlen(rec), &r, NULL), 0);
			assert_string_equal(r.keys[0].name, name);
			uptrkv_layout_rec__free(&r);
		} else {
			refused(rec, strlen(rec), "ID NAME");
		}
	}
}

static void test_section(void **state)
{
	char sec[2 * sizeof(RECORD) + 16];
	struct uptrkv_layout_rec r;
	struct uptrkv_error e = {};
	size_t n = sizeof(RECORD);	/* with its NUL */

	(void)state;
	/* empty, or padding only: no record */
	assert_int_equal(uptrkv_layout_rec__parse_section("", 0, &r, &e), 0);
	assert_int_equal(uptrkv_layout_rec__parse_section("\0\0\0", 3, &r, &e), 0);
	/* one record between padding */
	memset(sec, 0, sizeof(sec));
	memcpy(sec + 3, RECORD, n);
	assert_int_equal(uptrkv_layout_rec__parse_section(sec, 3 + n + 5, &r, &e), 1);
	assert_string_equal(r.name, "demo");
	uptrkv_layout_rec__free(&r);
	/* the same record twice (one header in two units) counts once */
	memcpy(sec, RECORD, n);
	memcpy(sec + n, RECORD, n);
	assert_int_equal(uptrkv_layout_rec__parse_section(sec, 2 * n, &r, &e), 1);
	uptrkv_layout_rec__free(&r);
	/* missing NUL: the record runs to the end of the section */
	assert_int_equal(uptrkv_layout_rec__parse_section(RECORD, n - 1, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "NUL-terminated"));
	assert_null(r.keys);
	/* a bad record among good ones spoils the section */
	memcpy(sec, RECORD, n);
	memcpy(sec + n, "uptrkv-layout 1\n", 17);
	assert_int_equal(uptrkv_layout_rec__parse_section(sec, n + 17, &r, &e), -EINVAL);
	assert_null(r.keys);
	/* huge */
	assert_int_equal(uptrkv_layout_rec__parse_section(sec, UPTRKV_LAYOUT_SEC_MAX + 1, &r, &e),
			 -E2BIG);
}

/* Two different layouts in one object: refused, naming both. */
static void test_two_records(void **state)
{
	struct uptrkv_manifest *m = load(manifest_text), *m2;
	char text2[sizeof(manifest_text) + 16], *a, *b, *sec;
	struct uptrkv_layout_rec r;
	struct uptrkv_error e = {};
	size_t la, lb;

	(void)state;
	snprintf(text2, sizeof(text2), "%s", manifest_text);
	memcpy(strstr(text2, "name: demo"), "name: dem2", 10);
	m2 = load(text2);
	assert_int_equal(uptrkv_layout__record(m, &a, &la, &e), 0);
	assert_int_equal(uptrkv_layout__record(m2, &b, &lb, &e), 0);
	sec = calloc(1, la + lb + 2);
	memcpy(sec, a, la);
	memcpy(sec + la + 1, b, lb);
	assert_int_equal(uptrkv_layout_rec__parse_section(sec, la + lb + 2, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'demo' and 'dem2'"));
	assert_null(r.keys);
	free(sec);
	free(a);
	free(b);
	uptrkv_manifest__free(m);
	uptrkv_manifest__free(m2);
}

/* Random bytes, and a valid record with random bytes flipped: never a
 * crash (ASan/UBSan), and a flipped record never parses as the original. */
static void test_random(void **state)
{
	char buf[512];
	struct uptrkv_layout_rec r;
	unsigned int seed = 12345;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = rand_r(&seed) % sizeof(buf);

		if (i % 2) {
			for (size_t j = 0; j < n; j++)
				buf[j] = rand_r(&seed);
		} else {
			n = sizeof(RECORD);
			memcpy(buf, RECORD, n);
			buf[rand_r(&seed) % (n - 1)] ^= 1 + rand_r(&seed) % 255;
		}
		if (uptrkv_layout_rec__parse_section(buf, n, &r, NULL) == 1) {
			/* Only the name line is outside the hash; any other
			 * flip must have been refused. */
			if (i % 2 == 0)
				assert_string_not_equal(r.name, "demo");
			uptrkv_layout_rec__free(&r);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_and_hash),
		cmocka_unit_test(test_hash_covers_the_table),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hostile_records),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_section),
		cmocka_unit_test(test_two_records),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
