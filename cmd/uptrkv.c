// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uptrkv: roll out BPF programs whose shared data layout changes, with no
 * downtime and no data lost. This file holds the command table, the global
 * options and the dispatch; the commands live in cmd_*.c, what uptrkv says
 * besides their results in output.c.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"

#ifndef UPTRKV_VERSION
#define UPTRKV_VERSION "0.1.0"
#endif
/* The Makefile passes `git describe`; a build outside git has none. */
#ifndef UPTRKV_GIT_REV
#define UPTRKV_GIT_REV "unknown"
#endif

struct cmd_env env = { .bpffs = UPTRKV_DEFAULT_BPFFS, .timeout_ms = -1 };

const char *argp_program_bug_address = "<uptrkv developers>";

/* A row of the command table (cmd/commands.h says what each field is). */
struct cmd {
	const char *name;
	const char *args;
	int min_args, max_args;
	const char *noun;
	const char *summary;
	const char *example;
	const struct argp *argp;
	int (*fn)(int argc, char **argv);
};

static const struct cmd cmds[] = {
#define CMD(n, a, lo, hi, noun, sum, ex) \
	{ #n, a, lo, hi, noun, sum, ex, &n##_argp, do_##n },
#include "commands.h"
#undef CMD
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/* The command that runs: cmd_parse() parses by its row. */
static const struct cmd *cur_cmd;

enum { OPT_BPFFS = 0x100, OPT_TIMEOUT, OPT_PROGRESS };

#define STR_(x)	#x
#define STR(x)	STR_(x)

/* The longest --timeout: a day, so the milliseconds fit an int. */
#define TIMEOUT_MAX_S	86400

static const struct argp_option global_opts[] = {
	{ "json", 'j', NULL, 0, "Machine output: one JSON document on stdout, errors included", -1 },
	{ "pretty", 'p', NULL, 0, "Pretty-print the JSON (implies --json)", -1 },
	{ "verbose", 'v', NULL, 0, "Debug output from uptrkv and libbpf on stderr", -1 },
	{ "quiet", 'q', NULL, 0, "No notes and no progress on stderr (errors still)", -1 },
	{ "bpffs", OPT_BPFFS, "DIR", 0, "bpffs root (default /sys/fs/bpf). It must be a mounted "
	  "bpffs; only rollout mounts one if missing", -1 },
	{ "timeout", OPT_TIMEOUT, "SECONDS", 0, "How long to wait for another command's lock on "
	  "the deployment (default " STR(UPTRKV_LOCK_TIMEOUT_S) "; 0: do not wait)", -1 },
	{ "progress", OPT_PROGRESS, "MODE", 0, "Rollout progress on stderr: auto (on a terminal), "
	  "plain (one line per phase, for CI logs), json (one object per line), none", -1 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 },
	{},
};

static int parse_timeout(struct argp_state *state, const char *arg)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(arg, &end);
	if (errno || end == arg || *end || !(s >= 0 && s <= TIMEOUT_MAX_S))
		return cmd_arg_error(state, "--timeout: expected seconds from 0 to %d, got '%s'",
				     TIMEOUT_MAX_S, arg);
	env.timeout_ms = (int)(s * 1000 + 0.5);
	return 0;
}

static int parse_progress(struct argp_state *state, const char *arg)
{
	static const char *const modes[] = {
		[PROGRESS_AUTO] = "auto", [PROGRESS_PLAIN] = "plain",
		[PROGRESS_JSON] = "json", [PROGRESS_NONE] = "none",
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(arg, modes[i])) {
			env.progress = i;
			return 0;
		}
	}
	return cmd_arg_error(state, "--progress: expected auto, plain, json or none, got '%s'", arg);
}

static error_t global_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j': env.json = true; break;
	case 'p': env.json = env.pretty = true; break;
	case 'v': env.verbose = true; break;
	case 'q': env.quiet = true; break;
	case OPT_BPFFS: env.bpffs = arg; break;
	case OPT_TIMEOUT: return parse_timeout(state, arg);
	case OPT_PROGRESS: return parse_progress(state, arg);
	case 'h': break;	/* seen by help_flags before parsing */
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp global_argp = { .options = global_opts, .parser = global_parse };

static const struct argp_child global_children[] = {
	{ &global_argp, 0, "Global options:", -1 },
	{},
};

/*
 * -j and -p anywhere on the line, before argp runs: an error argp finds
 * before it reaches them (`uptrkv --nosuch -j`) is JSON too.
 */
static void prescan_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json") || !strcmp(a, "--pretty"))
			env.json = true;
		if (!strcmp(a, "--pretty"))
			env.pretty = true;
		/* A bundle of global flags only: -j, -jp, -vj. */
		if (a[0] == '-' && a[1] && a[1] != '-' && strspn(a + 1, "jpvq") == strlen(a + 1)) {
			env.json |= strpbrk(a + 1, "jp") != NULL;
			env.pretty |= strchr(a + 1, 'p') != NULL;
		}
	}
}

/* What argp would otherwise print and then (with ARGP_NO_EXIT) go on
 * parsing past, failing on the missing arguments. Looks at argv[1..end). */
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

/*
 * argp_parse that never exits and, with --json, turns argp's and getopt's
 * messages into the error document. Both write to the global stderr (argp
 * through state->err_stream, which starts as stderr), so stderr points at
 * a memory stream for the parse; the text still reaches the real stderr.
 */
static int parse_args(const struct argp *a, int argc, char **argv, unsigned int flags, void *input)
{
	FILE *real = stderr, *mem = NULL;
	char *text = NULL;
	size_t len = 0;
	int err;

	if (env.json)
		mem = open_memstream(&text, &len);
	if (mem)
		stderr = mem;
	err = argp_parse(a, argc, argv, flags | ARGP_NO_EXIT, NULL, input);
	if (mem) {
		stderr = real;
		fclose(mem);
		if (err) {
			fputs(text, stderr);
			/* The first line says what is wrong; the rest is "Try --help". */
			p_err_json(CODE_USAGE, len ? strtok(text, "\n") : "invalid arguments", NULL, NULL);
		}
		free(text);
	}
	return err ? EXIT_USAGE : 0;
}

/* What cmd_parse() hands argp: the command's row, its own options'
 * input, and where the positional arguments go. */
struct args_fill {
	const struct cmd *c;
	void *input;
	struct cmd_args *args;
};

/* "a PID" for a lone ARG, else the spec as usage shows it: "OLD NEW". */
static const char *args_phrase(const struct cmd *c, char *buf, size_t sz)
{
	if (c->max_args == 1 && c->min_args == 1)
		snprintf(buf, sz, "a %s", c->args);
	else
		snprintf(buf, sz, "%s", c->args);
	return buf;
}

/* The positional arguments, as the row declares them: all of them at once
 * (ARGP_KEY_ARGS), counted here so no command counts its own. */
static error_t fill_args(struct args_fill *f, int key, struct argp_state *state)
{
	const struct cmd *c = f->c;
	char want[64];

	if (key == ARGP_KEY_ARGS) {
		f->args->v = state->argv + state->next;
		f->args->n = state->argc - state->next;
		state->next = state->argc;
		if (c->max_args >= 0 && f->args->n > c->max_args)
			return c->max_args ? cmd_arg_error(state, "too many arguments: expected %s",
							   args_phrase(c, want, sizeof(want)))
					   : cmd_arg_error(state, "takes no arguments");
		return 0;
	}
	/* ARGP_KEY_END */
	if (!f->args->n && c->min_args)
		return cmd_arg_error(state, "no %s given: expected %s", c->noun,
				     args_phrase(c, want, sizeof(want)));
	if (f->args->n < c->min_args)
		return cmd_arg_error(state, "too few arguments: expected %s",
				     args_phrase(c, want, sizeof(want)));
	return 0;
}

/* Positional arguments are filled here; every other key goes to the
 * command's own parser, with its own input. */
static error_t cmd_parser(int key, char *arg, struct argp_state *state)
{
	struct args_fill *f = state->input;
	error_t err;

	/* Declining each ARGP_KEY_ARG makes argp offer them all as ARGP_KEY_ARGS. */
	if (key == ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	if (key == ARGP_KEY_ARGS)
		return fill_args(f, key, state);
	if (key == ARGP_KEY_END) {
		err = fill_args(f, key, state);
		if (err)
			return err;
	}
	if (!f->c->argp->parser)
		return ARGP_ERR_UNKNOWN;
	state->input = f->input;
	err = f->c->argp->parser(key, arg, state);
	state->input = f;
	return err;
}

int cmd_parse(int argc, char **argv, void *input, struct cmd_args *args)
{
	const struct cmd *c = cur_cmd;
	struct args_fill f = { .c = c, .input = input, .args = args };
	struct argp a = {
		.options = c->argp->options,
		.parser = cmd_parser,
		.args_doc = c->args[0] ? c->args : NULL,
		.doc = c->argp->doc,
		.children = global_children,
	};
	unsigned int help;

	args->v = NULL;
	args->n = 0;
	help = help_flags(argc, argv);
	if (help) {
		print_help(&a, help, argv[0]);
		exit(EXIT_OK);
	}
	return parse_args(&a, argc, argv, 0, &f);
}

#define VLOG_BEGIN	"-- BEGIN PROG LOAD LOG --\n"
#define VLOG_END	"-- END PROG LOAD LOG --\n"
/* Without -v, a rejected program's verifier log is cut to its last lines:
 * at least VLOG_TAIL_MIN, and back to the last instruction the verifier
 * printed (the one it failed on) and its source line, if that is within
 * VLOG_TAIL_MAX lines of the end. */
#define VLOG_TAIL_MIN	8
#define VLOG_TAIL_MAX	24

/* The start of the n-th line counted back from end (n = 1: the last). */
static const char *line_back(const char *start, const char *end, int n)
{
	const char *p = end;

	while (n-- > 0 && p > start) {
		p--;			/* the previous line's newline */
		while (p > start && p[-1] != '\n')
			p--;
	}
	return p;
}

/* "969: (73) *(u8 *)(r7 +0) = r1": an instruction the verifier walked. */
static bool is_insn_line(const char *p)
{
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ':';
}

/* libbpf prints a rejected program's log as one message, between
 * VLOG_BEGIN and VLOG_END. Finds where its tail starts (see VLOG_TAIL_MIN)
 * and how many lines come before; NULL if msg holds no whole log. */
static const char *log_tail(const char *msg, const char **log_out, const char **end_out,
			    int *skipped)
{
	const char *log = strstr(msg, VLOG_BEGIN), *end;
	const char *from, *p, *prev = NULL;

	if (!log || !(end = strstr(log, VLOG_END)))
		return NULL;
	log += strlen(VLOG_BEGIN);
	from = line_back(log, end, VLOG_TAIL_MIN);
	/* The last instruction printed is the one the verifier failed on. */
	for (int n = 1; n <= VLOG_TAIL_MAX; n++) {
		p = line_back(log, end, n);
		if (p == prev)
			break;		/* the start of the log */
		prev = p;
		if (!is_insn_line(p))
			continue;
		if (p < from)
			from = p;
		/* and the source line it came from, "; ... @ file.bpf.c:26" */
		while (++n <= VLOG_TAIL_MAX && (p = line_back(log, end, n)) != prev) {
			prev = p;
			if (*p == ';') {
				if (p < from)
					from = p;
				break;
			}
		}
		break;
	}
	*skipped = 0;
	for (p = log; p < from; p++)
		*skipped += *p == '\n';
	*log_out = log;
	*end_out = end;
	return from;
}

/* Text mode: the message with the log cut to its tail. JSON mode: the
 * tail is kept for the error document and stderr gets only libbpf's own
 * line, so that the log is not free text beside the document. */
static int print_log_tail(const char *msg)
{
	const char *log, *end, *from;
	int skipped;

	from = log_tail(msg, &log, &end, &skipped);
	if (!from)
		return fputs(msg, stderr);
	if (env.json) {
		free(env.verifier_log);
		env.verifier_log = strndup(from, end - from);
		env.verifier_log_left_out = skipped;
		/* libbpf's "prog 'NAME': " before VLOG_BEGIN names the program. */
		return fprintf(stderr, "%.*sthe verifier log's last lines are in the JSON "
			       "error (verifier_log); run with -v for the whole log\n",
			       (int)(log - msg - strlen(VLOG_BEGIN)), msg);
	}
	fprintf(stderr, "%.*s", (int)(log - msg), msg);
	if (skipped)
		fprintf(stderr, "... %d earlier lines left out; run with -v for the whole log\n",
			skipped);
	return fputs(from, stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg;
	int n;

	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	if (level == LIBBPF_INFO && !env.verbose)
		return 0;
	if (env.verbose || !strstr(fmt, "PROG LOAD LOG"))
		return vfprintf(stderr, fmt, ap);
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return n;
	n = print_log_tail(msg);
	free(msg);
	return n;
}

/* uptrkv's own help, around the list of commands the table gives. */
#define DOC_HEAD "uptrkv -- roll out BPF programs whose shared data layout changes"
#define DOC_TAIL \
	"A command may be shortened to any unambiguous prefix ('uptrkv st').\n" \
	"Run 'uptrkv help COMMAND' for a command's options. Errors go to stderr\n" \
	"as 'uptrkv: <what failed>: <why>'; with --json, as {\"error\": \"...\",\n" \
	"\"code\": \"...\"} on stdout. Exit status: 0 done or nothing to do, 1 failed\n" \
	"or refused, 2 usage, input or manifest error (diff: 3 cannot be rolled out)."

/* "diff OLD NEW": a command as usage shows it. */
static const char *synopsis(const struct cmd *c, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
	return buf;
}

/* The text after the options in `uptrkv --help`: every command with its
 * summary, then their examples, from the table. The caller frees it. */
static char *main_doc(void)
{
	char *text = NULL, syn[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s\vCommands:\n", DOC_HEAD);
	for (size_t i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-25s %s\n", synopsis(&cmds[i], syn, sizeof(syn)), cmds[i].summary);
	fprintf(f, "\nExamples:\n");
	for (size_t i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %s\n", cmds[i].example);
	fprintf(f, "\n%s", DOC_TAIL);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

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

struct main_args {
	int cmd_index;		/* argv index of the command name */
};

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
		return cmd_arg_error(state, "no command given (see 'uptrkv help')");
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static struct argp main_argp = {
	.parser = main_parse,
	.args_doc = "COMMAND [ARGS...]",
	.doc = DOC_HEAD,	/* main() puts the list of commands after it */
	.children = global_children,
};

static void json_commands(struct jw *w)
{
	jw_name(w, "commands");
	jw_start_array(w);
	for (size_t i = 0; i < NR_CMDS; i++) {
		char syn[64];

		jw_start_object(w);
		jw_string_field(w, "name", cmds[i].name);
		jw_string_field(w, "synopsis", synopsis(&cmds[i], syn, sizeof(syn)));
		jw_string_field(w, "summary", cmds[i].summary);
		jw_string_field(w, "example", cmds[i].example);
		jw_end_object(w);
	}
	jw_end_array(w);
}

void print_help(const struct argp *argp, unsigned int flags, const char *prog)
{
	char *text = NULL;
	size_t len = 0;
	struct jw *w;
	FILE *mem;

	if (!env.json) {
		argp_help(argp, stdout, flags, (char *)prog);
		return;
	}
	mem = open_memstream(&text, &len);
	if (!mem) {
		p_err(CODE_FAILED, "help: %s", strerror(errno));
		return;
	}
	argp_help(argp, mem, flags, (char *)prog);
	fclose(mem);
	w = json_begin();
	jw_start_object(w);
	jw_string_field(w, "command", prog);
	jw_string_field(w, "help", text);
	if (argp == &main_argp)
		json_commands(w);
	jw_end_object(w);
	json_end();
	free(text);
}

static int show_version(void)
{
	struct jw *w = json_begin();

	if (!w) {
		printf("uptrkv %s (git %s), libbpf %s\n", UPTRKV_VERSION, UPTRKV_GIT_REV,
		       libbpf_version_string());
		return EXIT_OK;
	}
	jw_start_object(w);
	jw_string_field(w, "version", UPTRKV_VERSION);
	jw_string_field(w, "git", UPTRKV_GIT_REV);
	jw_string_field(w, "libbpf", libbpf_version_string());
	jw_end_object(w);
	json_end();
	return EXIT_OK;
}

/* --version: argp calls this, and would go on parsing with ARGP_NO_EXIT. */
static void version_hook(FILE *stream, struct argp_state *state)
{
	(void)stream;
	(void)state;
	exit(show_version());
}
void (*argp_program_version_hook)(FILE *, struct argp_state *) = version_hook;

/* Edits (insert, delete, substitute) from a to b, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];

	if (lb >= sizeof(row) / sizeof(row[0]))
		return lb;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], up;

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* A typo close to a command: "did you mean" (at most 2 edits). */
static void unknown_command(const char *name)
{
	const struct cmd *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < NR_CMDS; i++) {
		size_t d = edit_distance(name, cmds[i].name);

		if (d < best_d) {
			best_d = d;
			best = &cmds[i];
		}
	}
	if (best)
		p_err(CODE_USAGE, "unknown command '%s': did you mean '%s'? (see 'uptrkv help')",
		      name, best->name);
	else
		p_err(CODE_USAGE, "unknown command '%s' (see 'uptrkv help')", name);
}

/* The command name, or an unambiguous prefix of one, as bpftool takes them. */
static const struct cmd *find_cmd(const char *name)
{
	const struct cmd *match = NULL;
	char list[256] = "";
	size_t n = 0, len = strlen(name);

	for (size_t i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	for (size_t i = 0; len && i < NR_CMDS; i++) {
		if (strncmp(cmds[i].name, name, len))
			continue;
		match = &cmds[i];
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", n++ ? ", " : "",
			 cmds[i].name);
	}
	if (n == 1)
		return match;
	if (n > 1)
		p_err(CODE_USAGE, "ambiguous command '%s': could be %s", name, list);
	else
		unknown_command(name);
	return NULL;
}

static int run_cmd(const struct cmd *c, int argc, char **argv)
{
	char prog[64];

	/* argv[0] becomes "uptrkv CMD" so argp's messages name the command. */
	snprintf(prog, sizeof(prog), "uptrkv %s", c->name);
	argv[0] = prog;
	cur_cmd = c;
	return c->fn(argc, argv);
}

const struct argp help_argp = {
	.doc = "Show uptrkv's help, or COMMAND's (its options, exit statuses and examples).\v"
	       "Examples:\n  uptrkv help\n  uptrkv help rollout\n  uptrkv help st -j",
};

int do_help(int argc, char **argv)
{
	char *sub[] = { NULL, "--help", NULL };
	struct cmd_args pos;
	const struct cmd *c;

	if (cmd_parse(argc, argv, NULL, &pos))
		return EXIT_USAGE;
	if (!pos.n) {
		print_help(&main_argp, ARGP_HELP_STD_HELP, "uptrkv");
		return EXIT_OK;
	}
	c = find_cmd(pos.v[0]);
	if (!c)
		return EXIT_USAGE;
	/* The command's own parser prints its help and exits 0. */
	return run_cmd(c, 2, sub);
}

const struct argp version_argp = {
	.doc = "Show uptrkv's version, the git revision it was built from, and libbpf's "
	       "version.\vExample:\n  uptrkv version -j",
};

int do_version(int argc, char **argv)
{
	struct cmd_args pos;

	if (cmd_parse(argc, argv, NULL, &pos))
		return EXIT_USAGE;
	return show_version();
}

/* argv index of the command: the first word that is not a global option or
 * the value of one (0 if none). */
static int command_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : 0;
		if (argv[i][0] != '-')
			return i;
		if (!strcmp(argv[i], "--bpffs") || !strcmp(argv[i], "--timeout") ||
		    !strcmp(argv[i], "--progress"))
			i++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct main_args a = { .cmd_index = -1 };
	char *doc = main_doc();
	const struct cmd *c;
	int ret, end;

	/* argp names the program by argv[0]: "uptrkv", not the path it ran from. */
	argv[0] = "uptrkv";
	if (doc)
		main_argp.doc = doc;
	prescan_json(argc, argv);
	end = command_index(argc, argv);
	if (help_flags(end ? end : argc, argv)) {
		print_help(&main_argp, help_flags(end ? end : argc, argv), "uptrkv");
		return EXIT_OK;
	}
	if (parse_args(&main_argp, argc, argv, ARGP_IN_ORDER, &a) || a.cmd_index < 0)
		return EXIT_USAGE;

	libbpf_set_print(libbpf_print);
	c = find_cmd(argv[a.cmd_index]);
	if (!c)
		return EXIT_USAGE;
	env.cmdline = join_cmdline(argc, argv);
	ret = run_cmd(c, argc - a.cmd_index, argv + a.cmd_index);
	json_end();
	free((void *)env.cmdline);
	free(env.verifier_log);
	return ret;
}
