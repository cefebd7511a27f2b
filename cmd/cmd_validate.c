// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd.h"

int do_validate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("validate: not implemented yet");
	return EXIT_USAGE;
}

