/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __UPTRKV_INTERNAL_H
#define __UPTRKV_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include "uptrkv.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Fills e (if not NULL) with a printf-style message and returns err, which
 * must be negative. Use as: return uptrkv_err(e, -ENOENT, "open %s", p); */
__attribute__((format(printf, 3, 4)))
int uptrkv_err(struct uptrkv_error *e, int err, const char *fmt, ...);

/* Same, appending ": strerror(-err)" to the message. */
__attribute__((format(printf, 3, 4)))
int uptrkv_errno(struct uptrkv_error *e, int err, const char *fmt, ...);

#endif
