// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loading one version's BPF object against a deployment's live maps. This
 * is the preflight: the kernel verifies every program here, against the
 * real store map, before anything visible changes.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "history.h"
#include "version.h"

/* Like uptrkv_errno, but knows libbpf's own codes (-LIBBPF_ERRNO__FORMAT...),
 * which strerror() calls "Unknown error 4001". */
__attribute__((format(printf, 3, 4)))
static int libbpf_err(struct uptrkv_error *e, int err, const char *fmt, ...)
{
	char what[UPTRKV_ERRMSG_MAX], why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	libbpf_strerror(err, why, sizeof(why));
	return uptrkv_err(e, err, "%.380s: %s", what, why);
}

/*
 * "tp_btf/sys_enter" -> "tp_btf-sys_enter": one bpffs folder per hook.
 * bpffs refuses dots in names, so only [A-Za-z0-9_-] are kept.
 */
static void hook_name(const char *sec, unsigned int dup, char *buf, size_t sz)
{
	size_t i, n = 0;

	for (i = 0; sec[i] && n + 8 < sz; i++) {
		char c = sec[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_' || c == '-';

		buf[n++] = keep ? c : (c == '/' ? '-' : '_');
	}
	buf[n] = '\0';
	if (dup)
		snprintf(buf + n, sz - n, "-%u", dup);
}

static bool wanted(const struct uptrkv_manifest *m, const char *name, const char **attach)
{
	*attach = NULL;
	if (!m->programs)
		return true;
	for (size_t i = 0; i < m->nr_programs; i++) {
		if (strcmp(m->programs[i], name))
			continue;
		*attach = m->attach ? m->attach[i] : NULL;
		return true;
	}
	return false;
}

static int check_listed_programs(const struct uptrkv_manifest *m, struct bpf_object *obj,
				 struct uptrkv_error *e)
{
	for (size_t i = 0; i < m->nr_programs; i++) {
		if (!bpf_object__find_program_by_name(obj, m->programs[i]))
			return uptrkv_err(e, -ENOENT, "%s: program '%s' (listed in the manifest) is not in %s",
					  m->path, m->programs[i], m->object);
	}
	return 0;
}

/* Sets the rodata variable var; a missing one is an error only if required
 * (objects built before an optional variable was added still load). */
static int set_rodata_u32(struct bpf_object *obj, const char *var, __u32 val, bool required,
			  struct uptrkv_error *e)
{
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct btf *btf = bpf_object__btf(obj);
	const void *init;
	char *data = NULL;
	size_t size;
	int id, err;

	if (!rodata || !btf)
		goto missing;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		goto missing;
	sec = btf__type_by_id(btf, id);
	init = bpf_map__initial_value(rodata, &size);
	if (!init || !(data = malloc(size)))
		goto missing;
	memcpy(data, init, size);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		if (vs->size != sizeof(__u32) || vs->offset + sizeof(__u32) > size)
			break;
		memcpy(data + vs->offset, &val, sizeof(val));
		err = bpf_map__set_initial_value(rodata, data, size);
		free(data);
		return err ? uptrkv_errno(e, err, "set %s", var) : 0;
	}
	free(data);
missing:
	if (!required)
		return 0;
	return uptrkv_err(e, -ENOENT, "object has no 'const volatile __u32 %s': build it with "
			  "bpf/uptrkv.bpf.h and use the store API in at least one program", var);
}

/* ---- config: values set in .rodata before load ---- */

static const struct btf_var_secinfo *rodata_var(const struct btf *btf, const char *name,
						const struct btf_type **type)
{
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	const struct btf_type *sec = id < 0 ? NULL : btf__type_by_id(btf, id);
	const struct btf_var_secinfo *vs;

	if (!sec)
		return NULL;
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (v && btf_is_var(v) && !strcmp(btf__name_by_offset(btf, v->name_off), name)) {
			*type = btf__type_by_id(btf, v->type);
			while (*type && (btf_is_mod(*type) || btf_is_typedef(*type)))
				*type = btf__type_by_id(btf, (*type)->type);
			return vs;
		}
	}
	return NULL;
}

/* An integer of width bytes (signed or not) from the manifest's text. */
static int config_int(const struct uptrkv_config_item *c, __u32 width, bool sgn, void *dst,
		      char *why, size_t sz)
{
	__u64 umax = width == 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
	__s64 smin = width == 8 ? INT64_MIN : -(1ll << (8 * width - 1));
	char *end;
	__u64 v;

	errno = 0;
	if (!c->plain || !c->value[0]) {
		snprintf(why, sz, "expected an integer, got text \"%.40s\"", c->value);
		return -EINVAL;
	}
	if (c->value[0] == '-') {
		__s64 sv = strtoll(c->value, &end, 0);

		if (*end || errno || !sgn || sv < smin)
			goto range;
		v = (__u64)sv;
	} else {
		v = strtoull(c->value, &end, 0);
		if (*end || errno || v > (sgn ? umax >> 1 : umax))
			goto range;
	}
	memcpy(dst, &v, width);	/* little endian: the low bytes */
	return 0;
range:
	snprintf(why, sz, "expected an integer %s%lld..%llu for a %u-byte %s integer, got %.40s",
		 "", sgn ? (long long)smin : 0ll, (unsigned long long)(sgn ? umax >> 1 : umax),
		 width, sgn ? "signed" : "unsigned", c->value);
	return -ERANGE;
}

static int config_value(const struct btf *btf, const struct btf_type *t,
			const struct uptrkv_config_item *c, void *dst, char *why, size_t sz)
{
	if (btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_BOOL)) {
		bool yes = !strcmp(c->value, "true"), no = !strcmp(c->value, "false");

		if (!c->plain || (!yes && !no)) {
			snprintf(why, sz, "expected true or false, got %.40s", c->value);
			return -EINVAL;
		}
		*(__u8 *)dst = yes;
		return 0;
	}
	if ((btf_is_int(t) || btf_is_any_enum(t)) && t->size <= 8 && t->size &&
	    !(t->size & (t->size - 1)))
		return config_int(c, t->size, btf_is_int(t) ? btf_int_encoding(t) & BTF_INT_SIGNED
							     : btf_kflag(t), dst, why, sz);
	if (btf_is_array(t)) {
		const struct btf_type *el = btf__type_by_id(btf, btf_array(t)->type);
		__u32 n = btf_array(t)->nelems;

		while (el && (btf_is_mod(el) || btf_is_typedef(el)))
			el = btf__type_by_id(btf, el->type);
		if (el && btf_is_int(el) && el->size == 1) {
			if (strlen(c->value) >= n) {
				snprintf(why, sz, "expected a string of at most %u characters, got %zu",
					 n ? n - 1 : 0, strlen(c->value));
				return -ERANGE;
			}
			memset(dst, 0, n);
			memcpy(dst, c->value, strlen(c->value));
			return 0;
		}
	}
	snprintf(why, sz, "its type cannot be set from a manifest (integers, bool, enums and "
		 "char arrays can)");
	return -EINVAL;
}

static int set_one_config(const struct btf *btf, const struct uptrkv_manifest *m,
			  const struct uptrkv_config_item *c, char *data, size_t size,
			  struct uptrkv_error *e)
{
	const struct btf_type *t = NULL;
	const struct btf_var_secinfo *vs = rodata_var(btf, c->name, &t);
	char why[200];
	int err;

	if (!vs || !t)
		return uptrkv_err(e, -ENOENT, "%s:%d:%d: config.%s: %s has no 'const volatile' "
				  "variable %s in .rodata", m->path ? m->path : "manifest", c->line,
				  c->col, c->name, m->object, c->name);
	if (vs->offset + vs->size > size)
		return uptrkv_err(e, -EINVAL, "%s:%d:%d: config.%s: outside .rodata", m->path,
				  c->line, c->col, c->name);
	err = config_value(btf, t, c, data + vs->offset, why, sizeof(why));
	if (err)
		return uptrkv_err(e, err, "%s:%d:%d: config.%s: %s", m->path ? m->path : "manifest",
				  c->line, c->col, c->name, why);
	return 0;
}

int uptrkv_version__set_config(struct bpf_object *obj, const struct uptrkv_manifest *m,
			       struct uptrkv_error *e)
{
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	const void *init;
	char *data;
	size_t size;
	int err = 0;

	if (!m->nr_config)
		return 0;
	init = rodata && btf ? bpf_map__initial_value(rodata, &size) : NULL;
	if (!init)
		return uptrkv_err(e, -ENOENT, "%s:%d:%d: config.%s: %s has no .rodata",
				  m->path ? m->path : "manifest", m->config[0].line, m->config[0].col,
				  m->config[0].name, m->object);
	data = malloc(size);
	if (!data)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	memcpy(data, init, size);
	for (size_t i = 0; !err && i < m->nr_config; i++)
		err = set_one_config(btf, m, &m->config[i], data, size, e);
	if (!err && (err = bpf_map__set_initial_value(rodata, data, size)))
		err = uptrkv_errno(e, err, "set .rodata");
	free(data);
	return err;
}

/* Whether a program that will be loaded could run sleepable. uptrkv only
 * loads non-sleepable hooks (sec_prefixes); this keeps it so if that list
 * ever grows a sleepable kind, or a flag is set some other way. */
static bool any_sleepable(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		if (uptrkv_sec__sleepable(bpf_program__section_name(p)) ||
		    (bpf_program__flags(p) & BPF_F_SLEEPABLE))
			return true;
	}
	return false;
}

static int check_store_map(struct bpf_map *map, const char *obj_path, struct uptrkv_error *e)
{
	if (bpf_map__type(map) != BPF_MAP_TYPE_TASK_STORAGE ||
	    bpf_map__value_size(map) != sizeof(struct uptrkv_task_store))
		return uptrkv_err(e, -EINVAL, "%s: map '%s' is not an uptrkv store (type %d, value size %u; "
				  "declare it with UPTRKV_STORE_MAP())", obj_path, bpf_map__name(map),
				  bpf_map__type(map), bpf_map__value_size(map));
	return 0;
}

/* Reuses the deployment's shared map of the same name, if pinned. */
static int reuse_shared_map(struct bpf_map *map, struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	char path[PATH_MAX];
	int fd, err;

	if (uptrkv_pin_path(path, sizeof(path), d->dir, "%s/%s", UPTRKV_PIN_MAPS, bpf_map__name(map)))
		return uptrkv_err(e, -ENAMETOOLONG, "%s: path too long", d->dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : uptrkv_errno(e, -errno, "open %s", path);
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (err)
		return uptrkv_errno(e, err, "reuse map %s", path);
	return 0;
}

/* The plan resets or copies this shared map: the version gets its own. */
static bool own_map(const struct uptrkv_plan *p, const char *name)
{
	for (size_t i = 0; p && i < p->nr_maps; i++)
		if (p->maps[i].has_new && !strcmp(p->maps[i].new.name, name))
			return p->maps[i].action == UPTRKV_MACT_RESET ||
			       p->maps[i].action == UPTRKV_MACT_COPY;
	return false;
}

/* .bss or .data whose whole section is unchanged: the new version shares
 * the live version's map, so nothing is copied and no write is lost. */
static int reuse_internal(struct bpf_map *map, const struct uptrkv_load_carry *carry,
			  struct uptrkv_error *e)
{
	const char *name = bpf_map__name(map), *dot = strrchr(name, '.');
	int sec = dot ? uptrkv_gsec__of(dot) : -1, err;

	if (!carry || sec < 0 || carry->gsec_fd[sec] < 0)
		return 0;
	err = bpf_map__reuse_fd(map, carry->gsec_fd[sec]);
	return err ? uptrkv_errno(e, err, "reuse the live %s map", dot) : 0;
}

static int prepare_maps(struct bpf_object *obj, const struct uptrkv_manifest *m,
			struct uptrkv_deploy *d, const struct uptrkv_load_carry *carry,
			struct uptrkv_error *e)
{
	struct bpf_map *map, *store;
	int err;

	store = bpf_object__find_map_by_name(obj, m->store_map);
	if (!store)
		return uptrkv_err(e, -ENOENT, "%s: no map '%s' in %s (set store.map in the manifest, or "
				  "include bpf/uptrkv.bpf.h)", m->path, m->store_map, m->object);
	err = check_store_map(store, m->object, e);
	if (err)
		return err;
	if (!d)
		return 0;
	bpf_object__for_each_map(map, obj) {
		if (map == store) {
			if (d->store_fd >= 0 && (err = bpf_map__reuse_fd(map, d->store_fd)))
				return uptrkv_errno(e, err, "reuse the live store map");
			continue;
		}
		if (bpf_map__is_internal(map)) {
			err = reuse_internal(map, carry, e);
			if (err)
				return err;
			continue;
		}
		if (carry && own_map(carry->plan, bpf_map__name(map)))
			continue;
		err = reuse_shared_map(map, d, e);
		if (err)
			return err;
	}
	return 0;
}

static int select_programs(struct uptrkv_version *v, const struct uptrkv_manifest *m,
			   struct uptrkv_error *e)
{
	struct bpf_program *p;
	int err;

	bpf_object__for_each_program(p, v->obj) {
		struct uptrkv_vprog *vp;
		struct uptrkv_hook_spec spec;
		unsigned int dup = 0;
		const char *attach;
		char sec_at[1024];

		if (!wanted(m, bpf_program__name(p), &attach)) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		err = uptrkv_hook_spec__parse(bpf_program__section_name(p), attach, &spec, e);
		if (err && !m->programs) {
			/* Not attachable and not asked for: a helper program. */
			bpf_program__set_autoload(p, false);
			continue;
		}
		if (err) {
			char why[UPTRKV_ERRMSG_MAX];

			snprintf(why, sizeof(why), "%s", e ? e->msg : "");
			return uptrkv_err(e, err, "program %s: %s", bpf_program__name(p), why);
		}
		if (v->nr_progs == UPTRKV_MAX_PROGS)
			return uptrkv_err(e, -E2BIG, "%s: more than %d programs", m->object, UPTRKV_MAX_PROGS);
		vp = &v->progs[v->nr_progs];
		snprintf(vp->name, sizeof(vp->name), "%s", bpf_program__name(p));
		vp->spec = spec;
		/* The hook is the SEC() and, for XDP and cgroup, its target. */
		snprintf(sec_at, sizeof(sec_at), "%s%s%s%s%s", spec.sec, attach ? "/" : "",
			 attach ? spec.path : "", attach && spec.path[0] ? ":" : "",
			 attach ? spec.target : "");
		for (size_t i = 0; i < v->nr_progs; i++)
			if (!strcmp(v->progs[i].spec.sec, spec.sec) &&
			    !strcmp(v->progs[i].spec.target, spec.target) &&
			    !strcmp(v->progs[i].spec.path, spec.path))
				dup++;
		hook_name(sec_at, dup, vp->hook, sizeof(vp->hook));
		v->nr_progs++;
	}
	if (!v->nr_progs)
		return uptrkv_err(e, -ENOENT, "%s: no program with an attachable SEC() in %s",
				  m->path, m->object);
	return 0;
}

int uptrkv_version__load_mem(const struct uptrkv_manifest *m, const void *buf, size_t len,
			     struct uptrkv_deploy *d, __u32 slot,
			     const struct uptrkv_load_carry *carry, struct uptrkv_version **out,
			     struct uptrkv_error *e)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct uptrkv_version *v;
	char name[64];
	int err;

	*out = NULL;
	/* The name libbpf gives an object opened from its file (the base name
	 * up to the first dot): internal maps are named after it. */
	snprintf(name, sizeof(name), "%s", strrchr(m->object, '/') ? strrchr(m->object, '/') + 1
								    : m->object);
	name[strcspn(name, ".")] = '\0';
	oo.object_name = name;
	v = calloc(1, sizeof(*v));
	if (!v)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	v->slot = slot;
	v->version = m->version;
	v->store_fd = -1;
	v->obj = bpf_object__open_mem(buf, len, &oo);
	if (!v->obj) {
		err = libbpf_err(e, -errno, "%s: cannot open BPF object %s", m->path, m->object);
		goto err;
	}
	err = check_listed_programs(m, v->obj, e);
	err = err ?: prepare_maps(v->obj, m, d, carry, e);
	err = err ?: select_programs(v, m, e);
	err = err ?: uptrkv_version__set_config(v->obj, m, e);
	err = err ?: set_rodata_u32(v->obj, "uptrkv_slot", slot, true, e);
	err = err ?: set_rodata_u32(v->obj, "uptrkv_layout_hash", m->layout_hash, true, e);
	/* Every hook uptrkv deploys is non-sleepable (sec_prefixes has no
	 * ".s" section), so the grace periods it waits for cover every run. */
	err = err ?: set_rodata_u32(v->obj, "uptrkv_sleepable", any_sleepable(v->obj), false, e);
	if (err)
		goto err;
	err = bpf_object__load(v->obj);
	if (err == -EACCES) {
		/* EACCES from BPF_PROG_LOAD is the verifier saying no. */
		err = uptrkv_err(e, err, "%s: the verifier rejected a program of %s (run with -v "
				 "for its whole log)", m->path, m->object);
		goto err;
	}
	if (err) {
		err = libbpf_err(e, err, "%s: loading %s failed (run with -v for libbpf's log)",
				 m->path, m->object);
		goto err;
	}
	for (size_t i = 0; i < v->nr_progs; i++)
		v->progs[i].fd = bpf_program__fd(bpf_object__find_program_by_name(v->obj, v->progs[i].name));
	v->store_fd = bpf_map__fd(bpf_object__find_map_by_name(v->obj, m->store_map));
	v->plan = carry ? carry->plan : NULL;
	*out = v;
	return 0;
err:
	uptrkv_version__free(v);
	return err;
}

int uptrkv_version__load(const struct uptrkv_manifest *m, struct uptrkv_deploy *d, __u32 slot,
			 struct uptrkv_version **out, struct uptrkv_error *e)
{
	size_t len;
	void *buf;
	int err;

	*out = NULL;
	err = uptrkv_read_file(m->object, UPTRKV_OBJECT_MAX, &buf, &len, e);
	if (err)
		return libbpf_err(e, err, "%s: cannot open BPF object %s", m->path, m->object);
	/* libbpf is done with the bytes once the object is loaded. */
	err = uptrkv_version__load_mem(m, buf, len, d, slot, NULL, out, e);
	free(buf);
	return err;
}

int uptrkv_version__open_pinned(struct uptrkv_deploy *d, __u32 slot, struct uptrkv_version **out,
				struct uptrkv_error *e)
{
	struct uptrkv_state_rec rec;
	struct uptrkv_version *v;
	char path[PATH_MAX];
	int err;

	*out = NULL;
	err = uptrkv_deploy__read_rec(d, slot, &rec, e);
	if (err)
		return err;
	v = calloc(1, sizeof(*v));
	if (!v)
		return uptrkv_err(e, -ENOMEM, "out of memory");
	v->slot = slot;
	v->version = rec.version;
	v->store_fd = d->store_fd;
	for (__u32 i = 0; i < rec.nr_progs; i++) {
		struct uptrkv_vprog *vp = &v->progs[i];

		memcpy(vp->name, rec.progs[i].name, sizeof(vp->name));
		memcpy(vp->hook, rec.progs[i].hook, sizeof(vp->hook));
		vp->name[sizeof(vp->name) - 1] = vp->hook[sizeof(vp->hook) - 1] = '\0';
		uptrkv_pin_path(path, sizeof(path), d->dir, UPTRKV_PIN_SLOT_FMT "/%s", slot,
			vp->name);
		vp->fd = bpf_obj_get(path);
		if (vp->fd < 0) {
			err = uptrkv_errno(e, -errno, "deployment %s: version %u's program %s is gone (%s)",
					   d->name, rec.version, vp->name, path);
			goto err;
		}
		vp->owned_fd = true;
		v->nr_progs++;
	}
	*out = v;
	return 0;
err:
	uptrkv_version__free(v);
	return err;
}

void uptrkv_version__state(const struct uptrkv_version *v, struct uptrkv_state_prog *out)
{
	for (size_t i = 0; i < v->nr_progs; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].name, sizeof(out[i].name), "%s", v->progs[i].name);
		snprintf(out[i].hook, sizeof(out[i].hook), "%s", v->progs[i].hook);
	}
}

static int pin_programs(struct uptrkv_version *v, struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	char dir[PATH_MAX], path[PATH_MAX];

	uptrkv_pin_path(dir, sizeof(dir), d->dir, UPTRKV_PIN_SLOT_FMT, v->slot);
	/* The previous occupant of this slot is two versions old: unreachable. */
	if (!access(dir, F_OK))
		uptrkv_deploy__remove_dir(dir, NULL);
	if (mkdir(dir, 0700))
		return uptrkv_errno(e, -errno, "create %s", dir);
	for (size_t i = 0; i < v->nr_progs; i++) {
		uptrkv_pin_path(path, sizeof(path), dir, "%s", v->progs[i].name);
		if (bpf_obj_pin(v->progs[i].fd, path))
			return uptrkv_errno(e, -errno, "pin %s", path);
	}
	return 0;
}

static int pin_maps(struct uptrkv_version *v, struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct bpf_map *map;

	uptrkv_pin_path(dir, sizeof(dir), d->dir, "%s", UPTRKV_PIN_MAPS);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return uptrkv_errno(e, -errno, "create %s", dir);
	bpf_object__for_each_map(map, v->obj) {
		int fd = bpf_map__fd(map);

		if (bpf_map__is_internal(map))
			continue;
		if (fd == v->store_fd) {
			if (d->store_fd >= 0)
				continue;
			uptrkv_pin_path(path, sizeof(path), d->dir, "%s", UPTRKV_PIN_STORE);
			if (bpf_obj_pin(fd, path))
				return uptrkv_errno(e, -errno, "pin %s", path);
			d->store_fd = dup(fd);
			continue;
		}
		uptrkv_pin_path(path, sizeof(path), dir, "%s", bpf_map__name(map));
		if (!access(path, F_OK) || own_map(v->plan, bpf_map__name(map)))
			continue;
		if (bpf_obj_pin(fd, path))
			return uptrkv_errno(e, -errno, "pin %s", path);
	}
	return 0;
}

int uptrkv_version__pin(struct uptrkv_version *v, struct uptrkv_deploy *d, struct uptrkv_error *e)
{
	int err = 0;

	if (v->obj)
		err = pin_maps(v, d, e);
	return err ?: (v->obj ? pin_programs(v, d, e) : 0);
}

int uptrkv_version__repin(struct uptrkv_version *v, struct uptrkv_deploy *d, const char *name,
			  struct uptrkv_error *e)
{
	struct bpf_map *map = v->obj ? bpf_object__find_map_by_name(v->obj, name) : NULL;
	char path[PATH_MAX];

	if (!map)
		return uptrkv_err(e, -ENOENT, "map %s: not in the new version", name);
	uptrkv_pin_path(path, sizeof(path), d->dir, "%s/%s", UPTRKV_PIN_MAPS, name);
	if (unlink(path) && errno != ENOENT)
		return uptrkv_errno(e, -errno, "unpin %s", path);
	if (bpf_obj_pin(bpf_map__fd(map), path))
		return uptrkv_errno(e, -errno, "pin %s", path);
	return 0;
}

void uptrkv_version__free(struct uptrkv_version *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nr_progs; i++)
		if (v->progs[i].owned_fd && v->progs[i].fd >= 0)
			close(v->progs[i].fd);
	bpf_object__close(v->obj);
	free(v);
}
