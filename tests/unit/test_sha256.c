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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
