// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Converting a value to a key's new size or type. Integer widenings go by
 * value (read as an integer of the old width, written as one of the new),
 * so a u32 -> u64 or s16 -> s64 change keeps every value, negative ones
 * included, on any byte order.
 */
#include <string.h>
#include "convert.h"

/* Each key type's name, width and sign (lib/manifest.c parses the names). */
static const struct {
	const char *name;
	__u32 width;		/* 0: any size */
	bool is_signed;
} type_info[__UPTRKV_T_MAX] = {
	[UPTRKV_T_BYTES]  = { "bytes",  0, false },
	[UPTRKV_T_U8]     = { "u8",     1, false },
	[UPTRKV_T_U16]    = { "u16",    2, false },
	[UPTRKV_T_U32]    = { "u32",    4, false },
	[UPTRKV_T_U64]    = { "u64",    8, false },
	[UPTRKV_T_S8]     = { "s8",     1, true },
	[UPTRKV_T_S16]    = { "s16",    2, true },
	[UPTRKV_T_S32]    = { "s32",    4, true },
	[UPTRKV_T_S64]    = { "s64",    8, true },
	[UPTRKV_T_BOOL]   = { "bool",   1, false },
	[UPTRKV_T_STRING] = { "string", 0, false },
};

const char *uptrkv_type__str(enum uptrkv_type t)
{
	if ((unsigned)t >= __UPTRKV_T_MAX)
		return "unknown";
	return type_info[t].name;
}

__u32 uptrkv_type__width(enum uptrkv_type t)
{
	if ((unsigned)t >= __UPTRKV_T_MAX)
		return 0;
	return type_info[t].width;
}

bool uptrkv_type__is_signed(enum uptrkv_type t)
{
	if ((unsigned)t >= __UPTRKV_T_MAX)
		return false;
	return type_info[t].is_signed;
}

static const char *const conv_names[] = {
	[UPTRKV_CONV_NONE] = "none",
	[UPTRKV_CONV_ZERO_EXTEND] = "zero-extend",
	[UPTRKV_CONV_STRING] = "string",
	[UPTRKV_CONV_UINT] = "uint",
	[UPTRKV_CONV_SINT] = "sint",
	[UPTRKV_CONV_RESET] = "reset",
};

const char *uptrkv_conv__str(enum uptrkv_conv c)
{
	if ((unsigned)c >= ARRAY_SIZE(conv_names))
		return "unknown";
	return conv_names[c];
}

static bool is_int(enum uptrkv_type t)
{
	return t >= UPTRKV_T_U8 && t <= UPTRKV_T_S64;
}

bool uptrkv_type__widens(enum uptrkv_type from, enum uptrkv_type to)
{
	if (!is_int(from) || !is_int(to) || uptrkv_type__width(to) <= uptrkv_type__width(from))
		return false;
	/* A signed value can be negative: no unsigned type holds it. */
	return !uptrkv_type__is_signed(from) || uptrkv_type__is_signed(to);
}

bool uptrkv_int_size_ok(__u32 n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

__u64 uptrkv_read_uint(const void *src, __u32 n)
{
	__u8 u8; __u16 u16; __u32 u32; __u64 u64 = 0;

	switch (n) {
	case 1: memcpy(&u8, src, 1); return u8;
	case 2: memcpy(&u16, src, 2); return u16;
	case 4: memcpy(&u32, src, 4); return u32;
	default: memcpy(&u64, src, 8); return u64;
	}
}

__s64 uptrkv_read_sint(const void *src, __u32 n)
{
	unsigned int shift = 64 - 8 * (uptrkv_int_size_ok(n) ? n : 8);

	/* The value's top bit moved to bit 63, then back: sign-extended. */
	return (__s64)(uptrkv_read_uint(src, n) << shift) >> shift;
}

/* The low n bytes of v, as an integer of n bytes in host order. */
static void write_uint(void *dst, __u32 n, __u64 v)
{
	__u8 u8 = v; __u16 u16 = v; __u32 u32 = v;

	switch (n) {
	case 1: memcpy(dst, &u8, 1); break;
	case 2: memcpy(dst, &u16, 2); break;
	case 4: memcpy(dst, &u32, 4); break;
	default: memcpy(dst, &v, 8); break;
	}
}

static void copy_bytes(__u8 *dst, __u32 dst_size, const void *src, __u32 src_size, bool string)
{
	memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
	if (string && src_size > dst_size)
		dst[dst_size - 1] = '\0';
}

int uptrkv_convert_over(__u8 *dst, __u32 dst_size, const __u8 *src, __u32 src_size,
			enum uptrkv_ent_conv conv)
{
	bool sint = conv == UPTRKV_ENT_CONV_SEXT;

	if (sint || conv == UPTRKV_ENT_CONV_UINT) {
		if (src_size >= dst_size || !uptrkv_int_size_ok(src_size) || !uptrkv_int_size_ok(dst_size))
			return -EINVAL;
		write_uint(dst, dst_size, sint ? (__u64)uptrkv_read_sint(src, src_size)
					       : uptrkv_read_uint(src, src_size));
		return 0;
	}
	copy_bytes(dst, dst_size, src, src_size, conv == UPTRKV_ENT_CONV_STRING);
	return 0;
}

int uptrkv_convert_value(void *dst, __u32 dst_size, const void *src, __u32 src_size,
			 enum uptrkv_conv conv)
{
	if (!dst_size)
		return -EINVAL;
	memset(dst, 0, dst_size);
	if (!src_size && conv != UPTRKV_CONV_RESET)
		return -EINVAL;
	switch (conv) {
	case UPTRKV_CONV_ZERO_EXTEND:
	case UPTRKV_CONV_STRING:
		copy_bytes(dst, dst_size, src, src_size, conv == UPTRKV_CONV_STRING);
		return 0;
	case UPTRKV_CONV_UINT:
	case UPTRKV_CONV_SINT:
		if (!uptrkv_int_size_ok(src_size) || !uptrkv_int_size_ok(dst_size))
			return -EINVAL;
		write_uint(dst, dst_size, conv == UPTRKV_CONV_SINT ? (__u64)uptrkv_read_sint(src, src_size)
								   : uptrkv_read_uint(src, src_size));
		return 0;
	case UPTRKV_CONV_RESET:
		return 0;
	case UPTRKV_CONV_NONE:
		break;
	}
	return -EINVAL;
}
