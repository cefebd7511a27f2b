// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "internal.h"

static int verr(struct uptrkv_error *e, int err, bool add_errno, const char *fmt, va_list ap)
{
	size_t len;

	if (!e)
		return err;
	e->err = err;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	len = strlen(e->msg);
	if (add_errno && len < sizeof(e->msg))
		snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(-err));
	return err;
}

int uptrkv_err(struct uptrkv_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(e, err, false, fmt, ap);
	va_end(ap);
	return err;
}

int uptrkv_errno(struct uptrkv_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(e, err, true, fmt, ap);
	va_end(ap);
	return err;
}
