// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * For tests/e2e/test_exec.sh: registers the main thread in deployment demo,
 * writes rx_bytes = 4242, prints "registered PID", then execs COMMAND,
 * keeping its pid (and so its task) but not its memory.
 *   exec_app BPFFS COMMAND [ARGS...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "uptrkv.h"

int main(int argc, char **argv)
{
	/* Room for demo v2's 4 KiB blob beside v1, like the demo workload. */
	UPTRKV_OPTS(uptrkv_app_thread_opts, ro, .reserve_bytes = 16384);
	struct uptrkv_error e = {};
	struct uptrkv_thread *t = NULL;
	struct uptrkv_app *app = NULL;
	__u64 v = 4242;

	if (argc < 3)
		return 2;
	if (uptrkv_app__open(argv[1], "demo", &app, &e) ||
	    uptrkv_app__register(app, &ro, &t, &e) ||
	    uptrkv_thread__put(t, 0, &v, sizeof(v)) < 0) {
		fprintf(stderr, "exec_app: %s\n", e.msg[0] ? e.msg : "put rx_bytes failed");
		uptrkv_thread__unregister(t);
		uptrkv_app__close(app);
		return 1;
	}
	printf("registered %d\n", getpid());
	fflush(stdout);
	execvp(argv[2], argv + 2);
	perror("exec_app: exec");
	return 1;
}
