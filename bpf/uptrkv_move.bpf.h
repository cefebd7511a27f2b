/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Moving a forwarded value (UPTRKV_ENT_FWD, bpf/uptrkv_layout.h) into its
 * own extent. One function for every BPF mover: a new version's get, put or
 * ptr that meets a forwarded key (bpf/uptrkv.bpf.h), and uptrkv's admin
 * program after the switch (uptrkv_admin.bpf.c). lib/store.c does the same
 * in C for application threads.
 *
 * Needs vmlinux.h, bpf_helpers.h and uptrkv_layout.h first.
 */
#ifndef __UPTRKV_MOVE_BPF_H
#define __UPTRKV_MOVE_BPF_H

/* One power-of-two piece of the copy: a constant length at an offset the
 * verifier can bound, as it cannot relate a variable offset to a variable
 * length. */
#define UPTRKV__MOVE_PIECE(C)							\
	if (n & (C)) {								\
		do_ &= 0x1fff;							\
		if (do_ > UPTRKV_PAGE_SIZE - (C))				\
			return -EINVAL;						\
		bpf_probe_read_kernel((void *)dst->bytes + do_, (C), (const char *)sa); \
		do_ += (C);							\
		sa += (C);							\
	}

/*
 * A move makes a key's value live in its own extent: it copies it, converted,
 * from the other slot's extent, publishes the key's entry plain, then
 * forwards the other slot's entry to it. The caller holds the key's
 * seqcount (so no writer runs meanwhile) and passes the key's two entries
 * (ment, this slot's; oent, the other slot's), their values as it read them
 * (e and eo), and the data pages they name: dst for e, src for eo.
 *
 * Returns 0; -ENOENT if the other slot no longer has the key (then neither
 * has it); -EINVAL if the two entries are not a forwarded pair (a corrupt
 * store: nothing is written); -EAGAIN if `mine` changed under us (an
 * application deleted the key): nothing is published.
 *
 * Two copies of the bytes, one check and one publication: values of at most
 * 8 bytes are moved inline with plain loads and stores (uptrkv__move_small:
 * no call, so the accessors' fast paths keep their registers); larger ones
 * by uptrkv__move_value, a global function the verifier walks once, with
 * plain 8-byte loads and stores up to 256 bytes and bpf_probe_read_kernel
 * pieces beyond.
 */

/* 0 if e, eo are a forwarded pair that can be moved; else as above. */
static __always_inline int uptrkv__move_check(__u32 *ment, struct uptrkv_page *dst,
					      struct uptrkv_page *src, __u32 e, __u32 eo)
{
	__u32 dsz = UPTRKV_ENT_SIZE(e), ssz = UPTRKV_ENT_SIZE(eo);

	if (!(e & UPTRKV_ENT_FWD) || (e & UPTRKV_ENT_RSVD_MASK))
		return -EINVAL;
	if (!(eo & UPTRKV_ENT_VALID)) {
		/* The previous version deleted it after the rollout planned the
		 * move: the last thing done to the key was a delete. */
		__sync_val_compare_and_swap(ment, e, 0);
		return -ENOENT;
	}
	if ((eo & UPTRKV_ENT_FLAGS_MASK) || !dst || !src)
		return -EINVAL;
	if (dsz < 1 || ssz < 1 || UPTRKV_ENT_OFF(e) + dsz > UPTRKV_PAGE_SIZE ||
	    UPTRKV_ENT_OFF(eo) + ssz > UPTRKV_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

/* The bytes are in place: the entries say so. */
static __always_inline int uptrkv__move_publish(__u32 *ment, __u32 *oent, __u32 e, __u32 eo)
{
	__u32 oconv;

	/* Fully ordered: the bytes are in place before the entry says so. */
	if (__sync_val_compare_and_swap(ment, e, UPTRKV_ENT_PLAIN(e)) != e)
		return -EAGAIN;
	/* Going back the other way is a truncation or a prefix: no sign. */
	oconv = UPTRKV_ENT_CONV(e) == UPTRKV_ENT_CONV_STRING ? UPTRKV_ENT_CONV_STRING
							    : UPTRKV_ENT_CONV_PREFIX;
	__sync_val_compare_and_swap(oent, eo, UPTRKV_ENT_FORWARD(eo, oconv));
	return 0;
}

/* An integer widening by value: 1, 2 or 4 bytes to 2, 4 or 8, both aligned
 * (extents start 8-byte aligned, at most at 4088). */
static __always_inline int uptrkv__move_int(void *dp, const void *sp, __u32 dsz, __u32 ssz,
					    bool sint)
{
	__u64 v;

	if (ssz == 1)
		v = sint ? (__u64)*(volatile const __s8 *)sp : *(volatile const __u8 *)sp;
	else if (ssz == 2)
		v = sint ? (__u64)*(volatile const __s16 *)sp : *(volatile const __u16 *)sp;
	else if (ssz == 4)
		v = sint ? (__u64)*(volatile const __s32 *)sp : *(volatile const __u32 *)sp;
	else
		return -EINVAL;
	if (dsz <= ssz)
		return -EINVAL;
	if (dsz == 2)
		*(volatile __u16 *)dp = v;
	else if (dsz == 4)
		*(volatile __u32 *)dp = v;
	else if (dsz == 8)
		*(volatile __u64 *)dp = v;
	else
		return -EINVAL;
	return 0;
}

static __always_inline bool uptrkv__conv_int(__u32 conv)
{
	return conv == UPTRKV_ENT_CONV_SEXT || conv == UPTRKV_ENT_CONV_UINT;
}

/* The move of a value of at most 8 bytes (its new size), inline. */
static __always_inline int uptrkv__move_small(__u32 *ment, __u32 *oent, struct uptrkv_page *dst,
					      struct uptrkv_page *src, __u32 e, __u32 eo)
{
	__u32 dsz = UPTRKV_ENT_SIZE(e), ssz = UPTRKV_ENT_SIZE(eo), conv = UPTRKV_ENT_CONV(e), n;
	__u8 *dp, *sp;
	int err;

	err = uptrkv__move_check(ment, dst, src, e, eo);
	if (err)
		return err;
	if (dsz > 8)
		return -EINVAL;
	dp = (__u8 *)dst->bytes + UPTRKV_ENT_OFF(e);
	sp = (__u8 *)src->bytes + UPTRKV_ENT_OFF(eo);
	if (uptrkv__conv_int(conv)) {
		err = uptrkv__move_int(dp, sp, dsz, ssz, conv == UPTRKV_ENT_CONV_SEXT);
		if (err)
			return err;
	} else {
		/* at most 8 bytes, from an offset of at most 4088 */
		n = ssz < dsz ? ssz : dsz;
#pragma unroll
		for (int i = 0; i < 8; i++)
			if (i < n)
				dp[i] = sp[i];
		if (conv == UPTRKV_ENT_CONV_STRING && ssz > dsz)
			dp[(dsz - 1) & 7] = 0;
	}
	return uptrkv__move_publish(ment, oent, e, eo);
}

/*
 * The copied prefix of a value of up to UPTRKV__MOVE_WORDS_MAX bytes: its
 * whole 8-byte words with plain loads and stores (both extents start
 * 8-byte aligned, so each word is one aligned access, single-copy atomic
 * like the helper's), then its last n % 8 bytes one by one: no helper
 * call for the usual small value. Exactly n bytes are written: the bytes
 * past the prefix are the zeros the rollout wrote.
 */
#define UPTRKV__MOVE_WORDS_MAX	256u

static __always_inline int uptrkv__move_words(struct uptrkv_page *dst, struct uptrkv_page *src,
					      __u32 do_, __u32 so, __u32 n)
{
	__u32 words = n / 8, i;

	for (i = 0; i < UPTRKV__MOVE_WORDS_MAX / 8 && i < words; i++) {
		do_ &= 0x1fff;
		so &= 0x1fff;
		if (do_ > UPTRKV_PAGE_SIZE - 8 || so > UPTRKV_PAGE_SIZE - 8)
			return -EINVAL;
		*(volatile __u64 *)((void *)dst->bytes + do_) =
			*(volatile const __u64 *)((const void *)src->bytes + so);
		do_ += 8;
		so += 8;
	}
	for (i = 0; i < 7 && i < n % 8; i++) {
		do_ &= 0x1fff;
		so &= 0x1fff;
		if (do_ > UPTRKV_PAGE_SIZE - 1 || so > UPTRKV_PAGE_SIZE - 1)
			return -EINVAL;
		dst->bytes[do_++] = src->bytes[so++];
	}
	return 0;
}

/* Global, so the verifier walks it once per program, not once per accessor. */
__noinline int uptrkv__move_value(__u32 *ment, __u32 *oent, struct uptrkv_page *dst,
				  struct uptrkv_page *src, __u64 ents)
{
	__u32 e = ents >> 32, eo = (__u32)ents;
	__u32 dsz = UPTRKV_ENT_SIZE(e), ssz = UPTRKV_ENT_SIZE(eo), conv = UPTRKV_ENT_CONV(e);
	__u32 n, do_;
	__u64 sa;
	int err;

	if (!ment || !oent)
		return -EINVAL;
	err = uptrkv__move_check(ment, dst, src, e, eo);
	if (err)
		return err;
	n = ssz < dsz ? ssz : dsz;
	sa = (__u64)(unsigned long)src->bytes + UPTRKV_ENT_OFF(eo);
	do_ = UPTRKV_ENT_OFF(e);
	if (uptrkv__conv_int(conv)) {
		err = uptrkv__move_int((void *)dst->bytes + do_,
				       (const void *)src->bytes + UPTRKV_ENT_OFF(eo), dsz, ssz,
				       conv == UPTRKV_ENT_CONV_SEXT);
		if (err)
			return err;
	} else {
		if (n <= UPTRKV__MOVE_WORDS_MAX) {
			err = uptrkv__move_words(dst, src, do_, UPTRKV_ENT_OFF(eo), n);
			if (err)
				return err;
		} else {
			UPTRKV__MOVE_PIECE(4096)
			UPTRKV__MOVE_PIECE(2048)
			UPTRKV__MOVE_PIECE(1024)
			UPTRKV__MOVE_PIECE(512)
			UPTRKV__MOVE_PIECE(256)
			UPTRKV__MOVE_PIECE(128)
			UPTRKV__MOVE_PIECE(64)
			UPTRKV__MOVE_PIECE(32)
			UPTRKV__MOVE_PIECE(16)
			UPTRKV__MOVE_PIECE(8)
			UPTRKV__MOVE_PIECE(4)
			UPTRKV__MOVE_PIECE(2)
			UPTRKV__MOVE_PIECE(1)
		}
		if (conv == UPTRKV_ENT_CONV_STRING && ssz > dsz)
			dst->bytes[(UPTRKV_ENT_OFF(e) + dsz - 1) & (UPTRKV_PAGE_SIZE - 1)] = 0;
	}
	return uptrkv__move_publish(ment, oent, e, eo);
}

#endif /* __UPTRKV_MOVE_BPF_H */
