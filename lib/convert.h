/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One rule for turning an old value into a new one (lib/convert.c). */
#ifndef __UPTRKV_CONVERT_H
#define __UPTRKV_CONVERT_H

#include "internal.h"

/*
 * Writes into dst (dst_size bytes) the value of src (src_size bytes)
 * converted as conv says. Pure: the migration and the unit
 * tests all call this one function, so they cannot disagree.
 *  - ZERO_EXTEND: the bytes, zero-extended or truncated;
 *  - STRING: the same, and a truncated string keeps a terminating NUL;
 *  - UINT, SINT: src and dst are integers of 1, 2, 4 or 8 bytes in host
 *    order; the value is kept, zero- or sign-extended (a narrower dst keeps
 *    the low bits, but the plan never asks for that);
 *  - RESET: zeros. The caller writes the key's default instead; zeros are
 *    what a key without a default starts with.
 * -EINVAL for a size of 0 or an integer size not in 1/2/4/8; dst is zeroed.
 */
int uptrkv_convert_value(void *dst, __u32 dst_size, const void *src, __u32 src_size,
			 enum uptrkv_conv conv);

/*
 * The conversion a move of a forwarded value makes (UPTRKV_ENT_FWD in
 * uptrkv_layout.h), the same as bpf/uptrkv_move.bpf.h's: dst (dst_size
 * bytes) already holds what the new extent holds, and the value of src is
 * converted over it. PREFIX and STRING copy min(src, dst) bytes and leave
 * the rest (zeros, as the migration wrote them); SEXT and UINT write the
 * whole integer. -EINVAL, dst unchanged, for an integer conversion that is
 * not a widening of 1/2/4/8-byte integers (a corrupt entry).
 */
int uptrkv_convert_over(__u8 *dst, __u32 dst_size, const __u8 *src, __u32 src_size,
			enum uptrkv_ent_conv conv);

/* An integer size uptrkv converts: 1, 2, 4 or 8 bytes. */
bool uptrkv_int_size_ok(__u32 n);
/* The integer of n (uptrkv_int_size_ok) bytes at src, in host order, zero-
 * or sign-extended; any other n reads 8 bytes. */
__u64 uptrkv_read_uint(const void *src, __u32 n);
__s64 uptrkv_read_sint(const void *src, __u32 n);

#endif
