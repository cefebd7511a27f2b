// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Corrupts one live store from outside, as a bug in its application would:
 *
 *   corrupt_store STORE_PIN TID SLOT
 *
 * writes, through the admin programs, a meta entry with reserved bits set
 * for key 1000 in meta slot SLOT of thread TID's store. uptrkv refuses to
 * plan a migration from such a meta (tests/e2e/test_skip_corrupt.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "uptrkv_tool.h"

int main(int argc, char **argv)
{
	struct uptrkv_error e = {};
	struct uptrkv_admin *a;
	struct uptrkv_write w;
	__u32 tid, slot;
	int fd, err;

	if (argc != 4) {
		fprintf(stderr, "usage: corrupt_store STORE_PIN TID SLOT\n");
		return 2;
	}
	tid = strtoul(argv[2], NULL, 0);
	slot = strtoul(argv[3], NULL, 0) & 1;
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	err = uptrkv_admin__open(fd, NULL, &a, &e);
	if (!err) {
		w = uptrkv_write__store32(UPTRKV_R_META(slot), 4 * 1000,
					  UPTRKV_ENT(0, 0, 8) | 0x02000000u /* a reserved bit */);
		err = uptrkv_admin__write(a, tid, &w, 1, &e);
		uptrkv_admin__close(a);
	}
	if (err)
		fprintf(stderr, "corrupt_store: %s\n", e.msg);
	return err ? 1 : 0;
}
