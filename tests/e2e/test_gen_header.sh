#!/bin/bash
# `uptrkv gen header` output is used for real:
#  - compiled into a BPF object with clang >= 15 -target bpf, through
#    bpf/uptrkv.bpf.h, every accessor used, and loaded (verifier) when root;
#  - compiled after vmlinux.h alone and after linux/types.h alone (constants);
#  - compiled with gcc -Wall -Wextra -Werror into a program linked with
#    libuptrkv that checks the constants and what each accessor passes to
#    uptrkv_thread__get/put (through ld --wrap, so no kernel is needed).
set -uo pipefail
needs_root=0	# the verifier load only when root
source "$(dirname "$0")/env.sh"
LIB=$PWD/$BUILD/libuptrkv.a
need_built "$LIB"

# clang >= 15, found the way the Makefile finds it (14 drops btf_type_tag)
CLANG=${CLANG:-$(for c in clang-21 clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang; do
	command -v $c >/dev/null 2>&1 || continue
	v=$($c -dumpversion 2>/dev/null | cut -d. -f1)
	[ -n "$v" ] && [ "$v" -ge 15 ] && { echo $c; break; }; done)}
[ -n "$CLANG" ] || skip "no clang >= 15"
show() { sed 's/^/    /' "$tmp/err" | head -40; }

# ---- generate ---------------------------------------------------------------
run "$UPTRKV" gen header examples/demo/demo_v2.yaml -o "$tmp/demo.h"
[ $rc = 0 ] && [ -s "$tmp/demo.h" ] && ok "gen header demo_v2 -o" || { bad "gen header: exit $rc"; show; }
run "$UPTRKV" gen header examples/demo/demo_v2.yaml
cmp -s "$tmp/out" "$tmp/demo.h" && ok "gen header to stdout = -o" || bad "stdout and -o differ"
ls "$tmp" | grep -q '\.tmp\.' && bad "temporary file left behind" || ok "no temporary file left"

# every type, a default that must be escaped, and a name that is not C
cat >"$tmp/all.yaml" <<'EOF'
apiVersion: uptrkv/v1
name: all-types
version: 7
object: all.bpf.o
keys:
  - {id: 0, name: flag, size: 1, type: bool, default: true}
  - {id: 1, name: small, size: 1, type: s8, default: -5}
  - {id: 2, name: half, size: 2, type: s16}
  - {id: 3, name: port, size: 2, type: u16, default: 8080}
  - {id: 4, name: big_signed, size: 8, type: s64, default: -9223372036854775808}
  - {id: 5, name: tag, size: 24, type: string, default: "*/ \"q\" \\ end"}
  - {id: 6, name: raw, size: 16, default: "0xdeadbeef"}
  - {id: 7, name: byte, size: 1, type: u8}
  - {id: 1023, name: CamelCase, size: 4, type: s32, default: -1}
EOF
run "$UPTRKV" gen header "$tmp/all.yaml" -o "$tmp/all.h"
[ $rc = 0 ] && ok "gen header all-types" || { bad "gen header all-types: exit $rc"; show; }
grep -q '^#define ALL_TYPES_KEY_CAMELCASE 1023$' "$tmp/all.h" && ok "'-' becomes '_', names upper-cased" || bad "macro names"
grep -q 'static inline int all_types_put_CamelCase(struct uptrkv_thread \*t, __s32 v)' "$tmp/all.h" &&
	ok "typed user accessor" || bad "typed user accessor"
grep -q '#define ALL_TYPES_DEFAULT_BIG_SIGNED (-9223372036854775808ll)' "$tmp/all.h" && bad "INT64_MIN literal overflows" || true

# usage and input errors
run "$UPTRKV" gen header tests/unit/manifests/bad_many.yaml -o "$tmp/x.h"
[ $rc = 2 ] && [ ! -e "$tmp/x.h" ] && grep -q "bad_many.yaml:4:10:" "$tmp/err" && ok "bad manifest: exit 2, nothing written" ||
	{ bad "bad manifest: exit $rc"; show; }
run "$UPTRKV" gen footer examples/demo/demo_v2.yaml
[ $rc = 2 ] && ok "gen footer: usage error" || bad "gen footer: exit $rc"
run "$UPTRKV" gen header examples/demo/demo_v2.yaml --json
[ $rc = 2 ] && grep -q "needs -o" "$tmp/out" && ok "--json without -o refused" || bad "--json without -o: exit $rc"
run "$UPTRKV" gen header examples/demo/demo_v2.yaml --json -o "$tmp/j.h"
[ $rc = 0 ] && [ "$(json "$tmp/out" 'j["name"] == "demo" and j["version"] == 2 and j["keys"] == 9')" = True ] &&
	ok "--json -o: summary document" || bad "--json -o: exit $rc: $(cat "$tmp/out")"
sed 's/^name: demo/name: 9lives/' examples/demo/demo_v2.yaml >"$tmp/9lives.yaml"
run "$UPTRKV" gen header "$tmp/9lives.yaml"
[ $rc = 2 ] && grep -q "give --prefix" "$tmp/err" && ok "name starting with a digit needs --prefix" || bad "9lives: exit $rc"
run "$UPTRKV" gen header "$tmp/9lives.yaml" --prefix lives -o "$tmp/lives.h"
[ $rc = 0 ] && grep -q '^#define LIVES_KEY_COMM 3$' "$tmp/lives.h" && ok "--prefix" || bad "--prefix: exit $rc"
run "$UPTRKV" gen header examples/demo/demo_v2.yaml -o /nonexistent/dir/x.h
[ $rc = 2 ] && grep -q "write /nonexistent/dir/x.h" "$tmp/err" && ok "unwritable output: exit 2" || bad "unwritable: exit $rc"

# ---- BPF --------------------------------------------------------------------
BPF_FLAGS="-g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$BPF_ARCH -Wall -Werror -Wno-unused-function"
VMLINUX=$BUILD/bpf/vmlinux.h
if [ ! -f "$VMLINUX" ]; then
	VMLINUX=$tmp/vmlinux.h
	bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$VMLINUX" 2>/dev/null || VMLINUX=
fi

# constants only: after linux/types.h, and after vmlinux.h, without the BPF API
cat >"$tmp/consts.bpf.c" <<'EOF'
#ifdef USE_VMLINUX
#include "vmlinux.h"
#else
#include <linux/types.h>
#endif
#include "demo.h"
#include "all.h"
_Static_assert(DEMO_KEY_COMM == 3 && DEMO_SIZE_COMM == 32, "comm");
_Static_assert(DEMO_VERSION == 2 && DEMO_NR_KEYS == 9, "version");
_Static_assert(ALL_TYPES_KEY_CAMELCASE == 1023 && ALL_TYPES_SIZE_TAG == 24, "all");
_Static_assert(ALL_TYPES_DEFAULT_PORT == 8080 && ALL_TYPES_DEFAULT_SMALL == -5, "defaults");
__u32 layout = DEMO_LAYOUT_HASH;
EOF
# linux/types.h needs asm/types.h: the multiarch folder, as BPF builds usually add
run $CLANG $BPF_FLAGS -I/usr/include/$(gcc -dumpmachine) -I"$tmp" -c "$tmp/consts.bpf.c" -o "$tmp/consts.bpf.o"
[ $rc = 0 ] && ok "clang -target bpf: header after linux/types.h" || { bad "after linux/types.h"; show; }
if [ -n "$VMLINUX" ]; then
	run $CLANG $BPF_FLAGS -DUSE_VMLINUX -I"$(dirname "$VMLINUX")" -I"$tmp" -c "$tmp/consts.bpf.c" -o "$tmp/consts2.bpf.o"
	[ $rc = 0 ] && ok "clang -target bpf: header after vmlinux.h" || { bad "after vmlinux.h"; show; }
fi

# every accessor, through the real BPF API
cat >"$tmp/prog.bpf.c" <<'EOF'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uptrkv.bpf.h"
#include "demo.h"
#include "all.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct big { __u8 b[DEMO_SIZE_BLOB]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct big);
} scratch SEC(".maps");

SEC("tp_btf/sys_enter")
int gen_header_demo(__u64 *ctx)
{
	struct uptrkv_task_store *s = uptrkv_open(&uptrkv_store);
	char comm[DEMO_SIZE_COMM] = {};
	__u32 zero = 0, f = 0;
	struct big *big;
	__u64 v = 0, *p;
	__u8 *b;

	if (!s)
		return 0;
	if (demo_get_rx_bytes(s, &v) == DEMO_SIZE_RX_BYTES)
		demo_put_rx_bytes(s, v + 1);
	p = demo_ptr_syscalls(s);
	if (p)
		*p += 1;
	if (demo_get_syscalls(s, &v) > 0)
		demo_put_syscalls(s, v);
	demo_put_last_syscall(s, (__u32)ctx[1]);
	if (demo_get_flags(s, &f) < 0)
		demo_put_flags(s, DEMO_DEFAULT_FLAGS);
	bpf_get_current_comm(comm, 16);
	demo_put_comm(s, comm);
	demo_get_comm(s, comm);
	big = bpf_map_lookup_elem(&scratch, &zero);
	if (big && demo_get_blob(s, big->b) == DEMO_SIZE_BLOB)
		demo_put_blob(s, big->b);
	b = demo_ptr_blob(s);
	if (b)
		b[0] = 1;
	demo_get_tx_bytes(s, &v);
	demo_put_tx_bytes(s, v);
	demo_get_label(s, comm);
	demo_put_label(s, comm);
	demo_put_version_seen(s, DEMO_VERSION);
	return 0;
}

SEC("tp_btf/sys_exit")
int gen_header_all(__u64 *ctx)
{
	struct uptrkv_task_store *s = uptrkv_open(&uptrkv_store);
	char tag[ALL_TYPES_SIZE_TAG] = ALL_TYPES_DEFAULT_TAG;
	__u8 raw[ALL_TYPES_SIZE_RAW] = {}, by = 0, *pb;
	_Bool flag = 0;
	__s8 small = 0;
	__s16 half = 0;
	__u16 port = 0;
	__s64 bs = 0;
	__s32 cc = 0;

	(void)ctx;
	if (!s)
		return 0;
	if (all_types_get_flag(s, &flag) > 0)
		all_types_put_flag(s, !flag);
	pb = all_types_ptr_flag(s);
	if (pb)
		*pb = 1;
	all_types_get_small(s, &small);
	all_types_put_small(s, small - 1);
	all_types_get_half(s, &half);
	all_types_put_half(s, half);
	all_types_get_port(s, &port);
	all_types_put_port(s, port);
	all_types_get_big_signed(s, &bs);
	all_types_put_big_signed(s, bs);
	all_types_put_tag(s, tag);
	all_types_get_tag(s, tag);
	all_types_get_raw(s, raw);
	all_types_put_raw(s, raw);
	all_types_get_byte(s, &by);
	all_types_put_byte(s, by);
	all_types_get_CamelCase(s, &cc);
	all_types_put_CamelCase(s, cc + 1);
	return 0;
}

/* The same accessors on the other handle, struct uptrkv_ctx (README). */
SEC("tp_btf/sched_switch")
int gen_header_ctx(__u64 *ctx)
{
	char tag[ALL_TYPES_SIZE_TAG] = {};
	struct uptrkv_ctx kv;
	_Bool flag = 0;
	__u64 *p, v = 0;
	__s32 cc = 0;

	(void)ctx;
	if (!uptrkv_open_ctx(&kv, &uptrkv_store))
		return 0;
	p = demo_ptr_syscalls(&kv);
	if (p)
		*p += 1;
	if (demo_get_rx_bytes(&kv, &v) == DEMO_SIZE_RX_BYTES)
		demo_put_rx_bytes(&kv, v + 1);
	if (all_types_get_flag(&kv, &flag) > 0)
		all_types_put_flag(&kv, !flag);
	all_types_get_tag(&kv, tag);
	all_types_put_tag(&kv, tag);
	all_types_get_CamelCase(&kv, &cc);
	all_types_put_CamelCase(&kv, cc + 1);
	return 0;
}
EOF
if [ -z "$VMLINUX" ]; then
	bad "no vmlinux.h (no $BUILD/bpf/vmlinux.h, no /sys/kernel/btf/vmlinux)"
elif [ ! -f bpf/uptrkv.bpf.h ]; then
	bad "bpf/uptrkv.bpf.h missing"
else
	run $CLANG $BPF_FLAGS -I"$(dirname "$VMLINUX")" -Ibpf -Ilib -I"$tmp" -c "$tmp/prog.bpf.c" -o "$tmp/prog.bpf.o"
	[ $rc = 0 ] && ok "clang -target bpf: every accessor through uptrkv.bpf.h, on both handles" || { bad "BPF object"; show; }
	# a pointer of the wrong type is a compile error, as with a function
	sed 's/demo_get_rx_bytes(s, &v)/demo_get_rx_bytes(s, (__u32 *)\&v)/' "$tmp/prog.bpf.c" > "$tmp/wrong.bpf.c"
	run $CLANG $BPF_FLAGS -I"$(dirname "$VMLINUX")" -Ibpf -Ilib -I"$tmp" -c "$tmp/wrong.bpf.c" -o "$tmp/wrong.bpf.o"
	[ $rc != 0 ] && grep -q "incompatible pointer types" "$tmp/err" && ok "a __u32 * for a u64 key does not compile" ||
		{ bad "wrong pointer type compiled: exit $rc"; show; }
	# the layout record of the first header included (demo v2): readelf sees it
	if command -v readelf >/dev/null && [ -f "$tmp/prog.bpf.o" ]; then
		readelf -p .uptrkv.layout "$tmp/prog.bpf.o" 2>/dev/null | grep -q "name demo" &&
			ok "the object carries the layout record in .uptrkv.layout" || bad "no layout record"
	fi
fi

# ---- user space -------------------------------------------------------------
cat >"$tmp/user.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <bpf/libbpf.h>
#include "uptrkv.h"
#include "demo.h"
#include "all.h"

/* ld --wrap sends the accessors' calls here: record what they pass. */
static __u32 last_key, last_size;
static unsigned char last_buf[4096];
static struct uptrkv_thread *last_t;
int __wrap_uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size);
int __wrap_uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size);
int alone_check(void);

int __wrap_uptrkv_thread__put(struct uptrkv_thread *t, __u32 key, const void *buf, __u32 size)
{
	last_t = t;
	last_key = key;
	last_size = size;
	memcpy(last_buf, buf, size);
	return (int)size;
}

int __wrap_uptrkv_thread__get(struct uptrkv_thread *t, __u32 key, void *buf, __u32 size)
{
	if (key != last_key || size != last_size || t != last_t)
		return -ENOENT;
	memcpy(buf, last_buf, size);
	return (int)size;
}

static int failed;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failed++; } } while (0)

/* The accessors' types are what the manifest says. */
_Static_assert(_Generic(&demo_get_rx_bytes, int (*)(struct uptrkv_thread *, __u64 *): 1, default: 0), "u64 get");
_Static_assert(_Generic(&demo_put_last_syscall, int (*)(struct uptrkv_thread *, __u32): 1, default: 0), "u32 put");
_Static_assert(_Generic(&all_types_put_small, int (*)(struct uptrkv_thread *, __s8): 1, default: 0), "s8 put");
_Static_assert(_Generic(&all_types_get_flag, int (*)(struct uptrkv_thread *, _Bool *): 1, default: 0), "bool get");
_Static_assert(_Generic(&demo_put_comm, int (*)(struct uptrkv_thread *, const char *): 1, default: 0), "string put");

int main(int argc, char **argv)
{
	struct uptrkv_thread *t = (struct uptrkv_thread *)&failed;	/* opaque to the accessors */
	struct uptrkv_manifest *m = NULL;
	struct uptrkv_diags d = {};
	char comm[DEMO_SIZE_COMM];
	__u8 blob[DEMO_SIZE_BLOB];
	__u64 v = 0;
	__s64 bs = 0;
	__s8 small = 0;
	_Bool flag = 0;

	/* constants against the manifest as libuptrkv reads it */
	CHECK(argc >= 2 && uptrkv_manifest__load(argv[1], NULL, &m, &d) == 0);
	if (!m)
		return 1;
	CHECK(DEMO_LAYOUT_HASH == m->layout_hash);
	CHECK(DEMO_VERSION == m->version);
	CHECK(DEMO_NR_KEYS == m->nr_keys);
	CHECK(DEMO_KEY_RX_BYTES == 0 && DEMO_SIZE_RX_BYTES == 8);
	CHECK(DEMO_KEY_SYSCALLS == 1 && DEMO_KEY_COMM == 3 && DEMO_SIZE_COMM == 32);
	CHECK(DEMO_KEY_FLAGS == 4 && DEMO_SIZE_FLAGS == 4 && DEMO_DEFAULT_FLAGS == 1);
	CHECK(DEMO_KEY_BLOB == 6 && DEMO_SIZE_BLOB == 4096);
	CHECK(DEMO_KEY_LABEL == 8 && !strcmp(DEMO_DEFAULT_LABEL, "demo"));
	CHECK(DEMO_KEY_VERSION_SEEN == 9);
	CHECK(uptrkv_manifest__key(m, DEMO_KEY_LABEL)->size == DEMO_SIZE_LABEL);
	uptrkv_manifest__free(m);
	uptrkv_diags__free(&d);
	CHECK(sizeof(comm) == 32);
	CHECK(ALL_TYPES_VERSION == 7 && ALL_TYPES_KEY_CAMELCASE == 1023);
	CHECK(ALL_TYPES_DEFAULT_BIG_SIGNED < 0 && ALL_TYPES_DEFAULT_SMALL == -5);
	CHECK(!strcmp(ALL_TYPES_DEFAULT_TAG, "*/ \"q\" \\ end"));

	/* what the accessors pass */
	CHECK(demo_put_rx_bytes(t, 0x1122334455667788ull) == 8);
	CHECK(last_t == t && last_key == 0 && last_size == 8 && last_buf[0] == 0x88 && last_buf[7] == 0x11);
	CHECK(demo_get_rx_bytes(t, &v) == 8 && v == 0x1122334455667788ull);
	CHECK(demo_put_comm(t, "a name much longer than thirty-one characters") == 32);
	CHECK(last_key == 3 && last_size == 32 && last_buf[31] == 0 && !memcmp(last_buf, "a name much longer than thirty-", 31));
	CHECK(demo_put_label(t, "x") == 32 && last_buf[0] == 'x' && last_buf[1] == 0 && last_buf[31] == 0);
	CHECK(demo_get_label(t, comm) == 32 && !strcmp(comm, "x"));
	memset(blob, 0xab, sizeof(blob));
	CHECK(demo_put_blob(t, blob) == 4096 && last_key == 6 && last_buf[4095] == 0xab);
	CHECK(all_types_put_flag(t, 5) == 1 && last_buf[0] == 1 && last_size == 1);
	last_buf[0] = 7;
	CHECK(all_types_get_flag(t, &flag) == 1 && flag == 1);
	CHECK(all_types_put_small(t, -3) == 1 && last_buf[0] == 0xfd);
	CHECK(all_types_get_small(t, &small) == 1 && small == -3);
	CHECK(all_types_put_big_signed(t, -2) == 8 && last_key == 4 && last_buf[7] == 0xff);
	CHECK(all_types_get_big_signed(t, &bs) == 8 && bs == -2);
	CHECK(all_types_get_port(t, (__u16 *)&small) == -ENOENT);	/* another key */
	CHECK(alone_check() == 0);

	/* the BPF object the same header went into passes the verifier */
	if (argc >= 3) {
		struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
		int err = obj ? bpf_object__load(obj) : -errno;

		printf("load %s: %d\n", argv[2], err);
		CHECK(err == 0);
		bpf_object__close(obj);
	}
	printf("%s\n", failed ? "FAILED" : "all checks passed");
	return failed ? 1 : 0;
}
EOF
# a second unit with the header alone: no uptrkv.h, strict C99
cat >"$tmp/alone.c" <<'EOF'
#include "demo.h"
int alone_check(void);
int alone_check(void)
{
	__u32 v = 0;

	return DEMO_KEY_FLAGS == 4 && sizeof(v) == DEMO_SIZE_FLAGS ? 0 : 1;
}
EOF
CFLAGS="-O2 -g -Wall -Wextra -Werror -Ilib -Ibpf -I$tmp"
SAN=
nm "$LIB" 2>/dev/null | grep __asan_ >/dev/null && SAN="-fsanitize=address,undefined"
LIBS="-lbpf -lelf -lz -lyaml -lpthread"
run gcc $CFLAGS -std=c99 -pedantic -c "$tmp/alone.c" -o "$tmp/alone.o"
[ $rc = 0 ] && ok "gcc -std=c99 -pedantic: header on its own" || { bad "header alone"; show; }
run gcc $CFLAGS -std=gnu11 -D_GNU_SOURCE $SAN "$tmp/user.c" "$tmp/alone.o" -o "$tmp/user" \
	-Wl,--wrap=uptrkv_thread__get,--wrap=uptrkv_thread__put "$LIB" $LIBS
[ $rc = 0 ] && ok "gcc -Wall -Wextra -Werror: program using the accessors, linked with libuptrkv" || { bad "user program"; show; }
# and against the real store functions, when libuptrkv has them
if nm "$LIB" 2>/dev/null | grep ' T uptrkv_thread__get$' >/dev/null; then
	run gcc $CFLAGS -std=gnu11 -D_GNU_SOURCE $SAN "$tmp/user.c" "$tmp/alone.o" -o "$tmp/user_real" "$LIB" $LIBS
	[ $rc = 0 ] && ok "links against libuptrkv's uptrkv_thread__get/put" || { bad "link with the real store API"; show; }
fi

if [ -x "$tmp/user" ]; then
	obj=
	[ "$(id -u)" = 0 ] && [ -f "$tmp/prog.bpf.o" ] && obj=$tmp/prog.bpf.o
	run "$tmp/user" examples/demo/demo_v2.yaml $obj
	if [ $rc = 0 ]; then
		ok "user program: constants and accessors${obj:+, BPF object loaded}"
	else
		bad "user program: exit $rc"; sed 's/^/    /' "$tmp/out" | head -20; show
	fi
	[ -z "$obj" ] && echo "note: not root: the BPF object was compiled, not loaded"
fi

echo
