/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __UPTRKV_CMD_H
#define __UPTRKV_CMD_H

#include <argp.h>
#include <stdbool.h>
#include "json.h"
#include "uptrkv.h"

/* Exit statuses shared by every command (see docs/commands.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* refused or failed; diff: differences */
	EXIT_USAGE = 2,		/* usage, input or manifest error */
};

/* Global options, the same for every command. cmd/ may hold state; lib/ may not. */
struct cmd_env {
	bool json;
	bool pretty;
	bool verbose;
	const char *bpffs;	/* default /sys/fs/bpf */
	struct jw *jw;		/* set while a command writes JSON */
	const char *cmdline;	/* the whole command line, for the history */
};
extern struct cmd_env env;

/* The argp child every command includes, so global options work after the
 * command name too: `uptrkv diff a.yaml b.yaml --json`. */
extern const struct argp global_argp;

/*
 * One error path. Text mode: "uptrkv: <what failed>: <why>" on stderr.
 * JSON mode: {"error": "..."} as the command's one document on stdout.
 */
__attribute__((format(printf, 1, 2))) void p_err(const char *fmt, ...);
/* Prints a library error through p_err. */
void p_lib_err(const struct uptrkv_error *e);
/* Progress and notes on stderr (never in JSON on stdout). */
__attribute__((format(printf, 1, 2))) void p_info(const char *fmt, ...);
/* Debug output, only with -v. */
__attribute__((format(printf, 1, 2))) void p_debug(const char *fmt, ...);

/* Starts the JSON document (if --json); returns env.jw or NULL. */
struct jw *json_begin(void);
void json_end(void);

/* For argp parsers: prints the error and makes argp_parse fail. With
 * ARGP_NO_EXIT, argp_error returns, so the parser must return an error. */
#define cmd_arg_error(state, ...) ({ argp_error(state, __VA_ARGS__); EINVAL; })

/*
 * Parses a command's arguments. argp_parse with the global child options
 * added; returns 0 or EXIT_USAGE after argp printed the reason.
 */
int cmd_parse(const struct argp *argp, int argc, char **argv, void *input);

/* Prints manifest diagnostics as file:line:col: msg (or into JSON). */
void print_diags(const struct uptrkv_diags *d);

/* A plan as a table with a summary line (text), or as the fields of the
 * diff JSON document: changes[], unchanged, compatible, bytes... (cmd/plan_print.c) */
void plan_print_table(const char *name, const struct uptrkv_plan *p);
void plan_json_fields(struct jw *w, const struct uptrkv_plan *p);

/* The stable error code of a refused object (docs/commands.md). */
#define UPTRKV_CODE_OBJECT_MISMATCH "object_mismatch"
/* cmd/binding_print.c: "object": {path, sha256, has_record, layout_sha256,
 * manifest_layout_sha256, bound} for a JSON document; the warning a
 * let-through binding gets (empty if none); and the error of a refused one,
 * with code object_mismatch and that "object" in JSON. */
void binding_json(struct jw *w, const char *object, const struct uptrkv_binding *b);
void binding_warnings(const struct uptrkv_binding *b, const char *object, char *out, size_t sz);
__attribute__((format(printf, 3, 4)))
void p_err_binding(const struct uptrkv_binding *b, const char *object, const char *fmt, ...);

int do_validate(int argc, char **argv);
int do_diff(int argc, char **argv);
int do_gen(int argc, char **argv);
int do_rollout(int argc, char **argv);
int do_rollback(int argc, char **argv);
int do_status(int argc, char **argv);
int do_undeploy(int argc, char **argv);
int do_dump(int argc, char **argv);
int do_history(int argc, char **argv);

#endif
