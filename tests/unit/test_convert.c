// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * lib/convert.c: the one rule for turning an old value into a new one.
 * Widenings keep the value (negative ones too), bytes and strings are
 * zero-extended or truncated, bad sizes are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "uptrkv.h"
#include "convert.h"

static void test_uint(void **state)
{
	__u8 u8 = 0xfe; __u16 u16 = 0xfedc; __u32 u32 = 0xfedcba98u; __u64 u64;
	__s64 s64;

	(void)state;
	assert_int_equal(uptrkv_convert_value(&u64, 8, &u32, 4, UPTRKV_CONV_UINT), 0);
	assert_true(u64 == 0xfedcba98u);
	assert_int_equal(uptrkv_convert_value(&u64, 8, &u8, 1, UPTRKV_CONV_UINT), 0);
	assert_true(u64 == 0xfe);
	assert_int_equal(uptrkv_convert_value(&u32, 4, &u16, 2, UPTRKV_CONV_UINT), 0);
	assert_true(u32 == 0xfedc);
	/* unsigned into a wider signed type: still the same, positive value */
	assert_int_equal(uptrkv_convert_value(&s64, 8, &u16, 2, UPTRKV_CONV_UINT), 0);
	assert_true(s64 == 0xfedc);
}

static void test_sint(void **state)
{
	__s8 s8 = -3; __s16 s16 = -12345; __s32 s32 = -2000000000; __s64 s64;
	__s16 pos = 300; __s32 o32;

	(void)state;
	assert_int_equal(uptrkv_convert_value(&s64, 8, &s16, 2, UPTRKV_CONV_SINT), 0);
	assert_true(s64 == -12345);
	assert_int_equal(uptrkv_convert_value(&s64, 8, &s8, 1, UPTRKV_CONV_SINT), 0);
	assert_true(s64 == -3);
	assert_int_equal(uptrkv_convert_value(&s64, 8, &s32, 4, UPTRKV_CONV_SINT), 0);
	assert_true(s64 == -2000000000);
	assert_int_equal(uptrkv_convert_value(&o32, 4, &s8, 1, UPTRKV_CONV_SINT), 0);
	assert_int_equal(o32, -3);
	assert_int_equal(uptrkv_convert_value(&s64, 8, &pos, 2, UPTRKV_CONV_SINT), 0);
	assert_true(s64 == 300);
	/* A zero-extension of the same bytes would not keep the value. */
	assert_int_equal(uptrkv_convert_value(&s64, 8, &s16, 2, UPTRKV_CONV_UINT), 0);
	assert_true(s64 == 0xcfc7);
}

/* The one integer reader the conversions and dump's values share. */
static void test_read_int(void **state)
{
	__s8 m1 = -1;
	__s16 m300 = -300;
	__s32 big = INT32_MIN;
	__s64 m5 = -5;
	__u32 u = 0x80000000u;
	__u8 flag = 1;

	(void)state;
	assert_int_equal(uptrkv_read_sint(&m1, 1), -1);
	assert_int_equal(uptrkv_read_uint(&m1, 1), 0xff);
	assert_int_equal(uptrkv_read_sint(&m300, 2), -300);
	assert_int_equal(uptrkv_read_sint(&big, 4), INT32_MIN);
	assert_int_equal(uptrkv_read_sint(&m5, 8), -5);
	assert_int_equal(uptrkv_read_uint(&u, 4), 0x80000000u);
	assert_true(uptrkv_int_size_ok(8) && !uptrkv_int_size_ok(3) && !uptrkv_int_size_ok(0));
	assert_int_equal(uptrkv_value__s64(UPTRKV_T_S16, &m300), -300);
	assert_int_equal(uptrkv_value__u64(UPTRKV_T_U32, &u), 0x80000000u);
	assert_int_equal(uptrkv_value__u64(UPTRKV_T_BOOL, &flag), 1);
	assert_int_equal(uptrkv_value__u64(UPTRKV_T_STRING, "abc"), 0);
}

static void test_bytes(void **state)
{
	__u8 src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, dst[12];
	char str[8] = "abcdefg", out[4];

	(void)state;
	memset(dst, 0xaa, sizeof(dst));
	assert_int_equal(uptrkv_convert_value(dst, 12, src, 8, UPTRKV_CONV_ZERO_EXTEND), 0);
	assert_memory_equal(dst, src, 8);
	assert_memory_equal(dst + 8, "\0\0\0\0", 4);
	assert_int_equal(uptrkv_convert_value(dst, 3, src, 8, UPTRKV_CONV_ZERO_EXTEND), 0);
	assert_memory_equal(dst, src, 3);
	/* A truncated string keeps its NUL; truncated bytes do not get one. */
	assert_int_equal(uptrkv_convert_value(out, 4, str, 8, UPTRKV_CONV_STRING), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(uptrkv_convert_value(out, 4, str, 8, UPTRKV_CONV_ZERO_EXTEND), 0);
	assert_memory_equal(out, "abcd", 4);
}

static void test_reset_and_errors(void **state)
{
	__u64 v = ~0ull, src = 5;
	__u8 three[3];

	(void)state;
	assert_int_equal(uptrkv_convert_value(&v, 8, &src, 8, UPTRKV_CONV_RESET), 0);
	assert_true(v == 0);
	assert_int_equal(uptrkv_convert_value(&v, 0, &src, 8, UPTRKV_CONV_ZERO_EXTEND), -EINVAL);
	assert_int_equal(uptrkv_convert_value(&v, 8, &src, 0, UPTRKV_CONV_UINT), -EINVAL);
	/* Integers are 1, 2, 4 or 8 bytes: anything else is not a conversion. */
	assert_int_equal(uptrkv_convert_value(&v, 8, three, 3, UPTRKV_CONV_SINT), -EINVAL);
	assert_int_equal(uptrkv_convert_value(three, 3, &src, 8, UPTRKV_CONV_UINT), -EINVAL);
	assert_int_equal(uptrkv_convert_value(&v, 8, &src, 8, UPTRKV_CONV_NONE), -EINVAL);
	assert_int_equal(uptrkv_convert_value(&v, 8, &src, 8, (enum uptrkv_conv)77), -EINVAL);
	assert_string_equal(uptrkv_conv__str(UPTRKV_CONV_SINT), "sint");
	assert_string_equal(uptrkv_conv__str((enum uptrkv_conv)77), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_sint),
		cmocka_unit_test(test_read_int),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_reset_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
