// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The syscall load of tests/e2e/test_globals.sh: waits until the file GO
 * exists, then calls getppid() as fast as it can until the file STOP
 * exists, and prints how many calls it made. The BPF side counts the same
 * calls in a global; the two must be equal.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long long n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s GO STOP\n", argv[0]);
		return 2;
	}
	while (access(argv[1], F_OK))
		usleep(1000);
	for (;;) {
		/* Checked every 256 calls: access() is not getppid. */
		if (!(n & 255) && !access(argv[2], F_OK))
			break;
		syscall(SYS_getppid);
		n++;
	}
	printf("%llu\n", n);
	return 0;
}
