// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uptrkv: roll out BPF programs whose shared data layout changes, with no
 * downtime and no data lost. This file holds the command table and the
 * output plumbing; the commands live in cmd_*.c.
 */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"

#ifndef UPTRKV_VERSION
#define UPTRKV_VERSION "0.1.0"
#endif

struct cmd_env env = { .bpffs = "/sys/fs/bpf" };

const char *argp_program_version = "uptrkv " UPTRKV_VERSION;
const char *argp_program_bug_address = "<uptrkv developers>";

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
	const char *example;
};

static const struct cmd cmds[] = {
	{ "validate", do_validate, "validate MANIFEST...",
	  "uptrkv validate manifests/demo_v2.yaml" },
	{ "diff", do_diff, "diff OLD NEW",
	  "uptrkv diff manifests/demo_v1.yaml manifests/demo_v2.yaml --json" },
	{ "rollout", do_rollout, "rollout MANIFEST [--dry-run]",
	  "uptrkv rollout manifests/demo_v2.yaml" },
	{ "rollback", do_rollback, "rollback NAME [--to-version N]",
	  "uptrkv rollback demo --to-version 1" },
	{ "history", do_history, "history NAME",
	  "uptrkv history demo -j" },
	{ "status", do_status, "status [NAME]",
	  "uptrkv status -j" },
	{ "dump", do_dump, "dump PID [--deployment NAME] [--key ID|NAME]...",
	  "uptrkv dump $(pidof app) --key rx_bytes" },
	{ "gen", do_gen, "gen header MANIFEST [-o FILE]",
	  "uptrkv gen header manifests/demo_v2.yaml -o demo.h" },
	{ "undeploy", do_undeploy, "undeploy NAME",
	  "uptrkv undeploy demo" },
};

enum { OPT_BPFFS = 0x100 };

static const struct argp_option global_opts[] = {
	{ "json", 'j', NULL, 0, "Machine output: one JSON document on stdout", -1 },
	{ "pretty", 'p', NULL, 0, "Pretty-print the JSON (implies --json)", -1 },
	{ "verbose", 'v', NULL, 0, "Debug output from uptrkv and libbpf on stderr", -1 },
	{ "bpffs", OPT_BPFFS, "DIR", 0, "bpffs root (default /sys/fs/bpf; mounted if missing)", -1 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 },
	{},
};

static error_t global_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j': env.json = true; break;
	case 'p': env.json = env.pretty = true; break;
	case 'v': env.verbose = true; break;
	case OPT_BPFFS: env.bpffs = arg; break;
	case 'h': argp_state_help(state, stdout, ARGP_HELP_STD_HELP); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp global_argp = { .options = global_opts, .parser = global_parse };

static const struct argp_child global_children[] = {
	{ &global_argp, 0, "Global options:", -1 },
	{},
};

/* What argp would otherwise print and then (with ARGP_NO_EXIT) go on
 * parsing past, failing on the missing arguments. */
static unsigned int help_flags(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "-?"))
			return ARGP_HELP_STD_HELP;
		if (!strcmp(argv[i], "--usage"))
			return ARGP_HELP_USAGE | ARGP_HELP_EXIT_OK;
	}
	return 0;
}

int cmd_parse(const struct argp *argp, int argc, char **argv, void *input)
{
	struct argp a = *argp;
	unsigned int help;
	int err;

	a.children = global_children;
	help = help_flags(argc, argv);
	if (help) {
		argp_help(&a, stdout, help, argv[0]);
		exit(EXIT_OK);
	}
	err = argp_parse(&a, argc, argv, ARGP_NO_EXIT, NULL, input);
	if (err)
		return EXIT_USAGE;
	return 0;
}

static void vp_err(const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (env.json) {
		struct jw *w = env.jw ? env.jw : jw_new(stdout, env.pretty);

		/* An error replaces the document: only open a new one. */
		if (!env.jw && w) {
			jw_start_object(w);
			jw_string_field(w, "error", buf);
			jw_end_object(w);
			jw_destroy(w);
			return;
		}
	}
	fprintf(stderr, "uptrkv: %s\n", buf);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vp_err(fmt, ap);
	va_end(ap);
}

void p_lib_err(const struct uptrkv_error *e)
{
	p_err("%s", e->msg[0] ? e->msg : strerror(e->err < 0 ? -e->err : e->err));
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("uptrkv: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (!env.verbose)
		return;
	va_start(ap, fmt);
	fputs("uptrkv: debug: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct jw *json_begin(void)
{
	if (env.json && !env.jw)
		env.jw = jw_new(stdout, env.pretty);
	return env.jw;
}

void json_end(void)
{
	if (env.jw) {
		jw_destroy(env.jw);
		env.jw = NULL;
	}
}

void print_diags(const struct uptrkv_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct uptrkv_diag *g = &d->v[i];

		if (g->line)
			fprintf(stderr, "%s:%d:%d: %s\n", g->file ? g->file : "-",
				g->line, g->col, g->msg);
		else
			fprintf(stderr, "%s: %s\n", g->file ? g->file : "-", g->msg);
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	if (level == LIBBPF_INFO && !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static char doc[] =
	"uptrkv -- roll out BPF programs whose shared data layout changes\v"
	"Commands:\n"
	"  validate MANIFEST...      check manifests; exit 0 valid, 2 invalid\n"
	"  diff OLD NEW              change plan between two manifests; OLD or NEW\n"
	"                            may be deployed:NAME. Exit 0 same, 1 can be\n"
	"                            rolled out, 2 incompatible\n"
	"  rollout MANIFEST          deploy or upgrade: preflight, migrate, switch,\n"
	"                            reclaim; --dry-run changes nothing\n"
	"  rollback NAME             return to the previous version, or to any\n"
	"                            version kept in the history (--to-version N)\n"
	"  history NAME              the revisions kept: version, layout, object\n"
	"                            sha256, when, who, host, outcome\n"
	"  status [NAME]             deployments, versions, programs, live stores\n"
	"  dump PID                  every key of every registered thread of PID\n"
	"  gen header MANIFEST       C header with key ids, sizes and typed accessors\n"
	"  undeploy NAME             detach the programs and remove the pins\n"
	"\n"
	"Examples:\n"
	"  uptrkv validate manifests/demo_v2.yaml\n"
	"  uptrkv diff manifests/demo_v1.yaml manifests/demo_v2.yaml\n"
	"  uptrkv diff deployed:demo manifests/demo_v3.yaml -j\n"
	"  uptrkv rollout manifests/demo_v2.yaml --dry-run\n"
	"  uptrkv rollout manifests/demo_v2.yaml\n"
	"  uptrkv status demo -p\n"
	"  uptrkv dump 4242 --key rx_bytes\n"
	"  uptrkv rollback demo\n"
	"  uptrkv rollback demo --to-version 1\n"
	"  uptrkv history demo\n"
	"  uptrkv gen header manifests/demo_v2.yaml -o demo.h\n"
	"\n"
	"Run 'uptrkv COMMAND --help' for a command's options. Errors go to stderr\n"
	"as 'uptrkv: <what failed>: <why>'; with --json, as {\"error\": \"...\"}\n"
	"on stdout.";

struct main_args {
	int cmd_index;		/* argv index of the command name */
};

/* The command line as the history records it: words joined by spaces,
 * quoted when they hold anything a shell would split or expand. */
static char *join_cmdline(int argc, char **argv)
{
	size_t len = 1;
	char *s, *p;

	for (int i = 0; i < argc; i++)
		len += 4 * strlen(argv[i]) + 3;
	s = p = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		bool quote = !argv[i][0] || strpbrk(argv[i], " \t\n'\"\\$`*?[]{}()<>|&;#~") != NULL;

		if (i)
			*p++ = ' ';
		if (quote)
			*p++ = '\'';
		for (const char *c = argv[i]; *c; c++) {
			if (quote && *c == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *c;
			}
		}
		if (quote)
			*p++ = '\'';
	}
	return s;
}

static error_t main_parse(int key, char *arg, struct argp_state *state)
{
	struct main_args *a = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_ARG:
		a->cmd_index = state->next - 1;
		state->next = state->argc;	/* the rest belongs to the command */
		return 0;
	case ARGP_KEY_NO_ARGS:
		argp_error(state, "no command given");
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

int main(int argc, char **argv)
{
	static const struct argp_child children[] = {
		{ &global_argp, 0, "Global options:", -1 },
		{},
	};
	const struct argp argp = {
		.parser = main_parse,
		.args_doc = "COMMAND [ARGS...]",
		.doc = doc,
		.children = children,
	};
	struct main_args a = { .cmd_index = -1 };
	const char *name;
	char prog[64];
	int ret;

	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &a))
		return EXIT_USAGE;
	if (a.cmd_index < 0)
		return EXIT_USAGE;

	libbpf_set_print(libbpf_print);
	env.cmdline = join_cmdline(argc, argv);
	name = argv[a.cmd_index];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, name))
			continue;
		/* argv[0] becomes "uptrkv CMD" so argp's messages name the command. */
		snprintf(prog, sizeof(prog), "uptrkv %s", name);
		argv[a.cmd_index] = prog;
		ret = cmds[i].fn(argc - a.cmd_index, argv + a.cmd_index);
		json_end();
		free((void *)env.cmdline);
		return ret;
	}
	p_err("unknown command '%s': see 'uptrkv --help'", name);
	free((void *)env.cmdline);
	return EXIT_USAGE;
}
