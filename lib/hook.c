// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Hooks. Tracing programs (tp_btf, raw_tp, uprobe, fentry) cannot be
 * replaced through BPF_LINK_UPDATE, and replacing several links one by one
 * would not be atomic anyway. So each hook gets an entry program, attached
 * once, that tail-calls slot (ctl.gen & 1) of the hook's own prog array
 * (a prog array accepts one hook's programs only). A rollout fills the idle
 * slot of every hook and then flips ctl.gen: one store switches them all.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hook.h"
#include "version.h"
#include "uptrkv_entry.skel.h"

/* ---- which hook a SEC() names ---- */

struct sec_prefix {
	const char *prefix;
	enum uptrkv_attach_kind kind;
	enum bpf_prog_type type;
	enum bpf_attach_type eat;
	bool retprobe;
};

static const struct sec_prefix sec_prefixes[] = {
	{ "tp_btf/", UPTRKV_AK_TRACE, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP },
	{ "fentry/", UPTRKV_AK_TRACE, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY },
	{ "fexit/", UPTRKV_AK_TRACE, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT },
	{ "fmod_ret/", UPTRKV_AK_TRACE, BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN },
	{ "lsm/", UPTRKV_AK_LSM, BPF_PROG_TYPE_LSM, BPF_LSM_MAC },
	{ "raw_tp/", UPTRKV_AK_RAW_TP, BPF_PROG_TYPE_RAW_TRACEPOINT, 0 },
	{ "raw_tracepoint/", UPTRKV_AK_RAW_TP, BPF_PROG_TYPE_RAW_TRACEPOINT, 0 },
	{ "uprobe/", UPTRKV_AK_UPROBE, BPF_PROG_TYPE_KPROBE, 0, false },
	{ "uretprobe/", UPTRKV_AK_UPROBE, BPF_PROG_TYPE_KPROBE, 0, true },
	{ "tp/", UPTRKV_AK_TP, BPF_PROG_TYPE_TRACEPOINT, 0 },
	{ "tracepoint/", UPTRKV_AK_TP, BPF_PROG_TYPE_TRACEPOINT, 0 },
	{ "cgroup_skb/ingress", UPTRKV_AK_CGROUP, BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS },
	{ "cgroup_skb/egress", UPTRKV_AK_CGROUP, BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS },
};

static int parse_uprobe(const char *rest, struct uptrkv_hook_spec *h, struct uptrkv_error *e);

/* XDP, cgroup and bare uprobe hooks: the SEC() has no target, the
 * manifest's attach: gives it. */
static int parse_targeted(const char *attach, struct uptrkv_hook_spec *h, struct uptrkv_error *e)
{
	const char *want = h->kind == UPTRKV_AK_XDP ? "xdp:" :
			   h->kind == UPTRKV_AK_CGROUP ? "cgroup:" : "uprobe:";

	if (!attach)
		return uptrkv_err(e, -EINVAL, "SEC(\"%s\") needs a target: list the program as "
				  "{name: NAME, attach: %sTARGET} in the manifest", h->sec, want);
	if (strncmp(attach, want, strlen(want)))
		return uptrkv_err(e, -EINVAL, "SEC(\"%s\"): attach '%s' is not %s...", h->sec,
				  attach, want);
	if (h->kind == UPTRKV_AK_UPROBE)
		return parse_uprobe(attach + strlen(want), h, e);
	snprintf(h->target, sizeof(h->target), "%s", attach + strlen(want));
	return 0;
}

/* "uprobe/PATH:FUNC[+OFF]" */
static int parse_uprobe(const char *rest, struct uptrkv_hook_spec *h, struct uptrkv_error *e)
{
	const char *colon = strrchr(rest, ':');
	char *plus;

	if (!colon || colon == rest || !colon[1])
		return uptrkv_err(e, -EOPNOTSUPP,
				  "SEC(\"%s\"): a uprobe needs BINARY:FUNCTION to be attached by uptrkv",
				  h->sec);
	snprintf(h->path, sizeof(h->path), "%.*s", (int)(colon - rest), rest);
	snprintf(h->target, sizeof(h->target), "%s", colon + 1);
	plus = strchr(h->target, '+');
	if (plus) {
		*plus = '\0';
		h->offset = strtoul(plus + 1, NULL, 0);
	}
	return 0;
}

int uptrkv_hook_spec__parse(const char *sec, const char *attach, struct uptrkv_hook_spec *h,
			    struct uptrkv_error *e)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->sec, sizeof(h->sec), "%s", sec);
	if (!strcmp(sec, "uprobe") || !strcmp(sec, "uretprobe")) {
		h->kind = UPTRKV_AK_UPROBE;
		h->type = BPF_PROG_TYPE_KPROBE;
		h->retprobe = sec[1] == 'r';
		return parse_targeted(attach, h, e);
	}
	if (!strcmp(sec, "xdp")) {
		h->kind = UPTRKV_AK_XDP;
		h->type = BPF_PROG_TYPE_XDP;
		h->eat = BPF_XDP;
		return parse_targeted(attach, h, e);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sec_prefixes); i++) {
		const struct sec_prefix *p = &sec_prefixes[i];
		size_t n = strlen(p->prefix);

		if (strncmp(sec, p->prefix, n))
			continue;
		h->kind = p->kind;
		h->type = p->type;
		h->eat = p->eat;
		h->retprobe = p->retprobe;
		if (p->kind == UPTRKV_AK_CGROUP && !sec[n])
			return parse_targeted(attach, h, e);
		if (p->kind == UPTRKV_AK_UPROBE && !sec[n] && attach)
			return parse_targeted(attach, h, e);
		if (!sec[n] || p->kind == UPTRKV_AK_CGROUP)
			continue;
		if (p->kind == UPTRKV_AK_UPROBE)
			return parse_uprobe(sec + n, h, e);
		snprintf(h->target, sizeof(h->target), "%s", sec + n);
		return 0;
	}
	return uptrkv_err(e, -EOPNOTSUPP,
			  "SEC(\"%s\"): uptrkv attaches tp_btf/, raw_tp/, uprobe/BIN:FUNC, fentry/, "
			  "fexit/, lsm/, tp/, xdp and cgroup_skb/ programs", sec);
}

bool uptrkv_sec__sleepable(const char *sec)
{
	size_t n = strcspn(sec, "/");

	/* libbpf's sleepable kinds: "fentry.s/...", "lsm.s/...", "uprobe.s", ...
	 * and "syscall". It sets BPF_F_SLEEPABLE only at load, so the name is
	 * all there is to go by before. */
	return (n >= 3 && sec[n - 2] == '.' && sec[n - 1] == 's') || !strcmp(sec, "syscall");
}

/* ---- the hooks of a deployment ---- */

static int hook_path(char *buf, size_t sz, struct uptrkv_deploy *d, const char *hook,
		     const char *leaf)
{
	if (leaf)
		return uptrkv_pin_path(buf, sz, d->dir, "%s/%s/%s", UPTRKV_PIN_HOOKS, hook, leaf);
	return uptrkv_pin_path(buf, sz, d->dir, "%s/%s", UPTRKV_PIN_HOOKS, hook);
}

static struct bpf_link *attach_cgroup(struct bpf_program *prog, const char *path)
{
	struct bpf_link *link;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	link = bpf_program__attach_cgroup(prog, fd);
	close(fd);
	return link;
}

static struct bpf_link *attach_entry(struct bpf_program *prog, const struct uptrkv_hook_spec *h)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = h->retprobe, .func_name = h->target);
	unsigned int ifindex;
	char cat[128];
	const char *slash;

	switch (h->kind) {
	case UPTRKV_AK_XDP:
		ifindex = if_nametoindex(h->target);
		if (!ifindex)
			return NULL;
		return bpf_program__attach_xdp(prog, ifindex);
	case UPTRKV_AK_CGROUP:
		return attach_cgroup(prog, h->target);
	case UPTRKV_AK_TRACE:
		return bpf_program__attach_trace(prog);
	case UPTRKV_AK_LSM:
		return bpf_program__attach_lsm(prog);
	case UPTRKV_AK_RAW_TP:
		return bpf_program__attach_raw_tracepoint(prog, h->target);
	case UPTRKV_AK_UPROBE:
		return bpf_program__attach_uprobe_opts(prog, -1, h->path, h->offset, &uo);
	case UPTRKV_AK_TP:
		slash = strchr(h->target, '/');
		if (!slash) {
			errno = EINVAL;
			return NULL;
		}
		snprintf(cat, sizeof(cat), "%.*s", (int)(slash - h->target), h->target);
		return bpf_program__attach_tracepoint(prog, cat, slash + 1);
	}
	errno = EOPNOTSUPP;
	return NULL;
}

static int load_entry(struct uptrkv_deploy *d, const struct uptrkv_hook_spec *h, int disp_fd,
		      struct uptrkv_entry **out, struct uptrkv_error *e)
{
	struct uptrkv_entry *skel;
	struct bpf_program *prog;
	int err;

	skel = uptrkv_entry__open();
	if (!skel)
		return uptrkv_errno(e, -errno, "open the entry program");
	prog = skel->progs.uptrkv_entry;
	bpf_program__set_type(prog, h->type);
	bpf_program__set_expected_attach_type(prog, h->eat);
	if (h->kind == UPTRKV_AK_TRACE || h->kind == UPTRKV_AK_LSM) {
		err = bpf_program__set_attach_target(prog, 0, h->target);
		if (err) {
			err = uptrkv_errno(e, err, "entry for %s: attach target %s", h->sec, h->target);
			goto err;
		}
	}
	/* With no version in the live slot, packets pass. */
	if (h->kind == UPTRKV_AK_XDP)
		skel->rodata->uptrkv_default_ret = 2;	/* XDP_PASS */
	else if (h->kind == UPTRKV_AK_CGROUP)
		skel->rodata->uptrkv_default_ret = 1;	/* allow */
	err = bpf_map__reuse_fd(skel->maps.uptrkv_ctl, d->ctl_fd);
	err = err ?: bpf_map__reuse_fd(skel->maps.uptrkv_disp, disp_fd);
	if (err) {
		err = uptrkv_errno(e, err, "entry for %s: reuse maps", h->sec);
		goto err;
	}
	err = uptrkv_entry__load(skel);
	if (err) {
		err = uptrkv_errno(e, err, "entry for %s: load", h->sec);
		goto err;
	}
	*out = skel;
	return 0;
err:
	uptrkv_entry__destroy(skel);
	return err;
}

static int pin_link(struct bpf_link *link, const char *path, struct uptrkv_error *e)
{
	int err = bpf_link__pin(link, path);

	if (err)
		return uptrkv_errno(e, err, "pin %s", path);
	/* The pin keeps the link; destroying ours must not detach it (a perf
	 * link's detach would also disable the uprobe's perf event). */
	bpf_link__disconnect(link);
	close(bpf_link__fd(link));
	return 0;
}

static int create_hook(struct uptrkv_deploy *d, const struct uptrkv_vprog *p, const char *dir,
		       struct uptrkv_error *e)
{
	char path[PATH_MAX];
	struct uptrkv_entry *skel = NULL;
	struct bpf_link *link = NULL;
	int disp_fd, err;

	disp_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "uptrkv_disp", 4, 4, UPTRKV_NR_SLOTS, NULL);
	if (disp_fd < 0)
		return uptrkv_errno(e, -errno, "hook %s: create prog array", p->hook);
	err = load_entry(d, &p->spec, disp_fd, &skel, e);
	if (err)
		goto out;
	link = attach_entry(skel->progs.uptrkv_entry, &p->spec);
	if (!link) {
		err = uptrkv_errno(e, -errno, "hook %s: attach entry program", p->spec.sec);
		goto out;
	}
	if (mkdir(dir, 0700)) {
		err = uptrkv_errno(e, -errno, "create %s", dir);
		goto out;
	}
	hook_path(path, sizeof(path), d, p->hook, UPTRKV_PIN_HOOK_DISP);
	if (bpf_obj_pin(disp_fd, path)) {
		err = uptrkv_errno(e, -errno, "pin %s", path);
		goto out;
	}
	hook_path(path, sizeof(path), d, p->hook, UPTRKV_PIN_HOOK_LINK);
	err = pin_link(link, path, e);
out:
	if (err && !access(dir, F_OK))
		uptrkv_deploy__remove_dir(dir, NULL);
	bpf_link__destroy(link);
	uptrkv_entry__destroy(skel);
	close(disp_fd);
	return err;
}

int uptrkv_hook__ensure(struct uptrkv_deploy *d, const struct uptrkv_vprog *p,
			struct uptrkv_error *e)
{
	char dir[PATH_MAX], path[PATH_MAX];

	uptrkv_pin_path(dir, sizeof(dir), d->dir, "%s", UPTRKV_PIN_HOOKS);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return uptrkv_errno(e, -errno, "create %s", dir);
	hook_path(dir, sizeof(dir), d, p->hook, NULL);
	hook_path(path, sizeof(path), d, p->hook, UPTRKV_PIN_HOOK_LINK);
	if (!access(path, F_OK))
		return 0;
	/* A folder without a link is what a crash mid-create leaves. */
	if (!access(dir, F_OK))
		uptrkv_deploy__remove_dir(dir, NULL);
	return create_hook(d, p, dir, e);
}

int uptrkv_hook__set(struct uptrkv_deploy *d, const char *hook, __u32 slot, int prog_fd,
		     struct uptrkv_error *e)
{
	char path[PATH_MAX];
	int fd, err = 0;

	hook_path(path, sizeof(path), d, hook, UPTRKV_PIN_HOOK_DISP);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return uptrkv_errno(e, -errno, "hook %s: open %s", hook, path);
	if (prog_fd >= 0) {
		if (bpf_map_update_elem(fd, &slot, &prog_fd, BPF_ANY))
			err = uptrkv_errno(e, -errno, "hook %s: put program in slot %u", hook, slot);
	} else if (bpf_map_delete_elem(fd, &slot) && errno != ENOENT) {
		err = uptrkv_errno(e, -errno, "hook %s: empty slot %u", hook, slot);
	}
	close(fd);
	return err;
}

int uptrkv_hook__list(struct uptrkv_deploy *d, char ***names, size_t *n, struct uptrkv_error *e)
{
	char dir[PATH_MAX];
	struct dirent *de;
	char **v = NULL;
	size_t nr = 0;
	DIR *dh;

	*names = NULL;
	*n = 0;
	uptrkv_pin_path(dir, sizeof(dir), d->dir, "%s", UPTRKV_PIN_HOOKS);
	dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "list %s", dir);
	while ((de = readdir(dh))) {
		char **nv;

		if (de->d_name[0] == '.')
			continue;
		nv = realloc(v, (nr + 1) * sizeof(*v));
		if (!nv || !(nv[nr] = strdup(de->d_name))) {
			closedir(dh);
			uptrkv_strv__free(nv ? nv : v, nr);
			return uptrkv_err(e, -ENOMEM, "out of memory");
		}
		v = nv;
		nr++;
	}
	closedir(dh);
	*names = v;
	*n = nr;
	return 0;
}

static const struct uptrkv_vprog *prog_for_hook(const struct uptrkv_version *v, const char *hook)
{
	for (size_t i = 0; i < v->nr_progs; i++)
		if (!strcmp(v->progs[i].hook, hook))
			return &v->progs[i];
	return NULL;
}

int uptrkv_hook__fill_slot(struct uptrkv_deploy *d, const struct uptrkv_version *v,
			   struct uptrkv_error *e)
{
	char **hooks = NULL;
	size_t n = 0;
	int err;

	err = uptrkv_hook__list(d, &hooks, &n, e);
	for (size_t i = 0; !err && i < n; i++) {
		const struct uptrkv_vprog *p = prog_for_hook(v, hooks[i]);

		err = uptrkv_hook__set(d, hooks[i], v->slot, p ? p->fd : -1, e);
	}
	uptrkv_strv__free(hooks, n);
	return err;
}
