// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loads tests/bpf/test_verify_cost.bpf.c as uptrkv's loader would
 * (uptrkv_sleepable = 0; 1 with "sleepable") and prints how many
 * instructions the verifier walked: "verified_insns N".
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "test_verify_cost.skel.h"

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	struct test_verify_cost *skel;
	__u32 len = sizeof(info);
	int err;

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
