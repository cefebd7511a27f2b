// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif
#include "sha256.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void block(struct uptrkv_sha256 *c, const uint8_t *p)
{
	uint32_t w[64], a, b, cc, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
	e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));

		h = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

#if defined(__x86_64__)
/*
 * The x86 SHA extensions (on this project's machines, and most x86 servers
 * since 2017): rollouts hash objects of a megabyte or more, which took the
 * code above 2-4 ms each. Same result, checked by tests/unit/test_sha256.c
 * against the FIPS vectors and the portable blocks.
 */
static bool have_sha_ni(void)
{
	unsigned int a, b, cx, d;

	if (!__get_cpuid(1, &a, &b, &cx, &d) || !(cx & bit_SSE4_1) || !(cx & bit_SSSE3))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &cx, &d) && (b & bit_SHA);
}

/* One group of four rounds; the message words of rounds 4g..4g+3 in m. */
#define SHA_NI_ROUNDS(g, m)							\
	do {									\
		__m128i k_ = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * (g)])); \
		st1 = _mm_sha256rnds2_epu32(st1, st0, k_);			\
		st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(k_, 0x0e)); \
	} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_sha_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i st0, st1, t, m[4];

	/* h[0..7] as the instructions want them: ABEF and CDGH */
	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1);
	st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b);
	st0 = _mm_alignr_epi8(t, st1, 8);
	st1 = _mm_blend_epi16(st1, t, 0xf0);
	for (; n; n--, p += 64) {
		__m128i abef = st0, cdgh = st1;

		for (int g = 0; g < 4; g++) {
			m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			SHA_NI_ROUNDS(g, m[g]);
		}
		/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time */
		for (int g = 4; g < 16; g++) {
			t = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);
			t = _mm_add_epi32(t, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
			m[g & 3] = _mm_sha256msg2_epu32(t, m[(g + 3) & 3]);
			SHA_NI_ROUNDS(g, m[g & 3]);
		}
		st0 = _mm_add_epi32(st0, abef);
		st1 = _mm_add_epi32(st1, cdgh);
	}
	t = _mm_shuffle_epi32(st0, 0x1b);
	st1 = _mm_shuffle_epi32(st1, 0xb1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, st1, 0xf0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(st1, t, 8));
}
#else
static bool have_sha_ni(void)
{
	return false;
}

static void blocks_sha_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	(void)h, (void)p, (void)n;
}
#endif

static void blocks(struct uptrkv_sha256 *c, const uint8_t *p, size_t n)
{
	if (c->sha_ni) {
		blocks_sha_ni(c->h, p, n);
		return;
	}
	for (; n; n--, p += 64)
		block(c, p);
}

void uptrkv_sha256__init(struct uptrkv_sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->used = 0;
	c->sha_ni = have_sha_ni();
}

/* The portable blocks only: what the tests compare the fast ones with. */
void uptrkv_sha256__init_portable(struct uptrkv_sha256 *c)
{
	uptrkv_sha256__init(c);
	c->sha_ni = false;
}

void uptrkv_sha256__update(struct uptrkv_sha256 *c, const void *data, size_t n)
{
	const uint8_t *p = data;

	c->len += n;
	while (n) {
		size_t k = 64 - c->used < n ? 64 - c->used : n;

		if (!c->used && n >= 64) {
			/* whole blocks straight from the caller's bytes */
			k = n / 64;
			blocks(c, p, k);
			p += 64 * k;
			n -= 64 * k;
			continue;
		}
		memcpy(c->buf + c->used, p, k);
		c->used += k;
		p += k;
		n -= k;
		if (c->used == 64) {
			blocks(c, c->buf, 1);
			c->used = 0;
		}
	}
}

void uptrkv_sha256__final(struct uptrkv_sha256 *c, uint8_t out[UPTRKV_SHA256_LEN])
{
	uint64_t bits = c->len * 8;
	uint8_t pad = 0x80, zero = 0, lenbe[8];

	uptrkv_sha256__update(c, &pad, 1);
	while (c->used != 56)
		uptrkv_sha256__update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenbe[i] = (uint8_t)(bits >> (56 - 8 * i));
	uptrkv_sha256__update(c, lenbe, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void uptrkv_sha256(const void *data, size_t n, uint8_t out[UPTRKV_SHA256_LEN])
{
	struct uptrkv_sha256 c;

	uptrkv_sha256__init(&c);
	uptrkv_sha256__update(&c, data, n);
	uptrkv_sha256__final(&c, out);
}

void uptrkv_sha256_hex(const uint8_t d[UPTRKV_SHA256_LEN], char out[UPTRKV_SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < UPTRKV_SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * UPTRKV_SHA256_LEN] = 0;
}
