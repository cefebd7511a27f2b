// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Objects bound to their layout (docs/design.md). One canonical text of a
 * key table and its SHA-256 (uptrkv_layout__canon/__sha256) serve `gen
 * header`, which embeds them in the object through bpf/uptrkv_bind.h, and
 * every check that reads them back: there is no second definition.
 *
 * The object is read from the file with libelf, before libbpf or the
 * kernel sees it, so a refused object has changed nothing.
 */
#include <ctype.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "binding_state.h"
#include "sha256.h"
#include "version.h"

_Static_assert(UPTRKV_LAYOUT_SHA_LEN == UPTRKV_SHA256_LEN, "a layout hash is a SHA-256");

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* Differing keys a message names before it says "and N more". */
#define DIFF_KEYS_SHOWN		4

/* ------------------------------------------------------------------ */
/* The canonical text and its hash                                      */
/* ------------------------------------------------------------------ */

int uptrkv_layout__canon(const struct uptrkv_key *keys, size_t nr, char **text, size_t *len,
			 struct uptrkv_error *e)
{
	FILE *f;
	int err = 0;

	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (!f)
		return uptrkv_errno(e, -errno, "layout text");
	for (size_t i = 0; i < nr; i++)
		fprintf(f, "%u %s %u %s\n", keys[i].id, keys[i].name, keys[i].size,
			uptrkv_type__str(keys[i].type));
	if (fclose(f))
		err = uptrkv_errno(e, -errno, "layout text");
	if (!err && !*text)
		err = uptrkv_err(e, -ENOMEM, "layout text: out of memory");
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}

int uptrkv_layout__sha256(const struct uptrkv_key *keys, size_t nr,
			  __u8 out[UPTRKV_LAYOUT_SHA_LEN], struct uptrkv_error *e)
{
	char *text;
	size_t len;
	int err;

	err = uptrkv_layout__canon(keys, nr, &text, &len, e);
	if (err)
		return err;
	uptrkv_sha256(text, len, out);
	free(text);
	return 0;
}

void uptrkv_layout__hex(const __u8 sha[UPTRKV_LAYOUT_SHA_LEN], char out[UPTRKV_LAYOUT_HEX_LEN])
{
	uptrkv_sha256_hex(sha, out);
}

int uptrkv_layout__record(const struct uptrkv_manifest *m, char **text, size_t *len,
			  struct uptrkv_error *e)
{
	__u8 sha[UPTRKV_LAYOUT_SHA_LEN];
	char hex[UPTRKV_LAYOUT_HEX_LEN];
	char *canon = NULL;
	size_t clen;
	FILE *f;
	int err;

	*text = NULL;
	err = uptrkv_layout__canon(m->keys, m->nr_keys, &canon, &clen, e);
	if (err)
		return err;
	uptrkv_sha256(canon, clen, sha);
	uptrkv_layout__hex(sha, hex);
	f = open_memstream(text, len);
	if (!f) {
		err = uptrkv_errno(e, -errno, "layout record");
		goto out;
	}
	fprintf(f, "%s %d\nname %s\nsha256 %s\nkeys %zu\n%s", UPTRKV_LAYOUT_MAGIC,
		UPTRKV_LAYOUT_FORMAT, m->name, hex, m->nr_keys, canon);
	if (fclose(f))
		err = uptrkv_errno(e, -errno, "layout record");
	if (err) {
		free(*text);
		*text = NULL;
	}
out:
	free(canon);
	return err;
}

/* ------------------------------------------------------------------ */
/* Reading a record back: every byte may be hostile                     */
/* ------------------------------------------------------------------ */

struct cursor {
	const char *p, *end;
	int line;
	struct uptrkv_error *e;
};

/* Quotes at most 40 bytes of s for a message, control bytes as '?'. */
static const char *shown(const char *s, size_t n, char buf[48])
{
	size_t i;

	for (i = 0; i < n && i < 40; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* The next line, without its '\n'. Every line ends with one: a record
 * without it was cut short. */
static int next_line(struct cursor *c, const char **s, size_t *n, const char *what)
{
	const char *nl;

	c->line++;
	if (c->p >= c->end)
		return uptrkv_err(c->e, -EINVAL, "layout record is truncated: line %d (%s) is missing",
				  c->line, what);
	nl = memchr(c->p, '\n', c->end - c->p);
	if (!nl)
		return uptrkv_err(c->e, -EINVAL, "layout record is truncated: line %d (%s) has no end",
				  c->line, what);
	*s = c->p;
	*n = nl - c->p;
	c->p = nl + 1;
	return 0;
}

static bool parse_u32(const char *s, size_t n, __u32 max, __u32 *out)
{
	__u64 v = 0;

	if (!n || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max || (n > 1 && s[0] == '0'))
		return false;
	*out = v;
	return true;
}

/* "WORD VALUE": returns VALUE, or NULL if the line is not WORD + ' '. */
static const char *field(const char *s, size_t n, const char *word, size_t *vn)
{
	size_t wn = strlen(word);

	if (n <= wn || memcmp(s, word, wn) || s[wn] != ' ')
		return NULL;
	*vn = n - wn - 1;
	return s + wn + 1;
}

static int bad_line(struct cursor *c, const char *what, const char *s, size_t n)
{
	char buf[48];

	return uptrkv_err(c->e, -EINVAL, "layout record, line %d: expected %s, got '%s'", c->line,
			  what, shown(s, n, buf));
}

static int parse_magic(struct cursor *c)
{
	const char *s, *v;
	size_t n, vn;
	__u32 fmt;
	int err;

	err = next_line(c, &s, &n, UPTRKV_LAYOUT_MAGIC);
	if (err)
		return err;
	v = field(s, n, UPTRKV_LAYOUT_MAGIC, &vn);
	if (!v || !parse_u32(v, vn, UINT32_MAX, &fmt))
		return bad_line(c, "'" UPTRKV_LAYOUT_MAGIC " 1' (not a layout record)", s, n);
	if (fmt != UPTRKV_LAYOUT_FORMAT)
		return uptrkv_err(c->e, -EINVAL, "layout record format %u: this uptrkv reads format %d; "
				  "upgrade uptrkv", fmt, UPTRKV_LAYOUT_FORMAT);
	return 0;
}

static int parse_name(struct cursor *c, struct uptrkv_layout_rec *r)
{
	const char *s, *v;
	size_t n, vn;
	int err;

	err = next_line(c, &s, &n, "name");
	if (err)
		return err;
	v = field(s, n, "name", &vn);
	if (!v || vn > UPTRKV_DEPLOY_NAME_MAX)
		return bad_line(c, "'name DEPLOYMENT'", s, n);
	memcpy(r->name, v, vn);
	r->name[vn] = '\0';
	if (!uptrkv_deploy_name_ok(r->name))
		return bad_line(c, "a deployment name [a-z0-9_-]{1,32}", s, n);
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int parse_sha(struct cursor *c, struct uptrkv_layout_rec *r)
{
	const char *s, *v;
	size_t n, vn;
	int err;

	err = next_line(c, &s, &n, "sha256");
	if (err)
		return err;
	v = field(s, n, "sha256", &vn);
	if (!v || vn != 2 * UPTRKV_LAYOUT_SHA_LEN)
		return bad_line(c, "'sha256' and 64 hex digits", s, n);
	for (size_t i = 0; i < UPTRKV_LAYOUT_SHA_LEN; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return bad_line(c, "'sha256' and 64 lower-case hex digits", s, n);
		r->sha256[i] = hi << 4 | lo;
	}
	return 0;
}

static bool c_ident(const char *s, size_t n)
{
	if (!n || n >= UPTRKV_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static bool parse_type(const char *s, size_t n, enum uptrkv_type *t)
{
	for (int i = 0; i < __UPTRKV_T_MAX; i++) {
		const char *name = uptrkv_type__str(i);

		if (strlen(name) == n && !memcmp(name, s, n)) {
			*t = i;
			return true;
		}
	}
	return false;
}

/* Splits "ID NAME SIZE TYPE" at single spaces. */
static bool split4(const char *s, size_t n, const char *tok[4], size_t len[4])
{
	size_t t = 0, start = 0;

	for (size_t i = 0; i <= n && t < 4; i++) {
		if (i < n && s[i] != ' ')
			continue;
		tok[t] = s + start;
		len[t++] = i - start;
		start = i + 1;
	}
	return t == 4 && start == n + 1;
}

static int parse_key(struct cursor *c, struct uptrkv_key *k, const struct uptrkv_key *prev)
{
	const char *s, *tok[4];
	size_t n, len[4];
	__u32 width;
	int err;

	err = next_line(c, &s, &n, "a key");
	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	if (!split4(s, n, tok, len) || !parse_u32(tok[0], len[0], UPTRKV_MAX_KEYS - 1, &k->id) ||
	    !c_ident(tok[1], len[1]) || !parse_u32(tok[2], len[2], UPTRKV_MAX_VALUE, &k->size) ||
	    !k->size || !parse_type(tok[3], len[3], &k->type))
		return bad_line(c, "'ID NAME SIZE TYPE' (id 0..1023, size 1..4096)", s, n);
	memcpy(k->name, tok[1], len[1]);
	k->name[len[1]] = '\0';
	width = uptrkv_type__width(k->type);
	if (width && width != k->size)
		return bad_line(c, "a size that fits the type", s, n);
	if (prev && k->id <= prev->id)
		return uptrkv_err(c->e, -EINVAL, "layout record, line %d: key %u %s key %u",
				  c->line, k->id, k->id == prev->id ? "repeats" : "is out of order after",
				  prev->id);
	return 0;
}

static int parse_keys(struct cursor *c, struct uptrkv_layout_rec *r)
{
	const char *s, *v;
	size_t n, vn;
	__u32 nr;
	int err;

	err = next_line(c, &s, &n, "keys");
	if (err)
		return err;
	v = field(s, n, "keys", &vn);
	if (!v || !parse_u32(v, vn, UPTRKV_MAX_KEYS, &nr))
		return bad_line(c, "'keys N' with N at most 1024", s, n);
	r->keys = calloc(nr ? nr : 1, sizeof(*r->keys));
	if (!r->keys)
		return uptrkv_err(c->e, -ENOMEM, "layout record: out of memory");
	for (__u32 i = 0; i < nr; i++) {
		err = parse_key(c, &r->keys[i], i ? &r->keys[i - 1] : NULL);
		if (err)
			return err;
		r->nr_keys++;
	}
	return 0;
}

/* The key lines must be the canonical text that the sha256 line hashes. */
static int check_sha(struct cursor *c, const struct uptrkv_layout_rec *r)
{
	__u8 sha[UPTRKV_LAYOUT_SHA_LEN];
	int err;

	err = uptrkv_layout__sha256(r->keys, r->nr_keys, sha, c->e);
	if (err)
		return err;
	if (memcmp(sha, r->sha256, sizeof(sha)))
		return uptrkv_err(c->e, -EINVAL, "layout record is corrupt: its sha256 does not "
				  "match its key table");
	return 0;
}

int uptrkv_layout_rec__parse(const char *buf, size_t len, struct uptrkv_layout_rec *out,
			     struct uptrkv_error *e)
{
	struct cursor c = { .p = buf, .end = buf + len, .e = e };
	int err;

	memset(out, 0, sizeof(*out));
	if (memchr(buf, '\0', len))
		return uptrkv_err(e, -EINVAL, "layout record holds a NUL byte");
	err = parse_magic(&c);
	err = err ?: parse_name(&c, out);
	err = err ?: parse_sha(&c, out);
	err = err ?: parse_keys(&c, out);
	if (!err && c.p != c.end)
		err = uptrkv_err(e, -EINVAL, "layout record, line %d: more than its %zu keys",
				 c.line + 1, out->nr_keys);
	err = err ?: check_sha(&c, out);
	if (err)
		uptrkv_layout_rec__free(out);
	return err;
}

void uptrkv_layout_rec__free(struct uptrkv_layout_rec *r)
{
	if (!r)
		return;
	free(r->keys);
	r->keys = NULL;
	r->nr_keys = 0;
}

static bool same_rec(const struct uptrkv_layout_rec *a, const struct uptrkv_layout_rec *b)
{
	return !strcmp(a->name, b->name) && !memcmp(a->sha256, b->sha256, sizeof(a->sha256));
}

int uptrkv_layout_rec__parse_section(const void *data, size_t len, struct uptrkv_layout_rec *out,
				     struct uptrkv_error *e)
{
	const char *p = data, *end = p + len;
	struct uptrkv_layout_rec r;
	int found = 0, err;

	memset(out, 0, sizeof(*out));
	if (len > UPTRKV_LAYOUT_SEC_MAX)
		return uptrkv_err(e, -E2BIG, "layout section is %zu bytes, at most %u", len,
				  UPTRKV_LAYOUT_SEC_MAX);
	while (p < end) {
		const char *nul = memchr(p, '\0', end - p);

		if (nul == p) {		/* padding between records */
			p++;
			continue;
		}
		if (!nul) {
			err = uptrkv_err(e, -EINVAL, "layout record is not NUL-terminated (cut short?)");
			goto err;
		}
		err = uptrkv_layout_rec__parse(p, nul - p, &r, e);
		if (err)
			goto err;
		p = nul + 1;
		if (found && same_rec(out, &r)) {
			uptrkv_layout_rec__free(&r);
			continue;
		}
		if (found) {
			err = uptrkv_err(e, -EINVAL, "object carries two layout records ('%s' and '%s'): "
					 "one object serves one layout", out->name, r.name);
			uptrkv_layout_rec__free(&r);
			goto err;
		}
		*out = r;
		found = 1;
	}
	return found;
err:
	uptrkv_layout_rec__free(out);
	return err;
}

/* ------------------------------------------------------------------ */
/* The object file                                                      */
/* ------------------------------------------------------------------ */

/* The layout section's bytes (copied), or *data NULL when there is none.
 * Anything that is not a BPF ELF object is refused with -ENOEXEC. */
static int find_section(char *img, size_t len, const char *path, void **data, size_t *dlen,
			struct uptrkv_error *e)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr ehdr;
	size_t shstrndx;
	Elf *elf;
	int err = 0;

	*data = NULL;
	*dlen = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return uptrkv_err(e, -EINVAL, "libelf: %s", elf_errmsg(-1));
	elf = elf_memory(img, len);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr) ||
	    elf_getshdrstrndx(elf, &shstrndx)) {
		err = uptrkv_err(e, -ENOEXEC, "%s is not an ELF object", path);
		goto out;
	}
	if (ehdr.e_machine != EM_BPF) {
		err = uptrkv_err(e, -ENOEXEC, "%s is not a BPF object (ELF machine %u)", path,
				 ehdr.e_machine);
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (strcmp(name, UPTRKV_LAYOUT_SECTION))
			continue;
		d = sh.sh_type == SHT_NOBITS ? NULL : elf_getdata(scn, NULL);
		if (!d || !d->d_buf || sh.sh_size > len || d->d_size > len) {
			err = uptrkv_err(e, -EINVAL, "%s: section %s is cut short or empty", path,
					 UPTRKV_LAYOUT_SECTION);
			goto out;
		}
		*data = malloc(d->d_size ? d->d_size : 1);
		if (!*data) {
			err = uptrkv_err(e, -ENOMEM, "out of memory");
			goto out;
		}
		memcpy(*data, d->d_buf, d->d_size);
		*dlen = d->d_size;
		break;
	}
out:
	elf_end(elf);
	return err;
}

/* The object's SHA-256, and its record (1) or none (0). */
static int read_object(const char *path, const void *img, size_t len, struct uptrkv_binding *b,
		       struct uptrkv_layout_rec *r, struct uptrkv_error *e)
{
	void *sec = NULL;
	size_t slen;
	int err;

	uptrkv_sha256(img, len, b->object_sha256);
	err = find_section((char *)img, len, path, &sec, &slen, e);
	if (!err && sec) {
		char why[UPTRKV_ERRMSG_MAX];

		err = uptrkv_layout_rec__parse_section(sec, slen, r, e);
		if (err < 0 && e) {
			snprintf(why, sizeof(why), "%s", e->msg);
			uptrkv_err(e, err, "%s: %.400s", path, why);
		}
	}
	free(sec);
	return err;
}

/* ------------------------------------------------------------------ */
/* The check                                                            */
/* ------------------------------------------------------------------ */

static void key_text(char *buf, size_t sz, const struct uptrkv_key *k, __u32 id)
{
	if (!k)
		snprintf(buf, sz, "no key %u", id);
	else if (uptrkv_type__width(k->type))
		snprintf(buf, sz, "key %u '%s' %s", k->id, k->name, uptrkv_type__str(k->type));
	else
		snprintf(buf, sz, "key %u '%s' %s[%u]", k->id, k->name, uptrkv_type__str(k->type),
			 k->size);
}

static bool same_key(const struct uptrkv_key *a, const struct uptrkv_key *b)
{
	return a && b && a->size == b->size && a->type == b->type && !strcmp(a->name, b->name);
}

/*
 * The keys of a and b that differ, as two lists ("key 2 'x' u32, no key
 * 5"), the first few of them.
 */
static void diff_keys(const struct uptrkv_key *a, size_t na, const struct uptrkv_key *b,
		      size_t nb, char *out_a, char *out_b, size_t sz)
{
	size_t i = 0, j = 0, shown = 0, more = 0;
	char ka[128], kb[128];

	out_a[0] = out_b[0] = '\0';
	while (i < na || j < nb) {
		const struct uptrkv_key *x = i < na ? &a[i] : NULL, *y = j < nb ? &b[j] : NULL;
		__u32 id;

		if (x && y && x->id != y->id) {
			if (x->id < y->id)
				y = NULL;
			else
				x = NULL;
		}
		id = x ? x->id : y->id;
		i += !!x;
		j += !!y;
		if (same_key(x, y))
			continue;
		if (shown == DIFF_KEYS_SHOWN) {
			more++;
			continue;
		}
		key_text(ka, sizeof(ka), x, id);
		key_text(kb, sizeof(kb), y, id);
		snprintf(out_a + strlen(out_a), sz - strlen(out_a), "%s%s", shown ? ", " : "", ka);
		snprintf(out_b + strlen(out_b), sz - strlen(out_b), "%s%s", shown ? ", " : "", kb);
		shown++;
	}
	if (more) {
		snprintf(out_a + strlen(out_a), sz - strlen(out_a), ", and %zu more", more);
		snprintf(out_b + strlen(out_b), sz - strlen(out_b), ", and %zu more", more);
	}
}

static int compare(const struct uptrkv_manifest *m, const char *obj,
		   const struct uptrkv_layout_rec *r, struct uptrkv_binding *b, struct uptrkv_error *e)
{
	char ho[UPTRKV_LAYOUT_HEX_LEN], hm[UPTRKV_LAYOUT_HEX_LEN], ko[200], km[200];

	uptrkv_layout__hex(b->layout_sha256, ho);
	uptrkv_layout__hex(b->manifest_sha256, hm);
	if (strcmp(r->name, m->name)) {
		b->mismatch = true;
		return uptrkv_err(e, -EINVAL, "%s: object %s was built for deployment '%s' (layout "
				  "0x%.*s), the manifest deploys '%s'", m->path, obj, r->name,
				  UPTRKV_LAYOUT_HEX_SHOWN, ho, m->name);
	}
	if (!memcmp(b->layout_sha256, b->manifest_sha256, UPTRKV_LAYOUT_SHA_LEN))
		return 0;
	b->mismatch = true;
	diff_keys(r->keys, r->nr_keys, m->keys, m->nr_keys, ko, km, sizeof(ko));
	return uptrkv_err(e, -EINVAL, "%s: object %s was built for layout 0x%.*s (%s), manifest "
			  "says 0x%.*s (%s)", m->path, obj, UPTRKV_LAYOUT_HEX_SHOWN, ho, ko,
			  UPTRKV_LAYOUT_HEX_SHOWN, hm, km);
}

/* Every program the manifest lists is in the object, with a SEC() uptrkv
 * attaches. libbpf only parses the file here; nothing is loaded. */
static int check_programs(const struct uptrkv_manifest *m, const char *obj, const void *img,
			  size_t len, struct uptrkv_binding *b, struct uptrkv_error *e)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = m->name);
	struct bpf_object *o;
	int err = 0;

	if (!m->nr_programs)
		return 0;
	o = bpf_object__open_mem(img, len, &oo);
	if (!o)
		return uptrkv_errno(e, -errno, "%s: cannot open BPF object %s", m->path, obj);
	for (size_t i = 0; !err && i < m->nr_programs; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(o, m->programs[i]);
		struct uptrkv_hook_spec spec;
		char why[UPTRKV_ERRMSG_MAX];

		if (!p) {
			err = uptrkv_err(e, -ENOENT, "%s: program '%s' (listed in the manifest) is not "
					 "in %s", m->path, m->programs[i], obj);
			break;
		}
		err = uptrkv_hook_spec__parse(bpf_program__section_name(p),
					      m->attach ? m->attach[i] : NULL, &spec, e);
		if (err && e) {
			snprintf(why, sizeof(why), "%s", e->msg);
			uptrkv_err(e, err, "%s: program '%s' of %s: %.380s", m->path, m->programs[i],
				   obj, why);
		}
	}
	bpf_object__close(o);
	b->mismatch = err != 0;
	return err ? -EINVAL : 0;
}

static int no_record(const struct uptrkv_manifest *m, const char *obj, bool allow,
		     struct uptrkv_binding *b, struct uptrkv_error *e)
{
	if (allow) {
		b->unbound = true;
		return 0;
	}
	b->mismatch = true;
	return uptrkv_err(e, -EINVAL, "%s: object %s carries no layout record: build it with the "
			  "header of `uptrkv gen header` included after uptrkv.bpf.h (or allow an unbound "
			  "object explicitly)", m->path, obj);
}

int uptrkv_binding__check_mem(const struct uptrkv_manifest *m, const char *obj, const void *img,
			      size_t len, const struct uptrkv_binding_opts *opts,
			      struct uptrkv_binding *b, struct uptrkv_error *e)
{
	bool allow = UPTRKV_OPTS_GET(opts, allow_unbound, false);
	struct uptrkv_layout_rec r = {};
	int err;

	memset(b, 0, sizeof(*b));
	b->checked = true;
	err = uptrkv_layout__sha256(m->keys, m->nr_keys, b->manifest_sha256, e);
	if (err)
		return err;
	err = read_object(obj, img, len, b, &r, e);
	if (err == -ENOEXEC || err == -EINVAL || err == -E2BIG) {
		/* Not a BPF object, or a record that does not parse: it is
		 * not bound to anything. */
		b->mismatch = true;
		return -EINVAL;
	}
	if (err < 0)
		return err;
	b->has_record = err == 1;
	if (b->has_record) {
		memcpy(b->layout_sha256, r.sha256, sizeof(r.sha256));
		snprintf(b->name, sizeof(b->name), "%s", r.name);
		err = compare(m, obj, &r, b, e);
	} else {
		err = no_record(m, obj, allow, b, e);
	}
	uptrkv_layout_rec__free(&r);
	return err ?: check_programs(m, obj, img, len, b, e);
}

int uptrkv_binding__check(const struct uptrkv_manifest *m, const char *object,
			  const struct uptrkv_binding_opts *opts, struct uptrkv_binding *b,
			  struct uptrkv_error *e)
{
	const char *obj = object ? object : m->object;
	size_t len;
	void *img;
	int err;

	if (!UPTRKV_OPTS_VALID(opts, uptrkv_binding_opts, allow_unbound))
		return uptrkv_err(e, -EINVAL, "binding options: unknown fields set (sz %zu)",
				  opts->sz);
	err = uptrkv_read_file(obj, UPTRKV_OBJECT_MAX, &img, &len, e);
	if (err)
		return uptrkv_errno(e, err, "cannot open BPF object %s", obj);
	err = uptrkv_binding__check_mem(m, obj, img, len, opts, b, e);
	free(img);
	return err;
}

int uptrkv_object__sha256(const char *path, __u8 out[UPTRKV_LAYOUT_SHA_LEN],
			  struct uptrkv_error *e)
{
	size_t len;
	void *img;
	int err;

	err = uptrkv_read_file(path, UPTRKV_OBJECT_MAX, &img, &len, e);
	if (err)
		return err;
	uptrkv_sha256(img, len, out);
	free(img);
	return 0;
}
