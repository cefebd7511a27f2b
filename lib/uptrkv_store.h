/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The app-side store API. Included through uptrkv.h. The allocator it
 * uses is internal (lib/alloc.h). */
#ifndef __UPTRKV_STORE_H
#define __UPTRKV_STORE_H

#include "uptrkv_common.h"
#include "uptrkv_manifest.h"

/* ------------------------------------------------------------------ */
/* App-side store API (lib/store.c)                                     */
/* ------------------------------------------------------------------ */

struct uptrkv_store;	/* an opened store map, shared by the app's threads */
struct uptrkv_thread;	/* the calling thread's registration */

struct uptrkv_store_opts {
	size_t sz;
	/* Deployment directory (<bpffs>/uptrkv/<name>); when set, the store
	 * follows the deployment's generation and layout. */
	const char *deploy_dir;
};

int uptrkv_store__open(const char *map_path, const struct uptrkv_store_opts *opts,
		       struct uptrkv_store **out, struct uptrkv_error *e);
int uptrkv_store__open_fd(int map_fd, const struct uptrkv_store_opts *opts,
			  struct uptrkv_store **out, struct uptrkv_error *e);
void uptrkv_store__close(struct uptrkv_store *s);

struct uptrkv_init_key {
	__u32 id;
	__u32 size;
	const void *def;		/* NULL: zero */
	/* The key's type in the layout the thread is built for (0, bytes:
	 * unknown); a later layout that gives it another type makes get and
	 * put return -EPROTO. */
	enum uptrkv_type type;
};

struct uptrkv_thread_opts {
	size_t sz;
	__u32 reserve_bytes;		/* data bytes to register up front */
	const struct uptrkv_init_key *keys;	/* keys created at register */
	size_t nr_keys;
	__u32 layout_hash;		/* recorded in the header for those keys */
	__u32 slot;			/* meta slot the keys are written to
					 * (standalone; a deployed store uses
					 * the deployment's active slot) */
	bool replace;			/* replace an existing element of this
					 * thread (e.g. one kept across exec) */
};

/* Registers the calling thread's store (pidfd with PIDFD_THREAD). */
int uptrkv_thread__register(struct uptrkv_store *s, const struct uptrkv_thread_opts *opts,
			    struct uptrkv_thread **out, struct uptrkv_error *e);
/* Deletes the thread's element and frees its pages. Call from the thread. */
void uptrkv_thread__unregister(struct uptrkv_thread *t);
/*
 * Reads key into buf (size bytes, the size the caller was built for).
 * Returns the number of bytes copied: the value's size if it fits in buf,
 * or size if the value is a bytes or string key that grew since (the
 * prefix: what the old bytes meant, they still mean). Errors:
 *  -ENOENT   no such key in the live layout (never created, deleted, or
 *            removed by a rollout);
 *  -EPROTO   the live layout gives the key another type than the layout
 *            the thread registered with (a retype: the bytes mean
 *            something else; see uptrkv_thread__size and docs/store.md);
 *  -EMSGSIZE the value is larger than buf and is an integer or bool, or
 *            the deployment has no type table (deployed by an older uptrkv);
 *  -EAGAIN   the value kept changing under 10000 tries; -EINVAL bad
 *            arguments or a corrupt entry.
 *
 * get, put and delete return -ESTALE when the last rollout left this
 * thread's store out (rollout --skip-corrupt): register it again.
 */
int uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);
/* The exact-size get: no type check, no prefix; -EMSGSIZE unless the value
 * fits in buf; returns the value's size. */
int uptrkv_thread__get_exact(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);
/*
 * Writes size bytes to key and returns 0. An existing bytes or string key
 * larger than size gets its prefix written and keeps the rest. A missing
 * key is created with this size, unless the thread's layout had it and the
 * live one removed it (-ENOENT). Errors: -EPROTO (retyped, as for get),
 * -EMSGSIZE (size larger than the key, or an integer of another size),
 * -ENOSPC (no room for a new key), -EAGAIN, -EINVAL.
 */
int uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);
/* The exact-size put: -EMSGSIZE if the key exists with another size; no
 * type check; a missing key is always created. Returns 0. */
int uptrkv_thread__put_exact(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);
/* The key's size in the live layout, or -ENOENT (or -EINVAL). */
int uptrkv_thread__size(struct uptrkv_thread *t, __u32 key);
/* Deletes key: 0, or -ENOENT if it does not exist. */
int uptrkv_thread__delete(struct uptrkv_thread *t, __u32 key);
/* Makes sure at least bytes of data space are registered: 0 or -ENOSPC. */
int uptrkv_thread__reserve(struct uptrkv_thread *t, __u32 bytes);
__u32 uptrkv_thread__free_bytes(struct uptrkv_thread *t);


#endif
