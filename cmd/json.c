// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"

#define JW_MAX_DEPTH 64

struct jw {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JW_MAX_DEPTH];	/* no element written yet at this depth */
	bool after_name;		/* a name was written; the value follows */
};

struct jw *jw_new(FILE *f, bool pretty)
{
	struct jw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = f;
	w->pretty = pretty;
	w->first[0] = true;
	return w;
}

void jw_destroy(struct jw *w)
{
	if (!w)
		return;
	fputc('\n', w->f);
	fflush(w->f);
	free(w);
}

static void indent(struct jw *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Separator and indentation before a value or a name. */
static void before_item(struct jw *w)
{
	if (w->after_name) {
		w->after_name = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (w->depth > 0)
		indent(w);
}

static void open_scope(struct jw *w, char c)
{
	before_item(w);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_scope(struct jw *w, char c)
{
	bool empty = w->first[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (!empty)
		indent(w);
	fputc(c, w->f);
}

void jw_start_object(struct jw *w) { open_scope(w, '{'); }
void jw_end_object(struct jw *w) { close_scope(w, '}'); }
void jw_start_array(struct jw *w) { open_scope(w, '['); }
void jw_end_array(struct jw *w) { close_scope(w, ']'); }

static void put_escaped(struct jw *w, const char *s, size_t len)
{
	fputc('"', w->f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"': fputs("\\\"", w->f); break;
		case '\\': fputs("\\\\", w->f); break;
		case '\n': fputs("\\n", w->f); break;
		case '\t': fputs("\\t", w->f); break;
		case '\r': fputs("\\r", w->f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(w->f, "\\u%04x", c);
			else
				fputc(c, w->f);
		}
	}
	fputc('"', w->f);
}

void jw_name(struct jw *w, const char *name)
{
	before_item(w);
	put_escaped(w, name, strlen(name));
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_name = true;
}

void jw_string_len(struct jw *w, const char *s, size_t len)
{
	before_item(w);
	put_escaped(w, s, len);
}

void jw_string(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_string_len(w, s, strlen(s));
}

void jw_uint(struct jw *w, uint64_t v) { before_item(w); fprintf(w->f, "%llu", (unsigned long long)v); }
void jw_int(struct jw *w, int64_t v) { before_item(w); fprintf(w->f, "%lld", (long long)v); }
void jw_bool(struct jw *w, bool v) { before_item(w); fputs(v ? "true" : "false", w->f); }
void jw_null(struct jw *w) { before_item(w); fputs("null", w->f); }

void jw_hash_field(struct jw *w, const char *name, uint64_t hash)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%08llx", (unsigned long long)hash);
	jw_string_field(w, name, buf);
}

void rfc3339(uint64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, sz, "-");
}

void jw_time_field(struct jw *w, const char *name, uint64_t t)
{
	char buf[32];

	jw_name(w, name);
	if (!t) {
		jw_null(w);
		return;
	}
	rfc3339(t, buf, sizeof(buf));
	jw_string(w, buf);
}
