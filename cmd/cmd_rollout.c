// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd.h"

int do_rollout(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("rollout: not implemented yet");
	return EXIT_USAGE;
}

int do_rollback(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("rollback: not implemented yet");
	return EXIT_USAGE;
}

int do_undeploy(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	p_err("undeploy: not implemented yet");
	return EXIT_USAGE;
}

