// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * End-to-end bad input for the store: maps that are not uptrkv stores, bad
 * keys and sizes, double registration, a store of another layout, an
 * unregistered thread, a store whose header magic is wrong. Each gets a
 * clear error (user space) or is refused (BPF), and nothing is changed.
 *   store_bad BPFFS_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "uptrkv.h"
#include "test_store_bad.skel.h"
#include "check.h"

#define LAYOUT 0xabcd1234u
#define MAGIC_V 0xdeadbeefcafef00dull

static struct test_store_bad *skel;
static struct uptrkv_store *store;

static void trigger(void)
{
	syscall(SYS_getppid);
}

static void *registered(void *arg)
{
	struct uptrkv_init_key keys[] = { { 1, 8, NULL }, { 2, 100, NULL } };
	UPTRKV_OPTS(uptrkv_thread_opts, o, .keys = keys, .nr_keys = 2, .layout_hash = LAYOUT);
	struct uptrkv_error err = {};
	struct uptrkv_thread *t, *t2;
	unsigned char big[4097] = {};
	__u64 v = 42, got;
	__u32 free0;
	int r;

	(void)arg;
	r = uptrkv_thread__register(store, &o, &t, &err);
	CHECK(r == 0, "register: %s", err.msg);
	if (r)
		return NULL;
	CHECK(uptrkv_thread__put(t, 1, &v, 8) == 0, "put");
	free0 = uptrkv_thread__free_bytes(t);

	CHECK(uptrkv_thread__put(t, 1024, &v, 8) == -EINVAL, "key 1024");
	CHECK(uptrkv_thread__get(t, 1024, &got, 8) == -EINVAL, "get key 1024");
	CHECK(uptrkv_thread__delete(t, 5000) == -EINVAL, "delete key 5000");
	CHECK(uptrkv_thread__put(t, 3, big, 0) == -EINVAL, "size 0");
	CHECK(uptrkv_thread__put(t, 3, big, 4097) == -EINVAL, "size 4097");
	CHECK(uptrkv_thread__put(t, 1, big, 16) == -EMSGSIZE, "resize by put");
	CHECK(uptrkv_thread__get(t, 2, big, 99) == -EMSGSIZE, "small buffer");
	CHECK(uptrkv_thread__get(t, 3, big, 8) == -ENOENT, "missing key");
	CHECK(uptrkv_thread__delete(t, 3) == -ENOENT, "delete missing key");
	CHECK(uptrkv_thread__put(t, 1, NULL, 8) == -EINVAL, "NULL buffer");
	CHECK(uptrkv_thread__reserve(t, 40000) == -ENOSPC, "reserve 40000");

	/* A second registration of the same thread. */
	memset(&err, 0, sizeof(err));
	r = uptrkv_thread__register(store, &o, &t2, &err);
	CHECK(r == -EEXIST && strstr(err.msg, "already has a store"), "r=%d msg=%s", r, err.msg);
	printf("double register: %s\n", err.msg);
	{
		struct uptrkv_init_key bad[][2] = {
			{ { 1024, 8, NULL } }, { { 3, 0, NULL } }, { { 3, 4097, NULL } },
			{ { 3, 8, NULL }, { 3, 8, NULL } },
		};
		size_t nr[] = { 1, 1, 1, 2 };

		for (size_t i = 0; i < 4; i++) {
			UPTRKV_OPTS(uptrkv_thread_opts, bo, .keys = bad[i], .nr_keys = nr[i]);

			memset(&err, 0, sizeof(err));
			r = uptrkv_thread__register(store, &bo, &t2, &err);
			CHECK(r == -EINVAL && t2 == NULL, "bad key set %zu: r=%d", i, r);
			printf("bad key set %zu: %s\n", i, err.msg);
		}
		UPTRKV_OPTS(uptrkv_thread_opts, so, .slot = 2);
		CHECK(uptrkv_thread__register(store, &so, &t2, &err) == -EINVAL, "slot 2");
		UPTRKV_OPTS(uptrkv_thread_opts, s1, .slot = 1);
		CHECK(uptrkv_thread__register(store, &s1, &t2, &err) == -EINVAL, "slot 1 without hash");
		UPTRKV_OPTS(uptrkv_thread_opts, ro, .reserve_bytes = 40000);
		CHECK(uptrkv_thread__register(store, &ro, &t2, &err) == -ENOSPC, "reserve 40000");
		/* opts from a newer header with a newer field set, and opts
		 * whose sz does not even cover sz: refused, not ignored. */
		{
			struct { struct uptrkv_thread_opts o; __u64 newer; } big_o = {};
			struct uptrkv_thread_opts tiny = { .sz = 4 };

			big_o.o.sz = sizeof(big_o);
			big_o.newer = 1;
			r = uptrkv_thread__register(store, &big_o.o, &t2, &err);
			CHECK(r == -EINVAL && t2 == NULL, "newer opts field set: r=%d", r);
			printf("newer opts: %s\n", err.msg);
			big_o.newer = 0;
			big_o.o.reserve_bytes = 40000;
			r = uptrkv_thread__register(store, &big_o.o, &t2, &err);
			CHECK(r == -ENOSPC, "newer opts, zero: read as ours: r=%d", r);
			CHECK(uptrkv_thread__register(store, &tiny, &t2, &err) == -EINVAL, "opts sz 4");
		}
	}
	/* Nothing changed. */
	CHECK(uptrkv_thread__get(t, 1, &got, 8) == 8 && got == 42, "value changed: %llu",
	      (unsigned long long)got);
	CHECK(uptrkv_thread__free_bytes(t) == free0, "free bytes changed");

	/* BPF accepts this store (same layout hash) and writes key 1. */
	trigger();
	CHECK(uptrkv_thread__get(t, 1, &got, 8) == 8 && got == MAGIC_V, "BPF did not write: %llx ret %d",
	      (unsigned long long)got, skel->bss->put_ret);
	uptrkv_thread__unregister(t);
	return NULL;
}

/* A store of another layout: BPF must refuse it and write nothing. */
static void *other_layout(void *arg)
{
	struct uptrkv_init_key keys[] = { { 1, 8, NULL } };
	UPTRKV_OPTS(uptrkv_thread_opts, o, .keys = keys, .nr_keys = 1, .layout_hash = LAYOUT + 1);
	struct uptrkv_error err = {};
	struct uptrkv_thread *t;
	__u64 got = 1;

	(void)arg;
	if (uptrkv_thread__register(store, &o, &t, &err)) {
		CHECK(0, "register: %s", err.msg);
		return NULL;
	}
	trigger();
	CHECK(uptrkv_thread__get(t, 1, &got, 8) == 8 && got == 0, "other layout written: %llx",
	      (unsigned long long)got);
	uptrkv_thread__unregister(t);
	return NULL;
}

static void *unregistered(void *arg)
{
	(void)arg;
	trigger();
	return NULL;
}

/* An element registered by hand with a wrong magic. */
static void *bad_magic(void *arg)
{
	struct uptrkv_task_store v = {};
	char *mem, copy[3 * 4096];
	int pidfd, map_fd = bpf_map__fd(skel->maps.uptrkv_store);
	struct uptrkv_hdr *h;
	struct uptrkv_meta *m;

	(void)arg;
	mem = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		CHECK(0, "mmap");
		return NULL;
	}
	memset(mem, 0, 4 * 4096);
	h = (void *)mem;
	m = (void *)(mem + 4096);
	h->magic = UPTRKV_MAGIC ^ 1;
	h->format = UPTRKV_FORMAT;
	h->layout_hash[0] = LAYOUT;
	h->page_mask = 1;
	m->ent[1] = UPTRKV_ENT(0, 0, 8);
	memcpy(copy, mem + 4096, sizeof(copy));
	v.hdr = h;
	v.meta[0] = m;
	v.meta[1] = (void *)(mem + 2 * 4096);
	v.data[0] = (void *)(mem + 3 * 4096);
	pidfd = (int)syscall(SYS_pidfd_open, gettid(), O_EXCL /* PIDFD_THREAD */);
	CHECK(pidfd >= 0, "pidfd_open");
	CHECK(bpf_map_update_elem(map_fd, &pidfd, &v, BPF_NOEXIST) == 0, "raw register: %d", errno);
	trigger();
	CHECK(!memcmp(copy, mem + 4096, sizeof(copy)), "bad-magic store was written");
	bpf_map_delete_elem(map_fd, &pidfd);
	close(pidfd);
	munmap(mem, 4 * 4096);
	return NULL;
}

static void run(void *(*fn)(void *))
{
	pthread_t th;

	pthread_create(&th, NULL, fn, NULL);
	pthread_join(th, NULL);
}

int main(int argc, char **argv)
{
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_error err = {};
	struct uptrkv_store *s2;
	char path[4096];
	__u64 opened, refused;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BPFFS_DIR\n", argv[0]);
		return 2;
	}
	skel = test_store_bad__open();
	if (!skel)
		return fprintf(stderr, "open skeleton failed\n"), 1;
	skel->rodata->target_tgid = getpid();
	skel->rodata->uptrkv_layout_hash = LAYOUT;
	if (test_store_bad__load(skel) || test_store_bad__attach(skel))
		return fprintf(stderr, "load/attach failed\n"), 1;

	/* Maps that are not uptrkv stores. */
	struct { struct bpf_map *m; const char *what; } bad[] = {
		{ skel->maps.other_store, "value type/size" },
		{ skel->maps.fake_store, "same size, other type" },
		{ skel->maps.not_store, "hash map" },
	};
	for (size_t i = 0; i < 3; i++) {
		memset(&err, 0, sizeof(err));
		r = uptrkv_store__open_fd(bpf_map__fd(bad[i].m), &so, &s2, &err);
		CHECK(r == -EINVAL && !s2 && strstr(err.msg, "not a uptrkv store"), "%s: r=%d %s",
		      bad[i].what, r, err.msg);
		printf("%s: %s\n", bad[i].what, err.msg);
	}
	snprintf(path, sizeof(path), "%s/nothing-here", argv[1]);
	r = uptrkv_store__open(path, &so, &s2, &err);
	CHECK(r == -ENOENT, "missing pin: %d", r);
	printf("missing pin: %s\n", err.msg);
	CHECK(uptrkv_store__open_fd(-1, &so, &s2, &err) == -EBADF, "fd -1");
	{
		UPTRKV_OPTS(uptrkv_store_opts, dso, .deploy_dir = argv[1]);

		r = uptrkv_store__open_fd(bpf_map__fd(skel->maps.uptrkv_store), &dso, &s2, &err);
		CHECK(r == -ENOENT, "deployment without ctl: %d", r);
		printf("deployment without ctl: %s\n", err.msg);
	}

	r = uptrkv_store__open_fd(bpf_map__fd(skel->maps.uptrkv_store), &so, &store, &err);
	if (r)
		return fprintf(stderr, "store open: %s\n", err.msg), 1;

	run(registered);
	opened = skel->bss->opened;
	refused = skel->bss->refused;
	CHECK(opened == 1 && refused == 0, "opened %llu refused %llu", (unsigned long long)opened,
	      (unsigned long long)refused);
	run(other_layout);
	CHECK(skel->bss->opened == opened && skel->bss->refused == refused + 1, "other layout accepted");
	run(unregistered);
	CHECK(skel->bss->opened == opened && skel->bss->refused == refused + 2, "unregistered accepted");
	run(bad_magic);
	CHECK(skel->bss->opened == opened && skel->bss->refused == refused + 3, "bad magic accepted");
	printf("BPF: opened %llu, refused %llu\n", (unsigned long long)skel->bss->opened,
	       (unsigned long long)skel->bss->refused);

	uptrkv_store__close(store);
	test_store_bad__destroy(skel);
	return check_summary("store_bad");
}
