// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The new layout is built beside the live one. Unchanged and renamed keys
 * get the very same meta entry in the new slot, so both versions read and
 * write one copy of the bytes and nothing written during the rollout can be
 * lost. Only added and resized keys get new extents, in space that neither
 * the live meta nor anyone else references, so writing them is invisible
 * until the switch. A resized key's new entry is forwarded
 * (UPTRKV_ENT_FWD): its value stays in the old extent, where the old
 * version keeps writing it, until the first access after the switch moves
 * it (docs/design.md, "Moving a resized value").
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "convert.h"
#include "migrate.h"

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Appends bytes to buf; returns their offset or -ENOMEM. */
static long buf_add(struct uptrkv_mig *m, const void *src, size_t len)
{
	size_t off = m->buf_len;

	if (grow((void **)&m->buf, &m->buf_cap, m->buf_len + len, 1))
		return -ENOMEM;
	memcpy(m->buf + off, src, len);
	m->buf_len += len;
	return off;
}

/*
 * A COPY write whose src is an offset into buf until finish() fixes it.
 * Values placed one after another land side by side in their page and in
 * buf alike, so such a copy extends the previous one: a store's 1024 new
 * values become a few page-sized copies, not 1024 helper calls. They are
 * unpublished space until the meta written after them, so one copy is as
 * invisible as many.
 */
static int add_copy(struct uptrkv_mig *m, __u8 region, __u16 off, size_t buf_off, __u16 len)
{
	struct uptrkv_write *p = m->nr_w ? &m->w[m->nr_w - 1] : NULL;

	if (p && p->op == UPTRKV_W_COPY && p->region == region && region != UPTRKV_R_HDR &&
	    p->off + p->len == off && p->src + p->len == buf_off &&
	    p->len + len <= UPTRKV_PAGE_SIZE) {
		p->len += len;
		return 0;
	}
	if (grow((void **)&m->w, &m->cap_w, m->nr_w + 1, sizeof(*m->w)))
		return -ENOMEM;
	m->w[m->nr_w++] = uptrkv_write__copy(region, off, (void *)buf_off, len);
	return 0;
}

static int add_store32(struct uptrkv_mig *m, __u8 region, __u16 off, __u32 val)
{
	if (grow((void **)&m->w, &m->cap_w, m->nr_w + 1, sizeof(*m->w)))
		return -ENOMEM;
	m->w[m->nr_w++] = uptrkv_write__store32(region, off, val);
	return 0;
}

static int add_move(struct uptrkv_mig *m, __u32 id, struct uptrkv_error *e)
{
	if (grow((void **)&m->moves, &m->cap_moves, m->nr_moves + 1, sizeof(*m->moves)))
		return uptrkv_err(e, -ENOMEM, "out of memory");
	m->moves[m->nr_moves++] = id;
	return 0;
}

/*
 * First fit, as uptrkv_alloc__alloc, without searching again the pages
 * that an earlier value of this build did not fit in: placing 1024 values
 * would otherwise search every full page for each.
 */
static int alloc(struct uptrkv_mig *m, struct uptrkv_alloc *a, __u32 size, __u32 *ent)
{
	__u32 units = (size + UPTRKV_ALIGN - 1) / UPTRKV_ALIGN, avoid = 0, pg;
	int err;

	for (pg = 0; pg < UPTRKV_MAX_PAGES; pg++)
		if (m->no_run[pg] && units >= m->no_run[pg])
			avoid |= 1u << pg;
	err = uptrkv_alloc__alloc_avoid(a, size, avoid, ent);
	if (err)
		return err;
	/* The pages tried before the one it fits in had no room for it. */
	for (__u32 i = 0; i < UPTRKV_MAX_PAGES; i++) {
		pg = uptrkv_alloc__page_order(size, i);
		if (pg == UPTRKV_ENT_PAGE(*ent))
			break;
		if (!(avoid & (1u << pg)) && (!m->no_run[pg] || units < m->no_run[pg]))
			m->no_run[pg] = units;
	}
	return 0;
}

static int place(struct uptrkv_mig *m, struct uptrkv_alloc *a, __u32 id, const void *bytes,
		 __u32 size, __u32 *ent, struct uptrkv_error *e)
{
	long off;
	int err;

	err = alloc(m, a, size, ent);
	if (err)
		return uptrkv_err(e, -ENOSPC,
				  "thread %u: no space for key %u (%u bytes) beside the live layout; "
				  "%u bytes free, largest hole %u: the application must reserve more "
				  "(uptrkv_thread__reserve)", m->tid, id, size,
				  uptrkv_alloc__free_bytes(a), uptrkv_alloc__largest(a));
	off = buf_add(m, bytes, size);
	if (off < 0)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	m->meta.ent[id] = *ent;
	return add_copy(m, UPTRKV_R_DATA(UPTRKV_ENT_PAGE(*ent)), UPTRKV_ENT_OFF(*ent), off, size);
}

/* The plan's conversion as a forwarded entry carries it. */
enum uptrkv_ent_conv uptrkv_mig__ent_conv(enum uptrkv_conv conv)
{
	switch (conv) {
	case UPTRKV_CONV_STRING: return UPTRKV_ENT_CONV_STRING;
	case UPTRKV_CONV_SINT: return UPTRKV_ENT_CONV_SEXT;
	case UPTRKV_CONV_UINT: return UPTRKV_ENT_CONV_UINT;
	default: return UPTRKV_ENT_CONV_PREFIX;
	}
}

/*
 * The new extent gets zeros, not the snapshot's value: the move writes
 * the whole value of an integer widening and the copied prefix (and a
 * truncated string's NUL) of any other, and leaves the rest as the
 * extent holds it, which must be zero. A reader never sees the extent
 * before the move, as the entry is forwarded. So a build depends on
 * where the values are, never on what they are, and stores laid out
 * alike share one (struct uptrkv_mig_cache). The conversion is still
 * tried, on zeros: it fails on sizes alone, so a plan that asks for an
 * impossible one is refused here as before.
 */
static int do_copy(struct uptrkv_mig *m, struct uptrkv_alloc *a, const struct uptrkv_plan_entry *pe,
		   const struct uptrkv_snapshot *s, struct uptrkv_error *e)
{
	static const __u8 zeros[UPTRKV_MAX_VALUE];
	__u32 id = pe->id, old_size, ent;
	__u8 val[UPTRKV_MAX_VALUE];
	const void *old;
	int err;

	if (uptrkv_snapshot__value(s, m->from, id, &old, &old_size))
		return 1;	/* not in this store: initialise instead */
	if (uptrkv_convert_value(val, pe->new->size, zeros, old_size, pe->conv))
		return uptrkv_err(e, -EINVAL, "key %u: cannot convert %u bytes to %u (%s)", id,
				  old_size, pe->new->size, uptrkv_conv__str(pe->conv));
	err = place(m, a, id, zeros, pe->new->size, &ent, e);
	if (err)
		return err;
	m->meta.ent[id] = UPTRKV_ENT_FORWARD(ent, uptrkv_mig__ent_conv(pe->conv));
	m->nr_copy++;
	return add_move(m, id, e);
}

/*
 * A kept value of at most 8 bytes that lives outside data page 0 goes home
 * when page 0 has room: only there does a BPF get take its fast path
 * (docs/store.md). Such a value was placed out there while page 0 was full,
 * or while both layouts of an earlier rollout owned space. It is moved as
 * a resized key is: forwarded, with the same size, so the move copies every
 * byte and the new extent needs no write of its own. 1 if it goes home.
 */
static int go_home(struct uptrkv_mig *m, struct uptrkv_alloc *a, __u32 id, __u32 old_ent,
		   struct uptrkv_error *e)
{
	__u32 size = UPTRKV_ENT_SIZE(old_ent), units = (size + UPTRKV_ALIGN - 1) / UPTRKV_ALIGN;
	__u32 ent;

	if (!UPTRKV_ENT_PAGE(old_ent) || size > UPTRKV_SMALL_MAX ||
	    (old_ent & UPTRKV_ENT_FLAGS_MASK) || !(a->page_mask & 1u) ||
	    (m->no_run[0] && units >= m->no_run[0]))
		return 0;
	if (uptrkv_alloc__alloc_avoid(a, size, ~1u, &ent)) {
		m->no_run[0] = (__u16)units;
		return 0;
	}
	m->meta.ent[id] = UPTRKV_ENT_FORWARD(ent, UPTRKV_ENT_CONV_PREFIX);
	m->nr_home++;
	return add_move(m, id, e) ?: 1;
}

static int migrate_key(struct uptrkv_mig *m, struct uptrkv_alloc *a, const struct uptrkv_plan_entry *pe,
		       const struct uptrkv_snapshot *s, struct uptrkv_error *e)
{
	__u32 old_ent = s->meta[m->from].ent[pe->id], ent;
	int ret;

	switch (pe->action) {
	case UPTRKV_ACT_KEEP:
		if (!UPTRKV_ENT_IS_VALID(old_ent)) {
			/* Deleted in this store: stays deleted. */
			m->nr_missing++;
			return 0;
		}
		m->nr_keep++;
		ret = go_home(m, a, pe->id, old_ent, e);
		if (!ret)
			m->meta.ent[pe->id] = old_ent;
		return ret < 0 ? ret : 0;
	case UPTRKV_ACT_DROP:
		m->nr_drop += UPTRKV_ENT_IS_VALID(old_ent);
		return 0;
	case UPTRKV_ACT_COPY:
		ret = do_copy(m, a, pe, s, e);
		if (ret <= 0)
			return ret;
		/* The key was missing: give it its default. */
		__attribute__((fallthrough));
	case UPTRKV_ACT_INIT:
		m->nr_init++;
		return place(m, a, pe->id, pe->new->def, pe->new->size, &ent, e);
	}
	return uptrkv_err(e, -EINVAL, "bad plan action %d", pe->action);
}

/* Keys the store has that neither manifest names: the app's own. */
static void keep_unplanned(struct uptrkv_mig *m, const struct uptrkv_plan *p,
			   const struct uptrkv_snapshot *s)
{
	size_t j = 0;

	for (__u32 id = 0; id < UPTRKV_MAX_KEYS; id++) {
		while (j < p->n && p->v[j].id < id)
			j++;
		if (j < p->n && p->v[j].id == id)
			continue;
		if (UPTRKV_ENT_IS_VALID(s->meta[m->from].ent[id])) {
			m->meta.ent[id] = s->meta[m->from].ent[id];
			m->nr_keep++;
		}
	}
}

static int finish(struct uptrkv_mig *m, __u32 hash, __u32 gen, struct uptrkv_error *e)
{
	long off = buf_add(m, &m->meta, sizeof(m->meta));
	int err;

	if (off < 0)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	err = add_copy(m, UPTRKV_R_META(m->to), 0, off, sizeof(m->meta));
	err = err ?: add_store32(m, UPTRKV_R_HDR, offsetof(struct uptrkv_hdr, meta_gen[m->to]), gen);
	/* Last: the slot counts as live (owns space) only from here on. */
	err = err ?: add_store32(m, UPTRKV_R_HDR, offsetof(struct uptrkv_hdr, layout_hash[m->to]), hash);
	if (err)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nr_w; i++)
		if (m->w[i].op == UPTRKV_W_COPY)
			m->w[i].src = (__u64)(unsigned long)(m->buf + m->w[i].src);
	return 0;
}

/*
 * The entries of one meta never overlap, so what they leave free is the
 * registered pages less their extents, as uptrkv_alloc__mark would count
 * them: no bitmap to build once more per store.
 */
static __u32 free_after(const struct uptrkv_mig *m, const struct uptrkv_snapshot *s)
{
	__u32 mask = s->hdr.page_mask & ((1u << UPTRKV_MAX_PAGES) - 1), used = 0;

	for (__u32 id = 0; id < UPTRKV_MAX_KEYS; id++) {
		__u32 ent = m->meta.ent[id], size = UPTRKV_ENT_SIZE(ent);

		if (!UPTRKV_ENT_IS_VALID(ent) || (ent & UPTRKV_ENT_RSVD_MASK) || size < 1 ||
		    size > UPTRKV_MAX_VALUE || UPTRKV_ENT_OFF(ent) + size > UPTRKV_PAGE_SIZE ||
		    !(mask & (1u << UPTRKV_ENT_PAGE(ent))))
			continue;
		used += (size + UPTRKV_ALIGN - 1) / UPTRKV_ALIGN * UPTRKV_ALIGN;
	}
	return (__u32)__builtin_popcount(mask) * UPTRKV_PAGE_SIZE - used;
}

int uptrkv_mig__build(const struct uptrkv_plan *p, const struct uptrkv_snapshot *s,
		      __u32 from, __u32 to, __u32 gen, struct uptrkv_mig *m,
		      struct uptrkv_error *e)
{
	struct uptrkv_alloc a;
	int err;

	memset(m, 0, sizeof(*m));
	m->tid = s->tid;
	m->from = from;
	m->to = to;
	err = uptrkv_snapshot__check(s, e);
	if (err)
		goto out;
	uptrkv_alloc__init(&a, s->hdr.page_mask);
	err = uptrkv_alloc__mark_meta(&a, &s->meta[from]);
	if (err) {
		uptrkv_err(e, err, "thread %u: meta slot %u is corrupt", m->tid, from);
		goto out;
	}
	for (size_t i = 0; !err && i < p->n; i++)
		err = migrate_key(m, &a, &p->v[i], s, e);
	if (err)
		goto out;
	keep_unplanned(m, p, s);
	err = finish(m, p->new_hash, gen, e);
	m->bytes_free_after = free_after(m, s);
out:
	/* Nothing half built is handed back. */
	if (err)
		uptrkv_mig__free(m);
	return err;
}

/* ---- builds shared between stores laid out alike ---- */

/*
 * Everything a build reads from a snapshot but the tid: the header words
 * uptrkv_snapshot__check and the allocator look at, which regions are
 * there (a value on a page that is not counts as missing), and the live
 * meta. Two stores with equal keys get equal writes, so the second uses
 * the first's build. The tid only names the thread in an error, and a
 * build that failed is never shared: each store that fails fails on its
 * own build, with its own tid.
 */
struct mig_key {
	__u32 magic;
	__u32 format;
	__u32 page_mask;
	__u32 present;
	struct uptrkv_meta meta;	/* slot `from` */
} __attribute__((aligned(8)));	/* hashed as 64-bit words */

struct mig_entry {
	struct mig_entry *next;		/* in the same bucket */
	__u64 hash;
	struct mig_key key;
	struct uptrkv_mig m;
};

#define MIG_BUCKETS 1024u

struct uptrkv_mig_cache {
	const struct uptrkv_plan *p;
	__u32 from, to, gen;
	size_t n;
	struct mig_key key;		/* scratch: the store being looked up */
	struct mig_entry *bucket[MIG_BUCKETS];
};

int uptrkv_mig_cache__new(const struct uptrkv_plan *p, __u32 from, __u32 to, __u32 gen,
			  struct uptrkv_mig_cache **out)
{
	struct uptrkv_mig_cache *c = calloc(1, sizeof(*c));

	*out = c;
	if (!c)
		return -ENOMEM;
	c->p = p;
	c->from = from;
	c->to = to;
	c->gen = gen;
	return 0;
}

static void key_of(struct mig_key *k, const struct uptrkv_snapshot *s, __u32 from)
{
	k->magic = s->hdr.magic;
	k->format = s->hdr.format;
	k->page_mask = s->hdr.page_mask;
	k->present = s->present;
	memcpy(&k->meta, &s->meta[from], sizeof(k->meta));
}

/* Only to find candidates: a match is confirmed byte for byte. */
static __u64 key_hash(const struct mig_key *k)
{
	const __u64 *w = (const void *)k;
	__u64 h = 0x9e3779b97f4a7c15ull;

	_Static_assert(sizeof(*k) % sizeof(*w) == 0, "key is whole words");
	for (size_t i = 0; i < sizeof(*k) / sizeof(*w); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

int uptrkv_mig_cache__get(struct uptrkv_mig_cache *c, const struct uptrkv_snapshot *s,
			  const struct uptrkv_mig **out, struct uptrkv_error *e)
{
	struct mig_entry *me, **b;
	__u64 h;
	int err;

	*out = NULL;
	if (c->from >= UPTRKV_NR_SLOTS)
		return uptrkv_err(e, -EINVAL, "bad meta slot %u", c->from);
	key_of(&c->key, s, c->from);
	h = key_hash(&c->key);
	b = &c->bucket[h % MIG_BUCKETS];
	for (me = *b; me; me = me->next) {
		if (me->hash == h && !memcmp(&me->key, &c->key, sizeof(c->key))) {
			*out = &me->m;
			return 0;
		}
	}
	me = malloc(sizeof(*me));
	if (!me)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	err = uptrkv_mig__build(c->p, s, c->from, c->to, c->gen, &me->m, e);
	if (err) {
		free(me);
		return err;
	}
	me->hash = h;
	memcpy(&me->key, &c->key, sizeof(me->key));
	me->next = *b;
	*b = me;
	c->n++;
	*out = &me->m;
	return 0;
}

size_t uptrkv_mig_cache__count(const struct uptrkv_mig_cache *c)
{
	return c ? c->n : 0;
}

void uptrkv_mig_cache__free(struct uptrkv_mig_cache *c)
{
	if (!c)
		return;
	for (__u32 i = 0; i < MIG_BUCKETS; i++) {
		struct mig_entry *me = c->bucket[i], *next;

		for (; me; me = next) {
			next = me->next;
			uptrkv_mig__free(&me->m);
			free(me);
		}
	}
	free(c);
}

size_t uptrkv_mig__pending_moves(const struct uptrkv_snapshot *s, __u32 slot, __u32 ids[UPTRKV_MAX_KEYS])
{
	size_t n = 0;

	if (slot >= UPTRKV_NR_SLOTS || !(s->present & UPTRKV_R_BIT(UPTRKV_R_META(slot))))
		return 0;
	for (__u32 id = 0; id < UPTRKV_MAX_KEYS; id++) {
		__u32 ent = s->meta[slot].ent[id];

		if (!UPTRKV_ENT_IS_VALID(ent) || !UPTRKV_ENT_IS_FWD(ent))
			continue;
		if (ids)
			ids[n] = id;
		n++;
	}
	return n;
}

void uptrkv_mig__free(struct uptrkv_mig *m)
{
	free(m->w);
	free(m->buf);
	free(m->moves);
	memset(m, 0, sizeof(*m));
}

/*
 * A slot is retired by its layout hash alone: from then on it owns no
 * space, and the next rollout into it rewrites the whole meta page. Its
 * entries are left as they were on purpose: an application thread that
 * read ctl.gen just before the switch may still look a key up there, and
 * must find the same extent as in the live slot, not a hole.
 */
size_t uptrkv_mig__retire_writes(__u32 slot, struct uptrkv_write w[1])
{
	w[0] = uptrkv_write__store32(UPTRKV_R_HDR, offsetof(struct uptrkv_hdr, layout_hash[slot]), 0);
	return 1;
}
