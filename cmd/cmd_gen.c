// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd.h"

int do_gen(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("gen: not implemented yet");
	return EXIT_USAGE;
}

