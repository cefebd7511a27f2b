/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __UPTRKV_CMD_H
#define __UPTRKV_CMD_H

#include <argp.h>
#include <stdbool.h>
#include "json.h"
#include "uptrkv_tool.h"

/* Exit statuses shared by every command (see docs/commands.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* refused or failed; diff: differences that can be rolled out */
	EXIT_USAGE = 2,		/* usage, input or manifest error, argp's included */
	EXIT_DIFF_REFUSED = 3,	/* diff: differences that cannot be rolled out as written */
};

/* --progress */
enum progress_mode { PROGRESS_AUTO, PROGRESS_PLAIN, PROGRESS_JSON, PROGRESS_NONE };

/* The stable error codes of the JSON error document (docs/commands.md,
 * "Error codes"). error_code() is the one map from a failure to them. */
#define CODE_USAGE		"usage"
#define CODE_INVALID_MANIFEST	"invalid_manifest"
#define CODE_INVALID		"invalid"
#define CODE_NOT_FOUND		"not_found"
#define CODE_NOT_BPFFS		"not_bpffs"
#define CODE_PERMISSION		"permission"
#define CODE_LOCK_TIMEOUT	"lock_timeout"
#define CODE_INCOMPATIBLE	"incompatible"
#define CODE_OBJECT_MISMATCH	"object_mismatch"
#define CODE_VERIFIER		"verifier"
#define CODE_NO_SPACE		"no_space"
#define CODE_INTERRUPTED	"interrupted"
#define CODE_IO			"io"
#define CODE_FAILED		"failed"
#define UPTRKV_CODE_OBJECT_MISMATCH CODE_OBJECT_MISMATCH

/* Global options, the same for every command. cmd/ may hold state; lib/ may not. */
struct cmd_env {
	bool json;
	bool pretty;
	bool verbose;
	const char *bpffs;	/* default /sys/fs/bpf */
	struct jw *jw;		/* set while a command writes JSON */
	const char *cmdline;	/* the whole command line, for the history */
	bool quiet;		/* -q: no notes, no progress unless asked for */
	bool error_written;	/* the JSON error document is out: nothing else goes to stdout */
	int timeout_ms;		/* --timeout; -1: not given */
	enum progress_mode progress;
	/* -j without -v: the tail of a rejected program's verifier log, for
	 * the error document (p_err_json) instead of stderr. */
	char *verifier_log;
	int verifier_log_left_out;	/* earlier lines not in verifier_log */
};
extern struct cmd_env env;

/* The argp child every command includes, so global options work after the
 * command name too: `uptrkv diff a.yaml b.yaml --json`. */
extern const struct argp global_argp;

/*
 * One error path. Text mode: "uptrkv: <what failed>: <why>" on stderr.
 * JSON mode: {"error": "...", "code": "..."} as the command's one document
 * on stdout (and the text on stderr). code is one of the CODE_* words.
 */
__attribute__((format(printf, 2, 3))) void p_err(const char *code, const char *fmt, ...);
/* The same, with more fields in the JSON document (the plan of a refused
 * rollout, a refused object's record). */
typedef void (*err_extra_fn)(struct jw *w, const void *ctx);
void p_err_doc(const char *code, const char *msg, err_extra_fn extra, const void *ctx);
/* Only the JSON document, for an error already printed as text (argp's). */
bool p_err_json(const char *code, const char *msg, err_extra_fn extra, const void *ctx);
/* Prints a library error through p_err, with its code. */
void p_lib_err(const struct uptrkv_error *e);
/* The code of a failure; r (may be NULL) is a rollout's result. */
const char *error_code(const struct uptrkv_error *e, const struct uptrkv_rollout_result *r);
/* 0 if --bpffs is a mounted bpffs; else the error is printed and the exit
 * status returned: EXIT_USAGE, or EXIT_FAIL without the right to look. */
int need_bpffs(void);
/* Sets what the global options (--bpffs, --timeout, --progress, the lock
 * wait message) ask of a rollout, rollback or undeploy. */
void global_rollout_opts(struct uptrkv_rollout_opts *o);
/* Progress and notes on stderr (never in JSON on stdout). */
__attribute__((format(printf, 1, 2))) void p_info(const char *fmt, ...);
/* Debug output, only with -v. */
__attribute__((format(printf, 1, 2))) void p_debug(const char *fmt, ...);

/* Starts the JSON document (if --json); returns env.jw or NULL. */
struct jw *json_begin(void);
void json_end(void);
/* Prints help for argp: text on stdout, or with --json the document
 * {"command","help"} (and "commands" for uptrkv itself). */
void print_help(const struct argp *argp, unsigned int flags, const char *prog);

/* For argp parsers: prints the error and makes argp_parse fail. With
 * ARGP_NO_EXIT, argp_error returns, so the parser must return an error. */
#define cmd_arg_error(state, ...) ({ argp_error(state, __VA_ARGS__); EINVAL; })

/* A command's positional arguments, as cmd_parse() fills them: v[0..n),
 * pointers into argv. */
struct cmd_args {
	char **v;
	int n;
};

/*
 * Parses the arguments of the command that runs: its options into input
 * (through its NAME_argp), the global options, and its positional
 * arguments into args, checked against its row in cmd/commands.h. Returns
 * 0, or EXIT_USAGE after argp printed the reason. --help prints the
 * command's help and exits 0.
 */
int cmd_parse(int argc, char **argv, void *input, struct cmd_args *args);

/* Prints manifest diagnostics on stderr, one per line, as
 * FILE:LINE:COL: MESSAGE (FILE: MESSAGE for a problem with no position). */
void print_diags(const struct uptrkv_diags *d);
/* The same, as the "errors" array of a JSON document: {line, col, message}. */
void json_diags(struct jw *w, const struct uptrkv_diags *d);

/*
 * The one manifest loader of every command. A manifest that does not load
 * gets every problem on stderr (print_diags), and then:
 *   keep == NULL: the command's error, code invalid_manifest, naming the
 *                 file: "CMD: FILE: invalid manifest (N errors)", or
 *                 "CMD: FILE: cannot read: WHY";
 *   keep != NULL: no error; the problems stay in keep for the caller's
 *                 JSON document (with --json, then, none go to stderr).
 * Returns 0 or the negative errno of uptrkv_manifest__load().
 */
int cmd_manifest_load(const char *cmd, const char *path, struct uptrkv_manifest **m,
		      struct uptrkv_diags *keep);

/* A plan as a table with a summary line (text), or as the fields of the
 * diff JSON document: changes[], unchanged, compatible, bytes... (cmd/plan_print.c) */
void plan_print_table(const char *name, const struct uptrkv_plan *p);
void plan_json_fields(struct jw *w, const struct uptrkv_plan *p);

/* cmd/binding_print.c: "object": {path, sha256, has_record, layout_sha256,
 * manifest_layout_sha256, bound} for a JSON document; the warning a
 * let-through binding gets (empty if none); and the error of a refused one,
 * with code object_mismatch and that "object" in JSON. */
void binding_json(struct jw *w, const char *object, const struct uptrkv_binding *b);
void binding_warnings(const struct uptrkv_binding *b, const char *object, char *out, size_t sz);
__attribute__((format(printf, 3, 4)))
void p_err_binding(const struct uptrkv_binding *b, const char *object, const char *fmt, ...);

/* Each command's parser and handler, from the command table. */
#define CMD(name, ...)							\
	extern const struct argp name##_argp;				\
	int do_##name(int argc, char **argv);
#include "commands.h"
#undef CMD

#endif
