// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "forward.h"

static bool int_width(__u32 n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

int uptrkv_forward__convert(__u8 *dst, __u32 dsz, const __u8 *src, __u32 ssz,
			    enum uptrkv_ent_conv conv)
{
	if (conv == UPTRKV_ENT_CONV_SEXT) {
		__s64 v = 0;

		if (ssz >= dsz || !int_width(ssz) || !int_width(dsz))
			return -EINVAL;
		memcpy(&v, src, ssz);
		/* little endian: shift the sign bit up and back down */
		v = (__s64)((__u64)v << (64 - 8 * ssz)) >> (64 - 8 * ssz);
		memcpy(dst, &v, dsz);
		return 0;
	}
	memcpy(dst, src, ssz < dsz ? ssz : dsz);
	if (conv == UPTRKV_ENT_CONV_STRING && ssz > dsz)
		dst[dsz - 1] = 0;
	return 0;
}
