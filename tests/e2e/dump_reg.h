/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal app-side registration for the admin and dump tests, written
 * straight from bpf/uptrkv_layout.h so that these tests do not depend on
 * lib/store.c: page-aligned anonymous pages, a thread pidfd as the key,
 * BPF_NOEXIST. Values are bump-allocated, 8-byte aligned, never freed.
 */
#ifndef __DUMP_REG_H
#define __DUMP_REG_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "uptrkv_tool.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct treg {
	struct uptrkv_hdr *hdr;
	struct uptrkv_meta *meta[UPTRKV_NR_SLOTS];
	struct uptrkv_page *data[UPTRKV_MAX_PAGES];
	unsigned int npages;
	unsigned int next_page, next_off;	/* bump allocator */
	int pidfd;
};

static inline void *treg_page(void)
{
	void *p = mmap(NULL, UPTRKV_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Registers the calling thread with npages data pages and both meta slots.
 * magic/format let tests build foreign stores. Returns 0 or -errno. */
static inline int treg_register(struct treg *t, int map_fd, unsigned int npages,
				__u32 magic, __u16 format)
{
	struct uptrkv_task_store v = {};
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->npages = npages;
	t->hdr = treg_page();
	for (i = 0; i < UPTRKV_NR_SLOTS; i++)
		t->meta[i] = treg_page();
	for (i = 0; i < npages; i++)
		t->data[i] = treg_page();
	if (!t->hdr || !t->meta[0] || !t->meta[1])
		return -ENOMEM;
	t->hdr->magic = magic;
	t->hdr->format = format;
	t->hdr->owner_tid = syscall(SYS_gettid);
	t->hdr->page_mask = (1u << npages) - 1;
	t->hdr->layout_hash[0] = 1;
	v.hdr = t->hdr;
	v.meta[0] = t->meta[0];
	v.meta[1] = t->meta[1];
	for (i = 0; i < npages; i++)
		v.data[i] = t->data[i];
	t->pidfd = syscall(SYS_pidfd_open, syscall(SYS_gettid), PIDFD_THREAD);
	if (t->pidfd < 0)
		return -errno;
	if (bpf_map_update_elem(map_fd, &t->pidfd, &v, BPF_NOEXIST))
		return -errno;
	return 0;
}

static inline void treg_unregister(struct treg *t, int map_fd)
{
	unsigned int i;

	bpf_map_delete_elem(map_fd, &t->pidfd);
	close(t->pidfd);
	munmap(t->hdr, UPTRKV_PAGE_SIZE);
	for (i = 0; i < UPTRKV_NR_SLOTS; i++)
		munmap(t->meta[i], UPTRKV_PAGE_SIZE);
	for (i = 0; i < t->npages; i++)
		munmap(t->data[i], UPTRKV_PAGE_SIZE);
}

/* Creates key with size bytes from val in slot; returns 0 or -ENOSPC. */
static inline int treg_put(struct treg *t, unsigned int slot, __u32 key, const void *val,
			   __u32 size)
{
	__u32 sz = uptrkv_alloc_size(size);

	if (t->next_off + sz > UPTRKV_PAGE_SIZE) {
		t->next_page++;
		t->next_off = 0;
	}
	if (t->next_page >= t->npages)
		return -ENOSPC;
	memcpy(t->data[t->next_page]->bytes + t->next_off, val, size);
	__atomic_store_n(&t->meta[slot]->ent[key], UPTRKV_ENT(t->next_page, t->next_off, size),
			 __ATOMIC_RELEASE);
	__atomic_fetch_add(&t->hdr->struct_seq, 1, __ATOMIC_RELEASE);
	t->next_off += sz;
	return 0;
}

/* Pointer to key's value in slot, or NULL. */
static inline void *treg_ptr(struct treg *t, unsigned int slot, __u32 key)
{
	__u32 e = t->meta[slot]->ent[key];

	if (!UPTRKV_ENT_IS_VALID(e))
		return NULL;
	return t->data[UPTRKV_ENT_PAGE(e)]->bytes + UPTRKV_ENT_OFF(e);
}

#endif
