// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The binding of an object to its layout, as rollout, rollback, validate
 * and diff print it (docs/commands.md, "Objects and their layout"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cmd.h"

static const __u8 zero_sha[UPTRKV_LAYOUT_SHA_LEN];

static void sha_field(struct jw *w, const char *name, const __u8 *sha)
{
	char hex[UPTRKV_LAYOUT_HEX_LEN];

	jw_name(w, name);
	if (!memcmp(sha, zero_sha, sizeof(zero_sha))) {
		jw_null(w);
		return;
	}
	uptrkv_layout__hex(sha, hex);
	jw_string(w, hex);
}

void binding_json(struct jw *w, const char *object, const struct uptrkv_binding *b)
{
	jw_name(w, "object");
	jw_start_object(w);
	if (object)
		jw_string_field(w, "path", object);
	sha_field(w, "sha256", b->object_sha256);
	jw_bool_field(w, "has_record", b->has_record);
	if (b->has_record)
		jw_string_field(w, "deployment", b->name);
	sha_field(w, "layout_sha256", b->layout_sha256);
	sha_field(w, "manifest_layout_sha256", b->manifest_sha256);
	jw_bool_field(w, "bound", b->checked && !b->mismatch && !b->unbound);
	if (b->object_changed)
		jw_bool_field(w, "changed_on_disk", true);
	jw_end_object(w);
}

void binding_warnings(const struct uptrkv_binding *b, const char *object, char *out, size_t sz)
{
	out[0] = '\0';
	if (b->unbound)
		snprintf(out, sz, "object %s carries no layout record; let through by "
			 "--allow-unbound-object, nothing checked that it matches the layout", object);
	else if (b->object_changed)
		snprintf(out, sz, "object %s changed on disk since it was rolled out; rollback "
			 "reuses the pinned programs, not the file", object);
}

struct binding_ctx {
	const struct uptrkv_binding *b;
	const char *object;
};

static void binding_extra(struct jw *w, const void *ctx)
{
	const struct binding_ctx *c = ctx;

	binding_json(w, c->object, c->b);
}

void p_err_binding(const struct uptrkv_binding *b, const char *object, const char *fmt, ...)
{
	struct binding_ctx c = { b, object };
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p_err_doc(CODE_OBJECT_MISMATCH, msg, binding_extra, &c);
}
