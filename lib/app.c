// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Applications of a deployment. A thread registers with the keys of the
 * layout that is live; the store code checks, under the deployment's
 * shared lock, that this layout is still the live one (-ESTALE if a rollout
 * switched in between), so we read the layout again and retry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "deploy_internal.h"

#define REGISTER_TRIES 16

struct uptrkv_app {
	struct uptrkv_deploy *d;
	struct uptrkv_store *store;
};

int uptrkv_app__open(const char *bpffs, const char *name, struct uptrkv_app **out,
		     struct uptrkv_error *e)
{
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_app *a;
	char path[PATH_MAX];
	int err;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	err = uptrkv_deploy__open(bpffs ? bpffs : UPTRKV_DEFAULT_BPFFS, name, &a->d, e);
	if (err)
		goto err;
	uptrkv_pin_path(path, sizeof(path), a->d->dir, "%s", UPTRKV_PIN_STORE);
	so.deploy_dir = a->d->dir;
	err = uptrkv_store__open(path, &so, &a->store, e);
	if (err)
		goto err;
	*out = a;
	return 0;
err:
	uptrkv_app__close(a);
	return err;
}

void uptrkv_app__close(struct uptrkv_app *a)
{
	if (!a)
		return;
	uptrkv_store__close(a->store);
	uptrkv_deploy__close(a->d);
	free(a);
}

struct uptrkv_store *uptrkv_app__store(struct uptrkv_app *a)
{
	return a->store;
}

static int register_once(struct uptrkv_app *a, __u32 reserve, struct uptrkv_thread **out,
			 struct uptrkv_error *e)
{
	UPTRKV_OPTS(uptrkv_thread_opts, to);
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_init_key *keys = NULL;
	__u64 need = 0;
	int err;

	err = uptrkv_deploy__manifest(a->d, -1, &m, e);
	if (err)
		return err;
	keys = calloc(m->nr_keys ? m->nr_keys : 1, sizeof(*keys));
	if (!keys) {
		err = uptrkv_err(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m->nr_keys; i++) {
		keys[i].id = m->keys[i].id;
		keys[i].size = m->keys[i].size;
		keys[i].def = m->keys[i].def;
		keys[i].type = m->keys[i].type;
		need += uptrkv_alloc_size(m->keys[i].size);
	}
	if (!reserve) {
		/* Room for the next layout beside this one; at least a page. */
		need = need * 2 < UPTRKV_PAGE_SIZE ? UPTRKV_PAGE_SIZE : need * 2;
		reserve = need > UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE ?
			  UPTRKV_MAX_PAGES * UPTRKV_PAGE_SIZE : need;
	}
	to.keys = keys;
	to.nr_keys = m->nr_keys;
	to.layout_hash = m->layout_hash;
	to.reserve_bytes = reserve;
	err = uptrkv_thread__register(a->store, &to, out, e);
out:
	free(keys);
	uptrkv_manifest__free(m);
	return err;
}

int uptrkv_app__register(struct uptrkv_app *a, const struct uptrkv_app_thread_opts *opts,
			 struct uptrkv_thread **out, struct uptrkv_error *e)
{
	__u32 reserve = UPTRKV_OPTS_GET(opts, reserve_bytes, 0);
	int err = -ESTALE;

	*out = NULL;
	for (int i = 0; i < REGISTER_TRIES && err == -ESTALE; i++)
		err = register_once(a, reserve, out, e);
	return err;
}
