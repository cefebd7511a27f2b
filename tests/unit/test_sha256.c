// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* SHA-256 against the FIPS 180-4 examples and sha256sum, whole and in pieces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "sha256.h"

static void check(const char *msg, size_t n, const char *want)
{
	uint8_t d[UPTRKV_SHA256_LEN];
	char hex[UPTRKV_SHA256_HEX];
	struct uptrkv_sha256 c;

	uptrkv_sha256(msg, n, d);
	uptrkv_sha256_hex(d, hex);
	assert_string_equal(hex, want);
	/* the same bytes fed in uneven pieces */
	uptrkv_sha256__init(&c);
	for (size_t i = 0; i < n; i += 7)
		uptrkv_sha256__update(&c, msg + i, n - i < 7 ? n - i : 7);
	uptrkv_sha256__final(&c, d);
	uptrkv_sha256_hex(d, hex);
	assert_string_equal(hex, want);
}

static void test_vectors(void **state)
{
	static char million[1000000];

	(void)state;
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* 55, 56 and 64 bytes: the padding's edge cases */
	check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55,
	      "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64,
	      "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	memset(million, 'a', sizeof(million));
	check(million, sizeof(million),
	      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The SHA-instruction blocks (where the CPU has them) and the portable
 * ones agree on every length up to three blocks and a large buffer, fed
 * whole and in uneven pieces. */
static void test_fast_equals_portable(void **state)
{
	static uint8_t buf[1 << 20];
	uint8_t a[UPTRKV_SHA256_LEN], b[UPTRKV_SHA256_LEN];
	struct uptrkv_sha256 fast, slow;
	uint32_t x = 2463534242u;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (size_t n = 0; n <= 3 * 64 + 1; n++) {
		uptrkv_sha256(buf, n, a);
		uptrkv_sha256__init_portable(&slow);
		uptrkv_sha256__update(&slow, buf, n);
		uptrkv_sha256__final(&slow, b);
		assert_memory_equal(a, b, sizeof(a));
	}
	uptrkv_sha256__init(&fast);
	uptrkv_sha256__init_portable(&slow);
	for (size_t off = 0, step = 1; off < sizeof(buf); off += step, step = step * 3 % 1021 + 1) {
		size_t k = sizeof(buf) - off < step ? sizeof(buf) - off : step;

		uptrkv_sha256__update(&fast, buf + off, k);
		uptrkv_sha256__update(&slow, buf + off, k);
	}
	uptrkv_sha256__final(&fast, a);
	uptrkv_sha256__final(&slow, b);
	assert_memory_equal(a, b, sizeof(a));
	uptrkv_sha256__init(&fast);
	print_message("SHA instructions: %s\n", fast.sha_ni ? "used" : "not on this CPU");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_fast_equals_portable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
