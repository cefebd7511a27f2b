/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Hooks: which hook a program's SEC() names, and per hook one stable entry
 * program and one two-slot prog array (lib/hook.c; the SEC() parser's test
 * is tests/unit/test_hook_spec.c).
 */
#ifndef __UPTRKV_HOOK_H
#define __UPTRKV_HOOK_H

#include <bpf/libbpf.h>
#include "deploy_internal.h"

struct uptrkv_vprog;
struct uptrkv_version;

/* How a hook is attached; parsed from the program's SEC(). */
enum uptrkv_attach_kind {
	UPTRKV_AK_TRACE,	/* tp_btf, fentry, fexit, fmod_ret */
	UPTRKV_AK_LSM,
	UPTRKV_AK_RAW_TP,
	UPTRKV_AK_UPROBE,
	UPTRKV_AK_TP,		/* needs tracefs */
	UPTRKV_AK_XDP,		/* target from the manifest: xdp:IFNAME */
	UPTRKV_AK_CGROUP,	/* target from the manifest: cgroup:/PATH */
};

struct uptrkv_hook_spec {
	enum uptrkv_attach_kind kind;
	enum bpf_prog_type type;
	enum bpf_attach_type eat;
	char sec[256];		/* the SEC() string, e.g. "tp_btf/sys_enter" */
	char target[256];	/* tracepoint, function, interface or cgroup path */
	char path[256];		/* uprobe binary */
	bool retprobe;
	size_t offset;
};

/* Parses a SEC() string, with the manifest's attach target (NULL if none)
 * for XDP, cgroup and bare uprobe programs. -EOPNOTSUPP for types uptrkv
 * cannot attach. */
int uptrkv_hook_spec__parse(const char *sec, const char *attach, struct uptrkv_hook_spec *h,
			    struct uptrkv_error *e);
/* Whether programs of SEC(sec) run sleepable ("*.s/...", "syscall"). */
bool uptrkv_sec__sleepable(const char *sec);

/* Creates hooks/<p->hook>/ (prog array "disp", pinned entry link "link")
 * unless it exists. The entry is attached with both slots empty, so until
 * a slot is filled the hook does nothing. */
int uptrkv_hook__ensure(struct uptrkv_deploy *d, const struct uptrkv_vprog *p,
			struct uptrkv_error *e);
/* Puts prog_fd in the hook's slot; prog_fd < 0 empties it. */
int uptrkv_hook__set(struct uptrkv_deploy *d, const char *hook, __u32 slot, int prog_fd,
		     struct uptrkv_error *e);
/* Every hook of the deployment; free with uptrkv_strv__free. */
int uptrkv_hook__list(struct uptrkv_deploy *d, char ***names, size_t *n, struct uptrkv_error *e);
/* Fills the version's slot in all its hooks and empties the slot in every
 * other hook of the deployment. */
int uptrkv_hook__fill_slot(struct uptrkv_deploy *d, const struct uptrkv_version *v,
			   struct uptrkv_error *e);

#endif
