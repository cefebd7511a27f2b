// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd.h"

int do_diff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("diff: not implemented yet");
	return EXIT_USAGE;
}

