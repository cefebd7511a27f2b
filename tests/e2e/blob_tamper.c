// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Changes one byte of a copy kept in a deployment's history, as someone with
 * CAP_BPF could through bpffs (test_history.sh checks that a rollback then
 * refuses it):
 *
 *   blob_tamper BLOBS_PIN SHA256_HEX [CHUNK]
 *
 * flips byte 100 of chunk CHUNK (default 0) of the blob SHA256_HEX.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"

int main(int argc, char **argv)
{
	struct uptrkv_blob_key key = {};
	__u8 *chunk = malloc(UPTRKV_BLOB_CHUNK);
	int fd;

	if (argc < 3 || strlen(argv[2]) != 64 || !chunk) {
		fprintf(stderr, "usage: %s BLOBS_PIN SHA256_HEX [CHUNK]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < 32; i++)
		sscanf(argv[2] + 2 * i, "%2hhx", &key.sha256[i]);
	key.chunk = argc > 3 ? atoi(argv[3]) : 0;
	fd = bpf_obj_get(argv[1]);
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, chunk)) {
		fprintf(stderr, "%s: chunk %u of %s: %s\n", argv[1], key.chunk, argv[2], strerror(errno));
		return 1;
	}
	chunk[100] ^= 0xff;
	if (bpf_map_update_elem(fd, &key, chunk, BPF_EXIST)) {
		fprintf(stderr, "%s: update: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("flipped byte 100 of chunk %u of %.12s\n", key.chunk, argv[2]);
	free(chunk);
	return 0;
}
