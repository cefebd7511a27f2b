// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Manifest parser.
 *
 * Two passes. The first reads libyaml events into a small tree of scalars,
 * sequences and mappings with their positions, enforcing the size, depth,
 * node and alias limits; a syntax error stops it (libyaml cannot go on).
 * The second walks the tree against the schema and records every problem
 * it finds, so a user fixes a file in one round instead of one per error.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "internal.h"

/* ------------------------------------------------------------------ */
/* Types                                                                */
/* ------------------------------------------------------------------ */

/* The type table, uptrkv_type__str/width/is_signed, is in lib/convert.c:
 * the app runtime needs it, and must not link this parser. */

static bool is_int_type(enum uptrkv_type t)
{
	return t >= UPTRKV_T_U8 && t <= UPTRKV_T_S64;
}

static const char *const resize_names[] = {
	[UPTRKV_RESIZE_UNSET] = "unset",
	[UPTRKV_RESIZE_ZERO_EXTEND] = "zero-extend",
	[UPTRKV_RESIZE_TRUNCATE] = "truncate",
	[UPTRKV_RESIZE_RESET] = "reset",
};

const char *uptrkv_resize__str(enum uptrkv_resize r)
{
	if ((unsigned)r >= ARRAY_SIZE(resize_names))
		return "unknown";
	return resize_names[r];
}

/* FNV-1a over little-endian 32-bit words. */
static __u32 fnv1a_u32(__u32 h, __u32 v)
{
	for (int i = 0; i < 4; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
	return h;
}

__u32 uptrkv_layout_hash(const struct uptrkv_key *keys, size_t nr)
{
	__u32 h = 2166136261u;

	/* keys are sorted by id, so equal layouts hash equal */
	for (size_t i = 0; i < nr; i++) {
		h = fnv1a_u32(h, keys[i].id);
		h = fnv1a_u32(h, keys[i].size);
		h = fnv1a_u32(h, (__u32)keys[i].type);
	}
	/* 0 marks an unused meta slot in struct uptrkv_hdr */
	return h ? h : 1;
}

/* ------------------------------------------------------------------ */
/* Diagnostics                                                          */
/* ------------------------------------------------------------------ */

void uptrkv_diags__free(struct uptrkv_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].file);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

struct yp {
	const char *file;		/* name used in diagnostics */
	struct uptrkv_diags *diags;	/* may be NULL: count only */
	size_t nr_errors;		/* this parse's errors */
	size_t nr_nodes;
	bool enomem;
};

static void add_diag(struct yp *p, int line, int col, const char *msg)
{
	struct uptrkv_diag *v, *g;

	p->nr_errors++;
	if (!p->diags)
		return;
	v = realloc(p->diags->v, (p->diags->n + 1) * sizeof(*v));
	if (!v) {
		p->enomem = true;
		return;
	}
	p->diags->v = v;
	g = &v[p->diags->n];
	memset(g, 0, sizeof(*g));
	g->file = strdup(p->file);
	if (!g->file) {
		p->enomem = true;
		return;
	}
	g->line = line;
	g->col = col;
	snprintf(g->msg, sizeof(g->msg), "%s", msg);
	p->diags->n++;
}

__attribute__((format(printf, 4, 5)))
static void diag(struct yp *p, int line, int col, const char *fmt, ...)
{
	char msg[sizeof(((struct uptrkv_diag *)0)->msg)];
	va_list ap;

	if (p->nr_errors > UPTRKV_MANIFEST_MAX_DIAGS)
		return;
	if (p->nr_errors == UPTRKV_MANIFEST_MAX_DIAGS) {
		add_diag(p, line, col, "too many errors; stopped reporting");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_diag(p, line, col, msg);
}

/* ------------------------------------------------------------------ */
/* Pass 1: libyaml events to a tree                                     */
/* ------------------------------------------------------------------ */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP, Y_BAD /* an alias: already reported */ };

struct ynode {
	enum ykind kind;
	int line, col;			/* 1-based */
	char *str;			/* scalar text, NUL-terminated */
	size_t len;
	bool plain;			/* plain style: may be a number, bool or null */
	struct ynode **kids;		/* map: key, value, key, value... */
	size_t n, cap;
};

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static struct ynode *ynode_new(struct yp *p, enum ykind kind, const yaml_mark_t *mark)
{
	struct ynode *n;

	if (++p->nr_nodes > UPTRKV_MANIFEST_MAX_NODES) {
		diag(p, mark->line + 1, mark->column + 1,
		     "too many YAML nodes: at most %u allowed", UPTRKV_MANIFEST_MAX_NODES);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		p->enomem = true;
		return NULL;
	}
	n->kind = kind;
	n->line = mark->line + 1;
	n->col = mark->column + 1;
	return n;
}

static int ynode_push(struct yp *p, struct ynode *parent, struct ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **k = realloc(parent->kids, cap * sizeof(*k));

		if (!k) {
			p->enomem = true;
			return -ENOMEM;
		}
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

static void syntax_error(struct yp *p, const yaml_parser_t *yp)
{
	const yaml_mark_t *m = &yp->problem_mark;

	if (yp->error == YAML_MEMORY_ERROR) {
		p->enomem = true;
		return;
	}
	if (yp->context)
		diag(p, m->line + 1, m->column + 1, "YAML syntax error: %s %s",
		     yp->problem ? yp->problem : "invalid YAML", yp->context);
	else
		diag(p, m->line + 1, m->column + 1, "YAML syntax error: %s",
		     yp->problem ? yp->problem : "invalid YAML");
}

/* Fetches the next event; false (after reporting) on a syntax error. */
static bool next_event(struct yp *p, yaml_parser_t *yp, yaml_event_t *ev)
{
	if (yaml_parser_parse(yp, ev))
		return true;
	syntax_error(p, yp);
	return false;
}

/* Anchors are refused: without them an alias cannot exist, and a file
 * cannot make the tree grow faster than its own size. */
static void check_anchor(struct yp *p, const yaml_event_t *ev, const yaml_char_t *anchor)
{
	if (anchor)
		diag(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		     "anchors are not supported (&%s): write the value out", anchor);
}

static bool is_str_tag(const yaml_char_t *tag)
{
	return tag && (!strcmp((const char *)tag, YAML_STR_TAG) || !strcmp((const char *)tag, "!"));
}

/*
 * Builds the node that starts with *ev (which this function deletes) and
 * every event up to its end. Returns NULL after a fatal problem (syntax
 * error, limit, no memory), which is already reported.
 */
static struct ynode *build_node(struct yp *p, yaml_parser_t *yp, yaml_event_t *ev, int depth)
{
	struct ynode *n = NULL, *kid;
	yaml_event_type_t end;
	yaml_event_t next;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		check_anchor(p, ev, ev->data.scalar.anchor);
		n = ynode_new(p, Y_SCALAR, &ev->start_mark);
		if (!n)
			goto out;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (!n->str) {
			p->enomem = true;
			ynode_free(n);
			n = NULL;
			goto out;
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		/* "!!str 5" is text, like a quoted "5" */
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   !is_str_tag(ev->data.scalar.tag);
		goto out;
	case YAML_ALIAS_EVENT:
		diag(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		     "aliases are not supported (*%s): write the value out",
		     ev->data.alias.anchor);
		n = ynode_new(p, Y_BAD, &ev->start_mark);
		goto out;
	case YAML_SEQUENCE_START_EVENT:
		check_anchor(p, ev, ev->data.sequence_start.anchor);
		n = ynode_new(p, Y_SEQ, &ev->start_mark);
		end = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		check_anchor(p, ev, ev->data.mapping_start.anchor);
		n = ynode_new(p, Y_MAP, &ev->start_mark);
		end = YAML_MAPPING_END_EVENT;
		break;
	default:
		diag(p, ev->start_mark.line + 1, ev->start_mark.column + 1,
		     "unexpected YAML event %d", ev->type);
		goto out;
	}
	yaml_event_delete(ev);
	if (!n)
		return NULL;
	if (depth >= UPTRKV_MANIFEST_MAX_DEPTH) {
		diag(p, n->line, n->col, "nested deeper than %d levels", UPTRKV_MANIFEST_MAX_DEPTH);
		goto fail;
	}
	for (;;) {
		if (!next_event(p, yp, &next))
			goto fail;
		if (next.type == end) {
			yaml_event_delete(&next);
			return n;
		}
		kid = build_node(p, yp, &next, depth + 1);
		if (!kid || ynode_push(p, n, kid)) {
			ynode_free(kid);
			goto fail;
		}
	}
fail:
	ynode_free(n);
	return NULL;
out:
	yaml_event_delete(ev);
	return n;
}

/* Reads exactly one document. NULL after a fatal problem (reported). */
static struct ynode *build_tree(struct yp *p, const char *text, size_t len)
{
	struct ynode *root = NULL;
	yaml_parser_t yp;
	yaml_event_t ev;

	if (!yaml_parser_initialize(&yp)) {
		p->enomem = true;
		return NULL;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);

	if (!next_event(p, &yp, &ev))
		goto out;
	yaml_event_delete(&ev);		/* stream start */
	if (!next_event(p, &yp, &ev))
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		diag(p, 1, 1, "empty manifest: expected a mapping with apiVersion, name, version, object and keys");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);		/* document start */
	if (!next_event(p, &yp, &ev))
		goto out;
	root = build_node(p, &yp, &ev, 0);
	if (!root)
		goto out;
	if (!next_event(p, &yp, &ev))	/* document end */
		goto fail;
	yaml_event_delete(&ev);
	if (!next_event(p, &yp, &ev))
		goto fail;
	if (ev.type != YAML_STREAM_END_EVENT) {
		diag(p, ev.start_mark.line + 1, ev.start_mark.column + 1,
		     "several documents in one file: expected exactly one");
		yaml_event_delete(&ev);
		goto fail;
	}
	yaml_event_delete(&ev);
	goto out;
fail:
	ynode_free(root);
	root = NULL;
out:
	yaml_parser_delete(&yp);
	return root;
}

/* ------------------------------------------------------------------ */
/* Pass 2: the schema                                                   */
/* ------------------------------------------------------------------ */

static bool is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain &&
	       (!n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
		!strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

/* Keeps a message one line and short whatever the file holds. */
static char *clean(const char *s, char *buf, size_t sz)
{
	snprintf(buf, sz, "%.40s%s", s, strlen(s) > 40 ? "..." : "");
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return buf;
}

/* What a node is, for "expected X, got Y". */
static const char *describe(const struct ynode *n, char *buf, size_t sz)
{
	switch (n->kind) {
	case Y_SEQ:
		return "a list";
	case Y_MAP:
		return "a mapping";
	case Y_BAD:
		return "an alias";
	case Y_SCALAR:
		break;
	}
	if (is_null(n))
		return "nothing (null)";
	if (n->plain)
		return clean(n->str, buf, sz);
	snprintf(buf, sz, "text \"%s\"", clean(n->str, buf + sz / 2, sz / 2));
	return buf;
}

#define GOT(n) describe((n), got, sizeof(got))

/* Parses [-+]digits or 0xhex (the YAML 1.2 core schema's int, minus
 * octal). mag gets the magnitude; false if malformed or > U64_MAX. */
static bool parse_int(const char *s, bool *neg, __u64 *mag, bool *hex)
{
	__u64 v = 0;
	int base = 10, d;

	*neg = false;
	*hex = false;
	if (*s == '-' || *s == '+')
		*neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !*neg) {
		base = 16;
		*hex = true;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*mag = v;
	return true;
}

/* An integer field (plain scalar) in lo..hi. */
static bool get_uint(struct yp *p, const struct ynode *n, const char *field,
		     __u64 lo, __u64 hi, __u64 *out)
{
	bool neg, hex;
	char got[64];
	__u64 v;

	if (n->kind == Y_BAD)
		return false;
	if (n->kind != Y_SCALAR || !n->plain || !parse_int(n->str, &neg, &v, &hex) ||
	    (neg && v) || v < lo || v > hi) {
		diag(p, n->line, n->col, "%s: expected an integer %llu..%llu, got %s", field,
		     (unsigned long long)lo, (unsigned long long)hi, GOT(n));
		return false;
	}
	*out = v;
	return true;
}

/* A text field: any non-null scalar, quoted or not. */
static bool get_text(struct yp *p, const struct ynode *n, const char *field,
		     const char *what, const char **out)
{
	char got[64];

	if (n->kind == Y_BAD)
		return false;
	if (n->kind != Y_SCALAR || is_null(n)) {
		diag(p, n->line, n->col, "%s: expected %s, got %s", field, what, GOT(n));
		return false;
	}
	*out = n->str;
	return true;
}

static bool is_c_ident(const char *s, size_t max)
{
	size_t i;

	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return i <= max;
}

static bool get_ident(struct yp *p, const struct ynode *n, const char *field,
		      size_t max, const char **out)
{
	char got[64];
	const char *s;

	if (!get_text(p, n, field, "a C identifier", &s))
		return false;
	if (!is_c_ident(s, max)) {
		diag(p, n->line, n->col, "%s: expected a C identifier ([A-Za-z_][A-Za-z0-9_]*, at most %zu characters), got %s",
		     field, max, GOT(n));
		return false;
	}
	*out = s;
	return true;
}

/* The fields a mapping may have; collect_fields fills key/val. */
struct field {
	const char *name;
	bool required;
	const char *what;		/* for "missing field" */
	const struct ynode *key, *val;
};

static void collect_fields(struct yp *p, const struct ynode *map, const char *where,
			   struct field *f, size_t nf)
{
	char got[64], list[160];
	size_t i, j, len = 0;

	list[0] = '\0';
	for (j = 0; j < nf; j++)
		len += snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
				"%s%s", j ? ", " : "", f[j].name);

	for (i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->kids[i], *v = map->kids[i + 1];

		if (k->kind == Y_BAD)
			continue;
		if (k->kind != Y_SCALAR) {
			diag(p, k->line, k->col, "%s: expected a field name, got %s", where, GOT(k));
			continue;
		}
		for (j = 0; j < nf; j++)
			if (!strcmp(k->str, f[j].name))
				break;
		if (j == nf) {
			diag(p, k->line, k->col, "%s: unknown field '%s': expected one of %s",
			     where, clean(k->str, got, sizeof(got)), list);
			continue;
		}
		if (f[j].key) {
			diag(p, k->line, k->col, "%s: duplicate field '%s' (first at line %d)",
			     where, f[j].name, f[j].key->line);
			continue;
		}
		f[j].key = k;
		f[j].val = v;
	}
	for (j = 0; j < nf; j++)
		if (f[j].required && !f[j].key)
			diag(p, map->line, map->col, "%s: missing field '%s': expected %s",
			     where, f[j].name, f[j].what);
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	if (isxdigit(c))
		return tolower(c) - 'a' + 10;
	return -1;
}

/* Integer default: range-checked, stored little endian in size bytes. */
static bool parse_int_default(struct yp *p, const struct ynode *n, struct uptrkv_key *k)
{
	__u32 w = uptrkv_type__width(k->type);
	bool sgn = uptrkv_type__is_signed(k->type);
	__u64 umax = w == 8 ? UINT64_MAX : (1ull << (8 * w)) - 1;
	__u64 smax = umax >> 1, mag, v;
	bool neg, hex, ok;
	char got[64];

	ok = n->kind == Y_SCALAR && n->plain && parse_int(n->str, &neg, &mag, &hex);
	if (ok) {
		if (hex || (!neg && !sgn))
			ok = mag <= umax;		/* hex is the bit pattern */
		else if (!neg)
			ok = mag <= smax;
		else
			ok = sgn ? mag <= smax + 1 : mag == 0;
	}
	if (!ok) {
		if (sgn)
			diag(p, n->line, n->col, "default: expected an integer %lld..%llu for %s, got %s",
			     -(long long)smax - 1, (unsigned long long)smax,
			     uptrkv_type__str(k->type), GOT(n));
		else
			diag(p, n->line, n->col, "default: expected an integer 0..%llu for %s, got %s",
			     (unsigned long long)umax, uptrkv_type__str(k->type), GOT(n));
		return false;
	}
	v = neg ? -mag : mag;
	for (__u32 i = 0; i < w; i++)
		k->def[i] = (v >> (8 * i)) & 0xff;
	return true;
}

static bool parse_bool_default(struct yp *p, const struct ynode *n, struct uptrkv_key *k)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char got[64];

	if (n->kind == Y_SCALAR && n->plain) {
		for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
			if (!strcmp(n->str, yes[i])) {
				k->def[0] = 1;
				return true;
			}
			if (!strcmp(n->str, no[i]))
				return true;
		}
	}
	diag(p, n->line, n->col, "default: expected true or false for bool, got %s", GOT(n));
	return false;
}

/* string: the text and its NUL must fit, so C and BPF readers always find
 * a terminated string. */
static bool parse_string_default(struct yp *p, const struct ynode *n, struct uptrkv_key *k)
{
	char got[64];

	if (n->kind != Y_SCALAR || is_null(n)) {
		diag(p, n->line, n->col, "default: expected text for string, got %s", GOT(n));
		return false;
	}
	if (memchr(n->str, '\0', n->len)) {
		diag(p, n->line, n->col, "default: text must not contain a NUL character");
		return false;
	}
	if (n->len + 1 > k->size) {
		diag(p, n->line, n->col,
		     "default: expected text of at most %u bytes (size %u with the NUL), got %zu bytes",
		     k->size - 1, k->size, n->len);
		return false;
	}
	memcpy(k->def, n->str, n->len);
	return true;
}

/* bytes: "0x" and hex digit pairs, at most size bytes; the rest is zero. */
static bool parse_bytes_default(struct yp *p, const struct ynode *n, struct uptrkv_key *k)
{
	const char *s;
	size_t i, nr;
	char got[64];

	if (n->kind != Y_SCALAR || n->len < 4 || n->len % 2 ||
	    n->str[0] != '0' || (n->str[1] != 'x' && n->str[1] != 'X'))
		goto bad;
	s = n->str + 2;
	nr = (n->len - 2) / 2;
	for (i = 0; i < nr * 2; i++)
		if (hexval((unsigned char)s[i]) < 0)
			goto bad;
	if (nr > k->size) {
		diag(p, n->line, n->col, "default: expected at most %u bytes, got %zu", k->size, nr);
		return false;
	}
	for (i = 0; i < nr; i++)
		k->def[i] = hexval((unsigned char)s[2 * i]) << 4 | hexval((unsigned char)s[2 * i + 1]);
	return true;
bad:
	if (n->kind != Y_BAD)
		diag(p, n->line, n->col,
		     "default: expected \"0x\" and pairs of hex digits for bytes, got %s", GOT(n));
	return false;
}

static bool parse_default(struct yp *p, const struct ynode *n, struct uptrkv_key *k)
{
	if (n->kind == Y_BAD)
		return false;
	if (is_int_type(k->type))
		return parse_int_default(p, n, k);
	if (k->type == UPTRKV_T_BOOL)
		return parse_bool_default(p, n, k);
	if (k->type == UPTRKV_T_STRING)
		return parse_string_default(p, n, k);
	return parse_bytes_default(p, n, k);
}

static bool parse_type(struct yp *p, const struct ynode *n, enum uptrkv_type *t)
{
	char got[64];

	if (n->kind == Y_BAD)
		return false;
	if (n->kind == Y_SCALAR && n->plain) {
		for (int i = 0; i < __UPTRKV_T_MAX; i++) {
			if (!strcmp(n->str, uptrkv_type__str(i))) {
				*t = i;
				return true;
			}
		}
	}
	diag(p, n->line, n->col,
	     "type: expected one of u8 u16 u32 u64 s8 s16 s32 s64 bool string bytes, got %s", GOT(n));
	return false;
}

static bool parse_resize(struct yp *p, const struct ynode *n, enum uptrkv_resize *r)
{
	char got[64];

	if (n->kind == Y_BAD)
		return false;
	if (n->kind == Y_SCALAR && n->plain) {
		for (size_t i = UPTRKV_RESIZE_ZERO_EXTEND; i < ARRAY_SIZE(resize_names); i++) {
			if (!strcmp(n->str, resize_names[i])) {
				*r = i;
				return true;
			}
		}
	}
	diag(p, n->line, n->col, "resize: expected zero-extend, truncate or reset, got %s", GOT(n));
	return false;
}

enum { KF_ID, KF_NAME, KF_SIZE, KF_TYPE, KF_DEFAULT, KF_RESIZE, KF_MAX };

/* One entry of keys:. Returns true if the key is complete and valid. */
static bool parse_key(struct yp *p, const struct ynode *n, struct uptrkv_key *k)
{
	struct field f[KF_MAX] = {
		[KF_ID] = { "id", true, "an integer 0..1023" },
		[KF_NAME] = { "name", true, "a C identifier" },
		[KF_SIZE] = { "size", true, "an integer 1..4096" },
		[KF_TYPE] = { "type", false },
		[KF_DEFAULT] = { "default", false },
		[KF_RESIZE] = { "resize", false },
	};
	bool ok = true, size_ok = false, type_ok = true;
	const char *name;
	char got[64];
	__u64 v;

	memset(k, 0, sizeof(*k));
	k->line = n->line;
	k->col = n->col;
	if (n->kind != Y_MAP) {
		if (n->kind != Y_BAD)
			diag(p, n->line, n->col,
			     "keys: expected a mapping with id, name, size (and type, default, resize), got %s",
			     GOT(n));
		return false;
	}
	collect_fields(p, n, "key", f, KF_MAX);
	ok = f[KF_ID].key && f[KF_NAME].key && f[KF_SIZE].key;

	if (f[KF_ID].val) {
		if (get_uint(p, f[KF_ID].val, "id", 0, UPTRKV_MAX_KEYS - 1, &v))
			k->id = v;
		else
			ok = false;
	}
	if (f[KF_NAME].val) {
		if (get_ident(p, f[KF_NAME].val, "name", UPTRKV_NAME_MAX - 1, &name))
			snprintf(k->name, sizeof(k->name), "%s", name);
		else
			ok = false;
	}
	if (f[KF_SIZE].val) {
		size_ok = get_uint(p, f[KF_SIZE].val, "size", 1, UPTRKV_MAX_VALUE, &v);
		if (size_ok)
			k->size = v;
		else
			ok = false;
	}
	if (f[KF_TYPE].val && !parse_type(p, f[KF_TYPE].val, &k->type))
		ok = type_ok = false;
	if (f[KF_RESIZE].val && !parse_resize(p, f[KF_RESIZE].val, &k->resize))
		ok = false;

	if (size_ok && type_ok && uptrkv_type__width(k->type) &&
	    uptrkv_type__width(k->type) != k->size) {
		diag(p, f[KF_SIZE].val->line, f[KF_SIZE].val->col,
		     "size: expected %u for type %s, got %u",
		     uptrkv_type__width(k->type), uptrkv_type__str(k->type), k->size);
		size_ok = ok = false;
	}
	if (size_ok) {
		/* Always allocated: the rollout writes it for every new key. */
		k->def = calloc(1, k->size);
		if (!k->def) {
			p->enomem = true;
			return false;
		}
	}
	if (f[KF_DEFAULT].val) {
		if (size_ok && type_ok) {
			k->has_default = parse_default(p, f[KF_DEFAULT].val, k);
			ok = ok && k->has_default;
		} else if (f[KF_DEFAULT].val->kind == Y_SCALAR && !is_null(f[KF_DEFAULT].val)) {
			/* cannot be checked without a valid size and type */
		} else if (f[KF_DEFAULT].val->kind != Y_BAD) {
			diag(p, f[KF_DEFAULT].val->line, f[KF_DEFAULT].val->col,
			     "default: expected a value, got %s", GOT(f[KF_DEFAULT].val));
		}
	}
	return ok;
}

static void key_clear(struct uptrkv_key *k)
{
	free(k->def);
	k->def = NULL;
}

static int cmp_key_id(const void *a, const void *b)
{
	const struct uptrkv_key *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Case-insensitive, as the duplicate check compares names. */
static unsigned int name_hash(const char *s)
{
	unsigned int h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

/*
 * The key named like k, case-insensitively, among those already in the
 * table, which it then joins: open addressing over twice the key limit, so
 * a 1024-key manifest is not 500K name compares (it is parsed on every
 * rollout, rollback and dump).
 */
#define NAME_SLOTS (2 * UPTRKV_MAX_KEYS)
static const struct uptrkv_key *name_seen(const struct uptrkv_key **tab, const struct uptrkv_key *k)
{
	unsigned int i = name_hash(k->name) % NAME_SLOTS;

	for (; tab[i]; i = (i + 1) % NAME_SLOTS)
		if (!strcasecmp(tab[i]->name, k->name))
			return tab[i];
	tab[i] = k;
	return NULL;
}

static void parse_keys(struct yp *p, const struct ynode *n, struct uptrkv_manifest *m)
{
	/* first key seen per id and per name, for duplicate reports */
	const struct uptrkv_key *by_id[UPTRKV_MAX_KEYS] = {};
	const struct uptrkv_key *by_name[NAME_SLOTS] = {};
	char got[64];
	size_t i;

	if (n->kind == Y_BAD)
		return;
	if (n->kind != Y_SEQ) {
		diag(p, n->line, n->col, "keys: expected a list of keys, got %s", GOT(n));
		return;
	}
	if (n->n > UPTRKV_MAX_KEYS) {
		diag(p, n->kids[UPTRKV_MAX_KEYS]->line, n->kids[UPTRKV_MAX_KEYS]->col,
		     "keys: expected at most %u keys, got %zu", UPTRKV_MAX_KEYS, n->n);
		return;
	}
	m->keys = calloc(n->n ? n->n : 1, sizeof(*m->keys));
	if (!m->keys) {
		p->enomem = true;
		return;
	}
	for (i = 0; i < n->n && !p->enomem; i++) {
		struct uptrkv_key *k = &m->keys[m->nr_keys];
		const struct uptrkv_key *dup = NULL;

		if (!parse_key(p, n->kids[i], k)) {
			key_clear(k);
			continue;
		}
		if (by_id[k->id]) {
			diag(p, k->line, k->col, "duplicate id %u: already used by '%s' at line %d",
			     k->id, by_id[k->id]->name, by_id[k->id]->line);
			key_clear(k);
			continue;
		}
		/* Case-insensitive: gen header turns names into upper-case macros. */
		dup = name_seen(by_name, k);
		if (dup) {
			diag(p, k->line, k->col, "duplicate name '%s': already used by id %u at line %d",
			     k->name, dup->id, dup->line);
			key_clear(k);
			continue;
		}
		by_id[k->id] = k;
		m->nr_keys++;
	}
}

static bool is_deploy_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return i >= 1 && i <= UPTRKV_DEPLOY_NAME_MAX;
}

/* "xdp:IFNAME", "cgroup:/PATH" or "uprobe:/BINARY:FUNCTION": hooks whose
 * target the program's SEC() does not carry. */
static bool attach_ok(const char *s)
{
	const char *colon;

	if (!strncmp(s, "xdp:", 4))
		return s[4] && strlen(s + 4) < 16 && !strchr(s + 4, '/');
	if (!strncmp(s, "cgroup:", 7))
		return s[7] == '/';
	if (!strncmp(s, "uprobe:", 7)) {
		colon = strrchr(s + 7, ':');
		return s[7] == '/' && colon && colon[1];
	}
	return false;
}

#define ATTACH_FORMS "xdp:IFNAME, cgroup:/PATH or uprobe:/BINARY:FUNCTION"

/* One item: a program name, or {name: NAME, attach: TARGET}. */
static bool parse_program(struct yp *p, const struct ynode *it, const char **name,
			  const char **attach)
{
	struct field f[] = {
		{ "name", true, "a program name" },
		{ "attach", false, NULL },
	};
	char got[64];

	*attach = NULL;
	if (it->kind != Y_MAP)
		return get_ident(p, it, "programs", 255, name);
	collect_fields(p, it, "programs", f, ARRAY_SIZE(f));
	if (!f[0].val || !get_ident(p, f[0].val, "programs.name", 255, name))
		return false;
	if (!f[1].val)
		return true;
	if (!get_text(p, f[1].val, "programs.attach", ATTACH_FORMS, attach))
		return false;
	if (!attach_ok(*attach)) {
		diag(p, f[1].val->line, f[1].val->col,
		     "programs.attach: expected " ATTACH_FORMS ", got '%s'",
		     clean(*attach, got, sizeof(got)));
		return false;
	}
	return true;
}

static void parse_programs(struct yp *p, const struct ynode *n, struct uptrkv_manifest *m)
{
	const char *name, *attach;

	if (n->kind == Y_BAD)
		return;
	if (n->kind != Y_SEQ || !n->n) {
		char got[64];

		diag(p, n->line, n->col, "programs: expected a non-empty list of program names, got %s",
		     n->kind == Y_SEQ ? "an empty list" : GOT(n));
		return;
	}
	m->programs = calloc(n->n, sizeof(*m->programs));
	m->attach = calloc(n->n, sizeof(*m->attach));
	if (!m->programs || !m->attach) {
		p->enomem = true;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->kids[i];
		bool dup = false;

		if (!parse_program(p, it, &name, &attach))
			continue;
		for (size_t j = 0; j < m->nr_programs; j++)
			dup = dup || !strcmp(m->programs[j], name);
		if (dup) {
			diag(p, it->line, it->col, "programs: duplicate program '%s'", name);
			continue;
		}
		m->programs[m->nr_programs] = strdup(name);
		m->attach[m->nr_programs] = attach ? strdup(attach) : NULL;
		if (!m->programs[m->nr_programs] || (attach && !m->attach[m->nr_programs])) {
			free(m->programs[m->nr_programs]);
			p->enomem = true;
			return;
		}
		m->nr_programs++;
	}
}

static void parse_store(struct yp *p, const struct ynode *n, struct uptrkv_manifest *m)
{
	struct field f[] = { { "map", false } };
	const char *name;
	char got[64];

	if (n->kind == Y_BAD)
		return;
	if (n->kind != Y_MAP) {
		diag(p, n->line, n->col, "store: expected a mapping with map, got %s", GOT(n));
		return;
	}
	collect_fields(p, n, "store", f, ARRAY_SIZE(f));
	if (f[0].val && get_ident(p, f[0].val, "store.map", UPTRKV_NAME_MAX - 1, &name))
		snprintf(m->store_map, sizeof(m->store_map), "%s", name);
}

/* Joins base and rel, makes it absolute and folds "." and ".." (lexically:
 * the object need not exist yet). */
static char *resolve_path(const char *base, const char *rel)
{
	char *buf = NULL, *out = NULL, *save = NULL, *tok;
	char cwd[PATH_MAX];
	size_t len, o = 0;

	if (rel[0] == '/')
		base = NULL;
	if (rel[0] != '/' && (!base || base[0] != '/')) {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
	} else {
		cwd[0] = '\0';
	}
	len = strlen(cwd) + (base ? strlen(base) : 0) + strlen(rel) + 3;
	buf = malloc(len);
	out = malloc(len + 1);
	if (!buf || !out)
		goto fail;
	snprintf(buf, len, "%s/%s/%s", cwd, base ? base : "", rel);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, tok, strlen(tok));
		o += strlen(tok);
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	free(buf);
	return out;
fail:
	free(buf);
	free(out);
	return NULL;
}

/* ---- globals:, maps:, config: (what is carried over, and .rodata) ---- */

/* One NAME: POLICY pair; words lists the policies allowed here. */
static bool parse_policy(struct yp *p, const struct ynode *k, const struct ynode *v,
			 const char *section, bool allow_copy, struct uptrkv_named_policy *out)
{
	const char *name, *word;
	char got[64], field[96];

	if (k->kind == Y_BAD || v->kind == Y_BAD)
		return false;
	snprintf(field, sizeof(field), "%s", section);
	if (!get_ident(p, k, field, UPTRKV_NAME_MAX - 1, &name))
		return false;
	snprintf(field, sizeof(field), "%s.%s", section, name);
	if (!get_text(p, v, field, allow_copy ? "reset or copy" : "reset", &word))
		return false;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->line = k->line;
	out->col = k->col;
	if (!strcmp(word, "reset")) {
		out->policy = UPTRKV_CARRY_RESET;
	} else if (allow_copy && !strcmp(word, "copy")) {
		out->policy = UPTRKV_CARRY_COPY;
	} else {
		diag(p, v->line, v->col, "%s: expected %s, got %s", field,
		     allow_copy ? "reset or copy" : "reset", GOT(v));
		return false;
	}
	return true;
}

/* A NAME: VALUE mapping, each NAME once; the caller stores each pair. */
static bool check_named_map(struct yp *p, const struct ynode *n, const char *section,
			    const char *what)
{
	char got[64];

	if (n->kind == Y_BAD)
		return false;
	if (n->kind != Y_MAP) {
		diag(p, n->line, n->col, "%s: expected %s, got %s", section, what, GOT(n));
		return false;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2)
		for (size_t j = 0; j < i; j += 2)
			if (n->kids[i]->kind == Y_SCALAR && n->kids[j]->kind == Y_SCALAR &&
			    !strcmp(n->kids[i]->str, n->kids[j]->str))
				diag(p, n->kids[i]->line, n->kids[i]->col,
				     "%s: duplicate name '%s' (first at line %d)", section,
				     clean(n->kids[i]->str, got, sizeof(got)), n->kids[j]->line);
	return true;
}

static void parse_policies(struct yp *p, const struct ynode *n, const char *section,
			   bool allow_copy, struct uptrkv_named_policy **out, size_t *nr)
{
	if (!check_named_map(p, n, section, allow_copy ?
			     "a mapping of NAME: reset or copy" : "reset, or a mapping of NAME: reset"))
		return;
	*out = calloc(n->n / 2 + 1, sizeof(**out));
	if (!*out) {
		p->enomem = true;
		return;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (parse_policy(p, n->kids[i], n->kids[i + 1], section, allow_copy, &(*out)[*nr]))
			(*nr)++;
}

/* globals: reset, or globals: {NAME: reset, ...} */
static void parse_globals(struct yp *p, const struct ynode *n, struct uptrkv_manifest *m)
{
	if (n->kind == Y_SCALAR && !strcmp(n->str, "reset")) {
		m->globals_reset_all = true;
		return;
	}
	parse_policies(p, n, "globals", false, &m->globals, &m->nr_globals);
}

static void parse_maps(struct yp *p, const struct ynode *n, struct uptrkv_manifest *m)
{
	parse_policies(p, n, "maps", true, &m->maps, &m->nr_maps);
}

/* config: {NAME: VALUE}: scalars only; whether VALUE fits NAME's type is
 * known only from the object's BTF, when it is loaded (lib/globals.c). */
static void parse_config(struct yp *p, const struct ynode *n, struct uptrkv_manifest *m)
{
	if (!check_named_map(p, n, "config", "a mapping of NAME: VALUE"))
		return;
	m->config = calloc(n->n / 2 + 1, sizeof(*m->config));
	if (!m->config) {
		p->enomem = true;
		return;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->kids[i], *v = n->kids[i + 1];
		struct uptrkv_config_item *c = &m->config[m->nr_config];
		const char *name, *val;
		char field[96];

		if (k->kind == Y_BAD || v->kind == Y_BAD ||
		    !get_ident(p, k, "config", UPTRKV_NAME_MAX - 1, &name))
			continue;
		snprintf(field, sizeof(field), "config.%s", name);
		if (!strncmp(name, "uptrkv_", 7)) {
			diag(p, k->line, k->col, "%s: names starting with uptrkv_ are set by uptrkv "
			     "itself (uptrkv_slot, uptrkv_layout_hash, uptrkv_sleepable)", field);
			continue;
		}
		if (!get_text(p, v, field, "a number, true/false or a string", &val))
			continue;
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->value = strdup(val);
		if (!c->value) {
			p->enomem = true;
			return;
		}
		c->plain = v->plain;
		c->line = v->line;
		c->col = v->col;
		m->nr_config++;
	}
}

enum { F_API, F_NAME, F_VERSION, F_OBJECT, F_PROGRAMS, F_STORE, F_KEYS, F_GLOBALS, F_MAPS,
       F_CONFIG, F_MAX };

static void parse_root(struct yp *p, const struct ynode *root, const char *base_dir,
		       struct uptrkv_manifest *m)
{
	struct field f[F_MAX] = {
		[F_API] = { "apiVersion", true, UPTRKV_API_VERSION },
		[F_NAME] = { "name", true, "the deployment name, [a-z0-9_-]{1,32}" },
		[F_VERSION] = { "version", true, "the layout version, an integer >= 1" },
		[F_OBJECT] = { "object", true, "the path of the BPF object" },
		[F_PROGRAMS] = { "programs", false },
		[F_STORE] = { "store", false },
		[F_KEYS] = { "keys", true, "a list of keys (may be empty: [])" },
		[F_GLOBALS] = { "globals", false },
		[F_MAPS] = { "maps", false },
		[F_CONFIG] = { "config", false },
	};
	const char *s;
	char got[64];
	__u64 v;

	if (root->kind != Y_MAP) {
		if (root->kind != Y_BAD)
			diag(p, root->line, root->col,
			     "expected a mapping with apiVersion, name, version, object and keys, got %s",
			     GOT(root));
		return;
	}
	collect_fields(p, root, "manifest", f, F_MAX);

	if (f[F_API].val && get_text(p, f[F_API].val, "apiVersion", UPTRKV_API_VERSION, &s) &&
	    strcmp(s, UPTRKV_API_VERSION))
		diag(p, f[F_API].val->line, f[F_API].val->col, "apiVersion: expected %s, got %s",
		     UPTRKV_API_VERSION, GOT(f[F_API].val));
	if (f[F_NAME].val && get_text(p, f[F_NAME].val, "name", "a deployment name", &s)) {
		if (is_deploy_name(s))
			snprintf(m->name, sizeof(m->name), "%s", s);
		else
			diag(p, f[F_NAME].val->line, f[F_NAME].val->col,
			     "name: expected a deployment name of 1..32 characters a-z 0-9 _ -, got %s",
			     GOT(f[F_NAME].val));
	}
	if (f[F_VERSION].val && get_uint(p, f[F_VERSION].val, "version", 1, UINT32_MAX, &v))
		m->version = v;
	if (f[F_OBJECT].val &&
	    get_text(p, f[F_OBJECT].val, "object", "the path of the BPF object", &s)) {
		if (strlen(s) >= PATH_MAX) {
			diag(p, f[F_OBJECT].val->line, f[F_OBJECT].val->col,
			     "object: expected a path shorter than %d bytes", PATH_MAX);
		} else {
			m->object = base_dir ? resolve_path(base_dir, s) : strdup(s);
			if (!m->object)
				p->enomem = true;
		}
	}
	if (f[F_PROGRAMS].val)
		parse_programs(p, f[F_PROGRAMS].val, m);
	if (f[F_STORE].val)
		parse_store(p, f[F_STORE].val, m);
	if (f[F_KEYS].val)
		parse_keys(p, f[F_KEYS].val, m);
	if (f[F_GLOBALS].val)
		parse_globals(p, f[F_GLOBALS].val, m);
	if (f[F_MAPS].val)
		parse_maps(p, f[F_MAPS].val, m);
	if (f[F_CONFIG].val)
		parse_config(p, f[F_CONFIG].val, m);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

void uptrkv_manifest__free(struct uptrkv_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr_keys; i++)
		free(m->keys[i].def);
	free(m->keys);
	for (size_t i = 0; i < m->nr_programs; i++) {
		free(m->programs[i]);
		free(m->attach ? m->attach[i] : NULL);
	}
	free(m->programs);
	free(m->attach);
	free(m->globals);
	free(m->maps);
	for (size_t i = 0; i < m->nr_config; i++)
		free(m->config[i].value);
	free(m->config);
	free(m->object);
	free(m->text);
	free(m->path);
	free(m);
}

const struct uptrkv_key *uptrkv_manifest__key(const struct uptrkv_manifest *m, __u32 id)
{
	size_t lo = 0, hi = m ? m->nr_keys : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->keys[mid].id == id)
			return &m->keys[mid];
		if (m->keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int parse_text(const char *text, size_t len, const char *display, const char *path,
		      const char *base_dir, struct uptrkv_manifest **out,
		      struct uptrkv_diags *diags)
{
	struct yp p = { .file = display, .diags = diags };
	struct uptrkv_manifest *m;
	struct ynode *root = NULL;
	int err = 0;

	*out = NULL;
	if (len > UPTRKV_MANIFEST_MAX_BYTES) {
		diag(&p, 0, 0, "manifest is %zu bytes: expected at most %u", len,
		     UPTRKV_MANIFEST_MAX_BYTES);
		return p.enomem ? -ENOMEM : -EFBIG;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->store_map, sizeof(m->store_map), "%s", UPTRKV_DEFAULT_STORE_MAP);
	m->text = malloc(len + 1);
	if (!m->text || (path && !(m->path = strdup(path)))) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	m->text_len = len;

	root = build_tree(&p, text, len);
	if (root)
		parse_root(&p, root, base_dir, m);
	if (p.enomem) {
		err = -ENOMEM;
		goto out;
	}
	if (p.nr_errors) {
		err = -EINVAL;
		goto out;
	}
	qsort(m->keys, m->nr_keys, sizeof(*m->keys), cmp_key_id);
	m->layout_hash = uptrkv_layout_hash(m->keys, m->nr_keys);
	*out = m;
	m = NULL;
out:
	ynode_free(root);
	uptrkv_manifest__free(m);
	return err;
}

int uptrkv_manifest__parse(const char *text, size_t len,
			   const struct uptrkv_manifest_opts *opts,
			   struct uptrkv_manifest **out, struct uptrkv_diags *diags)
{
	const char *display = UPTRKV_OPTS_GET(opts, display_name, NULL);
	const char *base_dir = UPTRKV_OPTS_GET(opts, base_dir, NULL);

	if (!out || (!text && len) || !UPTRKV_OPTS_VALID(opts, uptrkv_manifest_opts, display_name))
		return -EINVAL;
	return parse_text(text ? text : "", len, display ? display : "<manifest>", display,
			  base_dir, out, diags);
}

/* Reads at most max + 1 bytes so a huge file is refused without reading it all. */
static int read_file(const char *path, size_t max, char **text, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += r;
	}
	*text = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int uptrkv_manifest__load(const char *path, const struct uptrkv_manifest_opts *opts,
			  struct uptrkv_manifest **out, struct uptrkv_diags *diags)
{
	const char *display = UPTRKV_OPTS_GET(opts, display_name, NULL);
	const char *base_dir = UPTRKV_OPTS_GET(opts, base_dir, NULL);
	char *text = NULL, *dir = NULL, *slash;
	struct stat st;
	size_t len = 0;
	int err;

	if (!UPTRKV_OPTS_VALID(opts, uptrkv_manifest_opts, display_name))
		return -EINVAL;

	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	if (!display)
		display = path;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err = -EISDIR;
	} else {
		err = read_file(path, UPTRKV_MANIFEST_MAX_BYTES, &text, &len);
	}
	if (err) {
		struct yp p = { .file = display, .diags = diags };

		diag(&p, 0, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	if (!base_dir) {
		dir = strdup(path);
		if (!dir) {
			err = -ENOMEM;
			goto out;
		}
		slash = strrchr(dir, '/');
		if (slash == dir)
			dir[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		base_dir = dir;
	}
	err = parse_text(text, len, display, path, base_dir, out, diags);
out:
	free(dir);
	free(text);
	return err;
}
