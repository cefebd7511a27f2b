// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Applications of a deployment. A thread registers with the keys of the
 * layout that is live, read from the deployment's key record
 * (lib/keyrec.h) under the deployment's shared lock, so no rollout can
 * switch in between and nothing is parsed. Part of the app runtime
 * (libuptrkv-app): nothing here may reach the manifest parser or the
 * rollout engine (docs/design.md, "The app runtime").
 */
#include <stdlib.h>
#include "deploy_internal.h"

struct uptrkv_app {
	struct uptrkv_store *store;
};

int uptrkv_app__open(const char *bpffs, const char *name, struct uptrkv_app **out,
		     struct uptrkv_error *e)
{
	UPTRKV_OPTS(uptrkv_store_opts, so);
	struct uptrkv_app *a;
	char dir[PATH_MAX];
	int err;

	*out = NULL;
	if (!uptrkv_deploy_name_ok(name))
		return uptrkv_err(e, -EINVAL, "deployment '%s': name must match [a-z0-9_-]{1,32}",
				  name ? name : "");
	if (uptrkv_deploy_dir(dir, sizeof(dir), bpffs ? bpffs : UPTRKV_DEFAULT_BPFFS, name))
		return uptrkv_err(e, -ENAMETOOLONG, "deployment %s: bpffs path too long", name);
	a = calloc(1, sizeof(*a));
	if (!a)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	so.deploy_dir = dir;
	err = uptrkv_store__open(NULL, &so, &a->store, e);
	if (err) {
		free(a);
		return err;
	}
	*out = a;
	return 0;
}

void uptrkv_app__close(struct uptrkv_app *a)
{
	if (!a)
		return;
	uptrkv_store__close(a->store);
	free(a);
}

struct uptrkv_store *uptrkv_app__store(struct uptrkv_app *a)
{
	return a->store;
}

int uptrkv_app__register(struct uptrkv_app *a, const struct uptrkv_app_thread_opts *opts,
			 struct uptrkv_thread **out, struct uptrkv_error *e)
{
	if (!UPTRKV_OPTS_VALID(opts, uptrkv_app_thread_opts, reserve_bytes)) {
		*out = NULL;
		return uptrkv_err(e, -EINVAL, "register thread: bad opts (sz %zu; fields unknown to this libuptrkv set)",
				  opts->sz);
	}
	return uptrkv_store__register_live(a->store, UPTRKV_OPTS_GET(opts, reserve_bytes, 0), out, e);
}
