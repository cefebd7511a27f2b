// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Creates a deployment for the dump tests without the rollout engine:
 *
 *   dump_mkdeploy BPFFS MANIFEST [GEN]
 *
 * The folder, ctl, state and sync maps come from uptrkv_deploy__create; the
 * store map from tests/bpf/test_dump.bpf.c, pinned as the deployment's store; the
 * manifest is recorded in slot UPTRKV_SLOT(GEN) and ctl gets its layout, so
 * uptrkv_store__open(deploy_dir) registers threads in that slot.
 */
#include <stdio.h>
#include <bpf/libbpf.h>
#include "deploy_internal.h"
#include "test_dump.skel.h"

int main(int argc, char **argv)
{
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags diags = {};
	struct uptrkv_error e = {};
	struct uptrkv_deploy *d = NULL;
	struct test_dump *skel = NULL;
	char path[PATH_MAX + 16];
	__u32 gen, slot;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s BPFFS MANIFEST [GEN]\n", argv[0]);
		return 2;
	}
	gen = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	slot = UPTRKV_SLOT(gen);
	err = uptrkv_manifest__load(argv[2], NULL, &m, &diags);
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[2], diags.n ? diags.v[0].msg : strerror(-err));
		goto out;
	}
	err = uptrkv_deploy__create(argv[1], m->name, &d, &e);
	if (err)
		goto out_e;
	skel = test_dump__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "load test_dump: %s\n", strerror(-err));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", d->dir, UPTRKV_PIN_STORE);
	err = bpf_map__pin(skel->maps.uptrkv_store, path);
	if (err) {
		fprintf(stderr, "pin %s: %s\n", path, strerror(-err));
		goto out;
	}
	err = uptrkv_deploy__record(d, slot, m, NULL, 0, &e);
	if (err)
		goto out_e;
	d->ctl->layout_hash[slot] = m->layout_hash;
	d->ctl->version[slot] = m->version;
	d->ctl->gen = gen;
	printf("%s\n", d->dir);
	goto out;
out_e:
	fprintf(stderr, "%s\n", e.msg);
out:
	test_dump__destroy(skel);
	uptrkv_deploy__close(d);
	uptrkv_manifest__free(m);
	uptrkv_diags__free(&diags);
	return err ? 1 : 0;
}
