/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small streaming JSON writer. Every JSON byte uptrkv prints goes here. */
#ifndef __UPTRKV_JSON_H
#define __UPTRKV_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw;

struct jw *jw_new(FILE *f, bool pretty);
/* Ends the document with a newline and frees the writer. */
void jw_destroy(struct jw *w);

void jw_start_object(struct jw *w);
void jw_end_object(struct jw *w);
void jw_start_array(struct jw *w);
void jw_end_array(struct jw *w);
void jw_name(struct jw *w, const char *name);

void jw_string(struct jw *w, const char *s);
void jw_string_len(struct jw *w, const char *s, size_t len);
void jw_uint(struct jw *w, uint64_t v);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

/* Layout hashes are hex strings everywhere: "0x81711bb6". */
void jw_hash_field(struct jw *w, const char *name, uint64_t hash);

/* Times are RFC 3339 UTC everywhere: "2026-12-06T01:02:03Z"; "-" for 0. */
void rfc3339(uint64_t t, char *buf, size_t sz);
/* name: the time as RFC 3339, or null for 0 (never happened). */
void jw_time_field(struct jw *w, const char *name, uint64_t t);

static inline void jw_string_field(struct jw *w, const char *n, const char *s)
{ jw_name(w, n); jw_string(w, s); }
static inline void jw_uint_field(struct jw *w, const char *n, uint64_t v)
{ jw_name(w, n); jw_uint(w, v); }
static inline void jw_int_field(struct jw *w, const char *n, int64_t v)
{ jw_name(w, n); jw_int(w, v); }
static inline void jw_bool_field(struct jw *w, const char *n, bool v)
{ jw_name(w, n); jw_bool(w, v); }

#endif
