/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __UPTRKV_INTERNAL_H
#define __UPTRKV_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "uptrkv_tool.h"	/* lib/ sees all of libuptrkv; test_app_lib checks what the app runtime links */
#include "alloc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fills e (if not NULL) with a printf-style message and returns err, which
 * must be negative. Use as: return uptrkv_err(e, -ENOENT, "open %s", p); */
__attribute__((format(printf, 3, 4)))
int uptrkv_err(struct uptrkv_error *e, int err, const char *fmt, ...);

/* Same, appending ": strerror(-err)" to the message. */
__attribute__((format(printf, 3, 4)))
int uptrkv_errno(struct uptrkv_error *e, int err, const char *fmt, ...);

/* The pinned key type table (UPTRKV_PIN_TYPES, lib/types.c; read by
 * lib/store.c). */
struct uptrkv_types {
	__u8 type[UPTRKV_NR_SLOTS][UPTRKV_MAX_KEYS];	/* uptrkv_type + 1; 0: none */
};

/* Reads opts->FIELD only if the caller's struct is big enough to have it. */
#define UPTRKV_OPTS_GET(opts, field, fallback)				\
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) +	\
	 sizeof((opts)->field) ? (opts)->field : (fallback))

/*
 * An opts struct is valid if the caller's sz covers at least the sz field
 * and every byte past the fields this library knows (up to LAST) is zero:
 * an app built against a newer header that sets a newer field gets
 * -EINVAL, not silence (libbpf's OPTS_VALID). NULL opts are valid.
 */
static inline bool uptrkv_opts_valid(const void *opts, size_t known, size_t user_sz)
{
	if (user_sz < sizeof(size_t))
		return false;
	for (size_t i = known; i < user_sz; i++)
		if (((const char *)opts)[i])
			return false;
	return true;
}
#define UPTRKV_OPTS_VALID(opts, type, last)					\
	(!(opts) || uptrkv_opts_valid((opts), offsetof(struct type, last) +		\
				      sizeof(((struct type *)0)->last), (opts)->sz))

/* Registers the calling thread with every key of the deployment's live
 * layout at its default, from the key record (lib/store.c, for lib/app.c). */
int uptrkv_store__register_live(struct uptrkv_store *s, __u32 reserve, struct uptrkv_thread **out,
				struct uptrkv_error *e);

/* The largest BPF object uptrkv reads, checks and keeps a copy of. */
#define UPTRKV_OBJECT_MAX	(64u << 20)

/* Reads a whole regular file of at most max bytes into memory, with a NUL
 * after it (*buf is malloc'ed). -EFBIG past max. */
int uptrkv_read_file(const char *path, size_t max, void **buf, size_t *len,
		     struct uptrkv_error *e);

#endif
