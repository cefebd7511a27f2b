// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uptrkv gen header MANIFEST [-o FILE]: a C header with the key ids, sizes
 * and typed accessors of a manifest, for BPF programs (clang -target bpf,
 * through bpf/uptrkv.bpf.h) and for applications (through libuptrkv).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"

struct gen_args {
	const char *what, *manifest;	/* the positional arguments */
	const char *output;		/* NULL or "-": stdout */
	const char *prefix;		/* C prefix; default from the deployment name */
};

enum { OPT_PREFIX = 0x200 };

static const struct argp_option gen_opts[] = {
	{ "output", 'o', "FILE", 0, "Write the header to FILE (default: stdout)", 0 },
	{ "prefix", OPT_PREFIX, "PREFIX", 0,
	  "C prefix of every name (default: the deployment name, '-' becoming '_')", 0 },
	{},
};

static error_t gen_parse(int key, char *arg, struct argp_state *state)
{
	struct gen_args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		return 0;
	case OPT_PREFIX:
		a->prefix = arg;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp gen_argp = {
	.options = gen_opts,
	.parser = gen_parse,
	.doc = "Write a C header for BPF programs and applications: PREFIX_KEY_<NAME> "
	       "and PREFIX_SIZE_<NAME> per key, PREFIX_VERSION, PREFIX_LAYOUT_HASH, and "
	       "typed accessors prefix_get_<name>/prefix_put_<name> (and "
	       "prefix_ptr_<name> in BPF). BPF code includes uptrkv.bpf.h first; "
	       "applications link libuptrkv.\v"
	       "Exit status: 0 written, 2 bad manifest or usage.\n\n"
	       "Examples:\n"
	       "  uptrkv gen header examples/demo/demo_v2.yaml -o demo.h\n"
	       "  uptrkv gen header examples/demo/demo_v2.yaml --prefix app > app_keys.h",
};

/* ------------------------------------------------------------------ */
/* What a key looks like in C                                           */
/* ------------------------------------------------------------------ */

static const char *c_type(enum uptrkv_type t)
{
	switch (t) {
	case UPTRKV_T_U8: return "__u8";
	case UPTRKV_T_U16: return "__u16";
	case UPTRKV_T_U32: return "__u32";
	case UPTRKV_T_U64: return "__u64";
	case UPTRKV_T_S8: return "__s8";
	case UPTRKV_T_S16: return "__s16";
	case UPTRKV_T_S32: return "__s32";
	case UPTRKV_T_S64: return "__s64";
	case UPTRKV_T_BOOL: return "_Bool";
	case UPTRKV_T_STRING: return "char";
	default: return "__u8";
	}
}

static bool is_scalar(enum uptrkv_type t)
{
	return uptrkv_type__width(t) != 0;
}

static void upper(const char *s, char *out, size_t sz)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < sz; i++)
		out[i] = s[i] == '-' ? '_' : toupper((unsigned char)s[i]);
	out[i] = '\0';
}

static void lower(const char *s, char *out, size_t sz)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < sz; i++)
		out[i] = s[i] == '-' ? '_' : tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* The little-endian default as an integer. */
static __u64 def_uint(const struct uptrkv_key *k)
{
	__u64 v = 0;

	for (__u32 i = 0; i < k->size && i < 8; i++)
		v |= (__u64)k->def[i] << (8 * i);
	return v;
}

static __s64 def_int(const struct uptrkv_key *k)
{
	__u32 bits = 8 * k->size;
	__u64 v = def_uint(k);

	if (bits < 64 && (v >> (bits - 1)) & 1)
		v |= ~0ull << bits;
	return (__s64)v;
}

/* Text safe inside a C comment and a C string: no "*\/", no controls. */
static void put_c_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '/' && i > 0 && s[i - 1] == '*')
			fputs("\\057", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A path in a comment: printable, and never the end of the comment. */
static void put_comment_text(FILE *f, const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c >= 0x7f || (c == '/' && i > 0 && s[i - 1] == '*'))
			c = '?';
		fputc(c, f);
	}
}

static void put_default(FILE *f, const struct uptrkv_key *k)
{
	if (!k->has_default)
		return;
	switch (k->type) {
	case UPTRKV_T_STRING:
		put_c_string(f, (const char *)k->def, strnlen((const char *)k->def, k->size));
		break;
	case UPTRKV_T_BOOL:
		fputs(k->def[0] ? "1" : "0", f);
		break;
	case UPTRKV_T_BYTES:
		fputs("0x", f);
		for (__u32 i = 0; i < k->size && i < 16; i++)
			fprintf(f, "%02x", k->def[i]);
		if (k->size > 16)
			fputs("...", f);
		break;
	default:
		if (uptrkv_type__is_signed(k->type))
			fprintf(f, "%lld", (long long)def_int(k));
		else
			fprintf(f, "%llu", (unsigned long long)def_uint(k));
	}
}

/* ------------------------------------------------------------------ */
/* The header                                                           */
/* ------------------------------------------------------------------ */

struct gen {
	FILE *f;
	const struct uptrkv_manifest *m;
	char up[128];			/* DEMO */
	char lo[128];			/* demo */
	char sha[UPTRKV_LAYOUT_HEX_LEN];	/* the layout's SHA-256 */
};

static void gen_comment(struct gen *g, const char *src)
{
	const struct uptrkv_manifest *m = g->m;
	__u64 bytes = 0;
	FILE *f = g->f;

	for (size_t i = 0; i < m->nr_keys; i++)
		bytes += uptrkv_alloc_size(m->keys[i].size);
	fprintf(f, "/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */\n");
	fprintf(f, "/* Generated by `uptrkv gen header ");
	put_comment_text(f, src);
	fprintf(f, "`: do not edit. */\n/*\n");
	fprintf(f, " * Deployment %s, layout version %u (hash 0x%08x): %zu keys, %llu bytes per task.\n"
		" * Layout SHA-256 %s.\n",
		m->name, m->version, m->layout_hash, m->nr_keys, (unsigned long long)bytes, g->sha);
	fprintf(f, " *\n *   %4s  %-24s  %-6s  %4s  %s\n", "id", "name", "type", "size", "default");
	for (size_t i = 0; i < m->nr_keys; i++) {
		const struct uptrkv_key *k = &m->keys[i];

		fprintf(f, " *   %4u  %-24s  %-6s  %4u", k->id, k->name,
			uptrkv_type__str(k->type), k->size);
		if (k->has_default) {
			fputs("  ", f);
			put_default(f, k);
		}
		fprintf(f, "\n");
	}
	fprintf(f,
		" *\n"
		" * BPF programs include uptrkv.bpf.h before this header and get\n"
		" * %s_get_NAME(h, &v), %s_put_NAME(h, v) and %s_ptr_NAME(h) on either\n"
		" * handle h: the struct uptrkv_task_store * of uptrkv_open() or the\n"
		" * struct uptrkv_ctx * of uptrkv_open_ctx(). Their objects carry the\n"
		" * layout record that `uptrkv rollout` checks. Applications get\n"
		" * %s_get_NAME(t, &v) and %s_put_NAME(t, v) on their struct uptrkv_thread\n"
		" * and link libuptrkv. get and put return the bytes copied or -errno.\n"
		" * Strings: get fills char[SIZE]; put copies SIZE bytes in BPF, and in\n"
		" * user space at most SIZE - 1 characters and a NUL. Without the BPF API\n"
		" * (or with UPTRKV_GEN_NO_ACCESSORS) only the constants are defined.\n"
		" */\n", g->lo, g->lo, g->lo, g->lo, g->lo);
}

static void gen_constants(struct gen *g)
{
	const struct uptrkv_manifest *m = g->m;
	char kn[UPTRKV_NAME_MAX];
	FILE *f = g->f;

	fprintf(f, "#define %s_VERSION %u\n", g->up, m->version);
	fprintf(f, "#define %s_LAYOUT_HASH 0x%08xu\n", g->up, m->layout_hash);
	fprintf(f, "#define %s_LAYOUT_SHA256 \"%s\"\n", g->up, g->sha);
	fprintf(f, "#define %s_NR_KEYS %zu\n\n", g->up, m->nr_keys);
	for (size_t i = 0; i < m->nr_keys; i++) {
		const struct uptrkv_key *k = &m->keys[i];

		upper(k->name, kn, sizeof(kn));
		fprintf(f, "#define %s_KEY_%s %u\n", g->up, kn, k->id);
		fprintf(f, "#define %s_SIZE_%s %u\n", g->up, kn, k->size);
		if (k->has_default && k->type != UPTRKV_T_BYTES) {
			fprintf(f, "#define %s_DEFAULT_%s ", g->up, kn);
			if (k->type == UPTRKV_T_STRING)
				put_default(f, k);
			else if (uptrkv_type__is_signed(k->type) && def_int(k) == INT64_MIN)
				/* -9223372036854775808ll would negate an overflowed literal */
				fprintf(f, "(-9223372036854775807ll - 1)");
			else if (uptrkv_type__is_signed(k->type))
				fprintf(f, "(%lldll)", (long long)def_int(k));
			else
				fprintf(f, "%lluull", (unsigned long long)def_uint(k));
			fprintf(f, "\n");
		}
	}
}

/* The names of key k's id and size constants. */
static void const_names(const struct gen *g, const struct uptrkv_key *k, char key[256],
			char size[256])
{
	char kn[UPTRKV_NAME_MAX];

	upper(k->name, kn, sizeof(kn));
	snprintf(key, 256, "%s_KEY_%s", g->up, kn);
	snprintf(size, 256, "%s_SIZE_%s", g->up, kn);
}

/*
 * One key's BPF accessors: macros over uptrkv_get/put/ptr, which take
 * either handle (struct uptrkv_task_store * or struct uptrkv_ctx *). A
 * local of the key's type keeps the type check a function parameter gave.
 */
static void gen_bpf_accessors(struct gen *g, const struct uptrkv_key *k)
{
	const char *ty = c_type(k->type), *lo = g->lo;
	char key[256], size[256];
	FILE *f = g->f;

	const_names(g, k, key, size);
	if (k->type == UPTRKV_T_BOOL) {
		/* stored as one byte; any non-zero byte reads as true */
		fprintf(f, "#define %s_get_%s(h, v) ({ _Bool *__uptrkv_pv = (v); __u8 __uptrkv_b = 0; "
			"int __uptrkv_r = uptrkv_get(h, %s, &__uptrkv_b, %s); if (__uptrkv_r >= 0) "
			"*__uptrkv_pv = __uptrkv_b != 0; __uptrkv_r; })\n", lo, k->name, key, size);
		fprintf(f, "#define %s_put_%s(h, v) ({ _Bool __uptrkv_bv = (v); __u8 __uptrkv_b = "
			"__uptrkv_bv; uptrkv_put(h, %s, &__uptrkv_b, %s); })\n", lo, k->name, key, size);
	} else if (is_scalar(k->type)) {
		fprintf(f, "#define %s_get_%s(h, v) ({ %s *__uptrkv_pv = (v); "
			"uptrkv_get(h, %s, __uptrkv_pv, %s); })\n", lo, k->name, ty, key, size);
		fprintf(f, "#define %s_put_%s(h, v) ({ %s __uptrkv_v = (v); "
			"uptrkv_put(h, %s, &__uptrkv_v, %s); })\n", lo, k->name, ty, key, size);
	} else {
		fprintf(f, "#define %s_get_%s(h, v) ({ %s *__uptrkv_pv = (v); "
			"uptrkv_get(h, %s, __uptrkv_pv, %s); })\n", lo, k->name, ty, key, size);
		fprintf(f, "#define %s_put_%s(h, v) ({ const %s *__uptrkv_pv = (v); "
			"uptrkv_put(h, %s, __uptrkv_pv, %s); })\n", lo, k->name, ty, key, size);
	}
	fprintf(f, "#define %s_ptr_%s(h) ((%s *)uptrkv_ptr(h, %s, %s))\n", lo, k->name,
		k->type == UPTRKV_T_BOOL ? "__u8" : ty, key, size);
}

/* One key's user accessors: struct uptrkv_thread *t, uptrkv_thread__get/put. */
static void gen_user_accessors(struct gen *g, const struct uptrkv_key *k)
{
	const char *inl = "static inline", *arg = "struct uptrkv_thread *t";
	const char *get = "uptrkv_thread__get(t, ", *put = "uptrkv_thread__put(t, ";
	const char *ty = c_type(k->type), *lo = g->lo;
	char key[256], size[256];
	FILE *f = g->f;

	const_names(g, k, key, size);
	if (k->type == UPTRKV_T_BOOL) {
		/* stored as one byte; any non-zero byte reads as true */
		fprintf(f, "%s int %s_get_%s(%s, _Bool *v)\n{\n\t__u8 b = 0;\n"
			"\tint r = %s%s, &b, %s);\n\n\tif (r >= 0)\n\t\t*v = b != 0;\n\treturn r;\n}\n",
			inl, lo, k->name, arg, get, key, size);
		fprintf(f, "%s int %s_put_%s(%s, _Bool v)\n{\n\t__u8 b = v;\n\n"
			"\treturn %s%s, &b, %s);\n}\n", inl, lo, k->name, arg, put, key, size);
	} else if (is_scalar(k->type)) {
		fprintf(f, "%s int %s_get_%s(%s, %s *v)\n{\n\treturn %s%s, v, %s);\n}\n",
			inl, lo, k->name, arg, ty, get, key, size);
		fprintf(f, "%s int %s_put_%s(%s, %s v)\n{\n\treturn %s%s, &v, %s);\n}\n",
			inl, lo, k->name, arg, ty, put, key, size);
	} else {
		fprintf(f, "%s int %s_get_%s(%s, %s v[%s])\n{\n\treturn %s%s, v, %s);\n}\n",
			inl, lo, k->name, arg, ty, size, get, key, size);
		if (k->type == UPTRKV_T_STRING)
			fprintf(f, "%s int %s_put_%s(%s, const char *v)\n{\n"
				"\tchar buf[%s];\n\tsize_t n = 0;\n\n"
				"\twhile (n < sizeof(buf) - 1 && v[n])\n\t\tn++;\n"
				"\tmemset(buf, 0, sizeof(buf));\n\tmemcpy(buf, v, n);\n"
				"\treturn %s%s, buf, sizeof(buf));\n}\n",
				inl, lo, k->name, arg, size, put, key);
		else
			fprintf(f, "%s int %s_put_%s(%s, const %s v[%s])\n{\n\treturn %s%s, v, %s);\n}\n",
				inl, lo, k->name, arg, ty, size, put, key, size);
	}
}

/*
 * The layout record (bpf/uptrkv_bind.h): what `uptrkv rollout` reads back
 * from the object to know which layout it was built for. Only in BPF code
 * that included uptrkv.bpf.h, which defines the macro.
 */
static int gen_record(struct gen *g)
{
	struct uptrkv_error e = {};
	char *text = NULL;
	size_t len, i = 0;
	FILE *f = g->f;
	int err;

	err = uptrkv_layout__record(g->m, &text, &len, &e);
	if (err)
		return err;
	fprintf(f, "\n/* The layout this object is built for: `uptrkv rollout` refuses an object\n"
		" * whose record is not its manifest's (docs/design.md). */\n"
		"#if defined(__bpf__) && defined(UPTRKV_LAYOUT_RECORD)\n"
		"UPTRKV_LAYOUT_RECORD(%s,", g->lo);
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - text - i) + 1 : len - i;

		fputs("\n\t", f);
		put_c_string(f, text + i, n);
		i += n;
	}
	fprintf(f, ");\n#endif\n");
	free(text);
	return 0;
}

static void gen_body(struct gen *g)
{
	const struct uptrkv_manifest *m = g->m;
	FILE *f = g->f;

	fprintf(f, "\n#ifndef UPTRKV_GEN_NO_ACCESSORS\n");
	fprintf(f, "#if defined(__bpf__)\n"
		"#if defined(__UPTRKV_BPF_H) || defined(uptrkv_get)\n");
	for (size_t i = 0; i < m->nr_keys; i++)
		gen_bpf_accessors(g, &m->keys[i]);
	fprintf(f, "\n#endif /* uptrkv.bpf.h */\n"
		"#else /* !__bpf__ */\n\n"
		"#include <linux/types.h>\n#include <string.h>\n\n"
		"#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
		"/* As declared in uptrkv.h, so this header also works on its own. */\n"
		"struct uptrkv_thread;\n"
		"int uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);\n"
		"int uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);\n\n");
	for (size_t i = 0; i < m->nr_keys; i++)
		gen_user_accessors(g, &m->keys[i]);
	fprintf(f, "\n#ifdef __cplusplus\n}\n#endif\n"
		"#endif /* __bpf__ */\n#endif /* UPTRKV_GEN_NO_ACCESSORS */\n");
}

static int gen_header(FILE *f, const struct uptrkv_manifest *m, const char *src,
		      const char *prefix)
{
	struct gen g = { .f = f, .m = m };
	__u8 sha[UPTRKV_LAYOUT_SHA_LEN];
	int err;

	err = uptrkv_layout__sha256(m->keys, m->nr_keys, sha, NULL);
	if (err)
		return err;
	uptrkv_layout__hex(sha, g.sha);
	if (prefix) {
		upper(prefix, g.up, sizeof(g.up));
		lower(prefix, g.lo, sizeof(g.lo));
	} else {
		upper(m->name, g.up, sizeof(g.up));
		lower(m->name, g.lo, sizeof(g.lo));
	}
	gen_comment(&g, src);
	fprintf(f, "#ifndef __%s_UPTRKV_H\n#define __%s_UPTRKV_H\n\n", g.up, g.up);
	gen_constants(&g);
	if (gen_record(&g))
		return -ENOMEM;
	gen_body(&g);
	fprintf(f, "\n#endif /* __%s_UPTRKV_H */\n", g.up);
	return ferror(f) ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* Command                                                              */
/* ------------------------------------------------------------------ */

static bool valid_prefix(const char *p)
{
	if (!(isalpha((unsigned char)p[0]) || p[0] == '_'))
		return false;
	for (; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

/* Writes through a temporary file and a rename, so a reader never sees
 * half a header and a failure leaves the old one. */
static int write_out(const char *path, const char *buf, size_t len)
{
	size_t plen = strlen(path) + 16;
	char *tmp = malloc(plen);
	FILE *f = NULL;
	int err = 0;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, plen, "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	if (fwrite(buf, 1, len, f) != len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	free(tmp);
	return err;
}

static const char *sha_hex(const struct uptrkv_manifest *m, char hex[UPTRKV_LAYOUT_HEX_LEN])
{
	__u8 sha[UPTRKV_LAYOUT_SHA_LEN];

	if (uptrkv_layout__sha256(m->keys, m->nr_keys, sha, NULL))
		return NULL;
	uptrkv_layout__hex(sha, hex);
	return hex;
}

int do_gen(int argc, char **argv)
{
	struct uptrkv_manifest *m = NULL;
	struct gen_args a = {};
	struct cmd_args pos;
	char name[UPTRKV_DEPLOY_NAME_MAX + 1];
	char shahex[UPTRKV_LAYOUT_HEX_LEN];
	char *buf = NULL;
	size_t len = 0;
	struct jw *w;
	FILE *f = NULL;
	int err, ret = EXIT_USAGE;

	err = cmd_parse(argc, argv, &a, &pos);
	if (err)
		return err;
	a.what = pos.v[0];
	a.manifest = pos.v[1];
	if (strcmp(a.what, "header")) {
		p_err(CODE_USAGE, "gen: expected 'header MANIFEST'; see 'uptrkv gen --help'");
		return EXIT_USAGE;
	}
	if (a.prefix && !valid_prefix(a.prefix)) {
		p_err(CODE_USAGE, "gen header: --prefix %s: expected a C identifier", a.prefix);
		return EXIT_USAGE;
	}
	if (env.json && (!a.output || !strcmp(a.output, "-"))) {
		p_err(CODE_USAGE, "gen header: --json needs -o FILE (the header would mix with the JSON)");
		return EXIT_USAGE;
	}
	if (cmd_manifest_load("gen header", a.manifest, &m, NULL))
		goto out;
	lower(m->name, name, sizeof(name));
	if (!a.prefix && !valid_prefix(name)) {
		p_err(CODE_USAGE, "gen header: deployment name '%s' does not start a C identifier: give --prefix",
		      m->name);
		goto out;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		p_err(CODE_IO, "gen header: %s", strerror(errno));
		goto out;
	}
	err = gen_header(f, m, a.manifest, a.prefix);
	if (fclose(f) && !err)
		err = -errno;
	f = NULL;
	if (err) {
		p_err(CODE_IO, "gen header: %s", strerror(-err));
		goto out;
	}
	if (!a.output || !strcmp(a.output, "-")) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
			p_err(CODE_IO, "gen header: write stdout: %s", strerror(errno));
			goto out;
		}
	} else {
		err = write_out(a.output, buf, len);
		if (err) {
			p_err(CODE_IO, "gen header: write %s: %s", a.output, strerror(-err));
			goto out;
		}
	}
	w = json_begin();
	if (w) {
		jw_start_object(w);
		jw_string_field(w, "output", a.output);
		jw_string_field(w, "name", m->name);
		jw_uint_field(w, "version", m->version);
		jw_uint_field(w, "keys", m->nr_keys);
		jw_hash_field(w, "layout_hash", m->layout_hash);
		jw_string_field(w, "layout_sha256", sha_hex(m, shahex));
		jw_end_object(w);
	}
	ret = EXIT_OK;
out:
	free(buf);
	uptrkv_manifest__free(m);
	return ret;
}
