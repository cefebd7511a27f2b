// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 *   verify_cost [sleepable]   loads tests/bpf/test_verify_cost.bpf.c as
 *                             uptrkv's loader would (uptrkv_sleepable = 0;
 *                             1 with "sleepable") and prints how many
 *                             instructions the verifier walked:
 *                             "verified_insns N"
 *   verify_cost noresult      loads tests/bpf/test_get_noresult.bpf.c:
 *                             "loaded", or the error
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "test_verify_cost.skel.h"
#include "test_get_noresult.skel.h"

static int load_noresult(void)
{
	struct test_get_noresult *skel = test_get_noresult__open();
	int err;

	if (!skel) {
		perror("open");
		return 1;
	}
	skel->rodata->uptrkv_sleepable = 0;
	err = test_get_noresult__load(skel);
	if (err)
		fprintf(stderr, "load: %s\n", strerror(-err));
	else
		printf("loaded\n");
	test_get_noresult__destroy(skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	struct test_verify_cost *skel;
	__u32 len = sizeof(info);
	int err;

	if (argc > 1 && !strcmp(argv[1], "noresult"))
		return load_noresult();
	skel = test_verify_cost__open();
	if (!skel) {
		perror("open");
		return 1;
	}
	skel->rodata->uptrkv_sleepable = argc > 1 && !strcmp(argv[1], "sleepable");
	err = test_verify_cost__load(skel);
	if (!err)
		err = bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.twenty_gets), &info, &len);
	if (err)
		fprintf(stderr, "load: %s\n", strerror(-err));
	else
		printf("verified_insns %u\n", info.verified_insns);
	test_verify_cost__destroy(skel);
	return err ? 1 : 0;
}
