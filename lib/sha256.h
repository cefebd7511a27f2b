/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* SHA-256 (FIPS 180-4), for layout identities and content-addressed objects.
 * Internal to libuptrkv: no crypto library is linked for 100 lines. */
#ifndef __UPTRKV_SHA256_H
#define __UPTRKV_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPTRKV_SHA256_LEN	32
#define UPTRKV_SHA256_HEX	(2 * UPTRKV_SHA256_LEN + 1)

struct uptrkv_sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t used;		/* bytes in buf */
	bool sha_ni;		/* the x86 SHA instructions do the blocks */
};

void uptrkv_sha256__init(struct uptrkv_sha256 *c);
/* As uptrkv_sha256__init, never with the SHA instructions (for tests). */
void uptrkv_sha256__init_portable(struct uptrkv_sha256 *c);
void uptrkv_sha256__update(struct uptrkv_sha256 *c, const void *data, size_t n);
void uptrkv_sha256__final(struct uptrkv_sha256 *c, uint8_t out[UPTRKV_SHA256_LEN]);
/* One call for a whole buffer. */
void uptrkv_sha256(const void *data, size_t n, uint8_t out[UPTRKV_SHA256_LEN]);
/* Lower-case hex, NUL-terminated. */
void uptrkv_sha256_hex(const uint8_t d[UPTRKV_SHA256_LEN], char out[UPTRKV_SHA256_HEX]);

#endif
