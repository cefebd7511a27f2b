// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The deployment's key type table (pin "types"): per slot, one byte per key,
 * uptrkv_type + 1 (0: the layout has no such key). A rollout writes the
 * slot it fills before the switch; applications mmap it read-only, so an
 * app built for an older layout learns, with one byte load and no YAML,
 * that a key was removed or retyped (lib/store.c, docs/store.md).
 */
#include <bpf/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "deploy_internal.h"

/* The deployment's pinned mmapable array PIN (one entry of value_size per
 * index), created empty on first use: the types table and the key record. */
int uptrkv_deploy__pinned_array(struct uptrkv_deploy *d, const char *pin, const char *map_name,
				__u32 value_size, __u32 entries, struct uptrkv_error *e)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	char path[PATH_MAX];
	int fd;

	uptrkv_pin_path(path, sizeof(path), d->dir, "%s", pin);
	fd = bpf_obj_get(path);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : uptrkv_errno(e, -errno, "open %s", path);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, map_name, sizeof(__u32), value_size, entries, &o);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "create %s", path);
	if (bpf_obj_pin(fd, path)) {
		int err = uptrkv_errno(e, -errno, "pin %s", path);

		close(fd);
		return err;
	}
	return fd;
}

int uptrkv_deploy__write_types(struct uptrkv_deploy *d, __u32 slot, const struct uptrkv_manifest *m,
			       struct uptrkv_error *e)
{
	struct uptrkv_types *t;
	__u8 row[UPTRKV_MAX_KEYS] = {};
	int fd = uptrkv_deploy__pinned_array(d, UPTRKV_PIN_TYPES, "uptrkv_types",
						 sizeof(struct uptrkv_types), 1, e);

	if (fd < 0)
		return fd;
	t = mmap(NULL, UPTRKV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (t == MAP_FAILED)
		return uptrkv_errno(e, -errno, "map %s/%s", d->dir, UPTRKV_PIN_TYPES);
	for (size_t i = 0; i < m->nr_keys; i++)
		row[m->keys[i].id] = m->keys[i].type + 1;
	/* Slot `to`: nobody reads it before the switch. The live slot: the
	 * same bytes it has, or its first ones (zeros, "unknown", before). */
	memcpy(t->type[slot & 1], row, sizeof(row));
	munmap(t, UPTRKV_PAGE_SIZE);
	return 0;
}
