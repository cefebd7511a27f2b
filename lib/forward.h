/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Forwarded entries (UPTRKV_ENT_FWD, bpf/uptrkv_layout.h) seen from C. */
#ifndef __UPTRKV_FORWARD_H
#define __UPTRKV_FORWARD_H

#include "internal.h"

/*
 * A forwarded value as the move makes it: dst (dsz bytes) holds what the
 * new extent holds, and gets the value of src (ssz bytes) converted by
 * conv over it. The same rules as bpf/uptrkv_move.bpf.h's
 * uptrkv__move_value. -EINVAL for a sign extension that is not an integer
 * widening (a corrupt entry): dst is then unchanged.
 */
int uptrkv_forward__convert(__u8 *dst, __u32 dsz, const __u8 *src, __u32 ssz,
			    enum uptrkv_ent_conv conv);

#endif
