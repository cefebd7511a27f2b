/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The command table: one row per command, and the only place a command is
 * listed. Dispatch, prefixes, "did you mean", `uptrkv --help`, `uptrkv help`
 * and `uptrkv help -j` come from it (cmd/uptrkv.c), and cmd.h declares each
 * row's parser and handler from it. A new command is one file, cmd_NAME.c,
 * defining NAME_argp (its options, their parser and its --help text) and
 * do_NAME, plus one row here.
 *
 * CMD(NAME, ARGS, MIN, MAX, NOUN, SUMMARY, EXAMPLE)
 *   ARGS     the positional arguments as usage shows them
 *   MIN, MAX how many cmd_parse() accepts (MAX -1: any number); it fills
 *            them in, so no command counts its own
 *   NOUN     what is missing when none is given: "no NOUN given"
 *   SUMMARY  one line for `uptrkv help`
 *   EXAMPLE  one command line for `uptrkv help`
 *
 * The order is the order help lists them in.
 */
CMD(validate, "MANIFEST...", 1, -1, "manifest",
    "check manifests; exit 0 valid, 2 invalid",
    "uptrkv validate examples/demo/demo_v2.yaml")
CMD(diff, "OLD NEW", 2, 2, "manifests",
    "change plan; OLD or NEW may be deployed:NAME",
    "uptrkv diff deployed:demo examples/demo/demo_v3.yaml -j")
CMD(rollout, "MANIFEST", 1, 1, "manifest",
    "deploy or upgrade: check, migrate, switch, reclaim",
    "uptrkv rollout examples/demo/demo_v2.yaml --dry-run")
CMD(rollback, "NAME", 1, 1, "deployment name",
    "return to the previous version, or any kept one",
    "uptrkv rollback demo --to-version 1")
CMD(history, "NAME", 1, 1, "deployment name",
    "revisions kept: version, object, who, outcome",
    "uptrkv history demo")
CMD(status, "[NAME]", 0, 1, "deployment name",
    "deployments, versions, programs, live stores",
    "uptrkv status demo -p")
CMD(dump, "PID", 1, 1, "PID",
    "every key of every registered thread of PID",
    "uptrkv dump 4242 --key rx_bytes")
CMD(gen, "header MANIFEST", 2, 2, "arguments",
    "C header with key ids, sizes and typed accessors",
    "uptrkv gen header examples/demo/demo_v2.yaml -o demo.h")
CMD(undeploy, "NAME", 1, 1, "deployment name",
    "detach the programs and remove the pins",
    "uptrkv undeploy demo")
CMD(help, "[COMMAND]", 0, 1, "command",
    "this help, or a command's",
    "uptrkv help rollout")
CMD(version, "", 0, 0, "",
    "uptrkv's and libbpf's versions, the git revision",
    "uptrkv version -j")
