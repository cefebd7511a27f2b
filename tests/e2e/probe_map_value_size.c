// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel fact behind the history's blob chunks (lib/history.h): the largest
 * value a BPF_F_NO_PREALLOC hash map accepts here, found by trying. Not run
 * by the test suite; run it by hand (root) on a new kernel:
 *
 *   build/san/tests/e2e/probe_map_value_size
 *
 * Linux 6.18 here: up to 4 MiB minus the element header (KMALLOC_MAX_SIZE);
 * 4 MiB itself gives E2BIG. ARRAY maps take larger values.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int try_hash(__u32 value_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	char key[40] = {};
	void *v;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "probe", sizeof(key), value_size, 4, &o);
	if (fd < 0)
		return -errno;
	v = calloc(1, value_size);
	err = v && !bpf_map_update_elem(fd, key, v, 0) ? 0 : -errno;
	free(v);
	close(fd);
	return err;
}

int main(void)
{
	__u32 lo = 4096, hi = 16u << 20;

	if (try_hash(lo)) {
		fprintf(stderr, "a hash map of 4 KiB values fails: %s\n", strerror(-try_hash(lo)));
		return 1;
	}
	while (hi - lo > 1) {
		__u32 mid = lo + (hi - lo) / 2;

		if (try_hash(mid))
			hi = mid;
		else
			lo = mid;
	}
	printf("largest NO_PREALLOC hash value: %u bytes (%u KiB)\n", lo, lo / 1024);
	return 0;
}
