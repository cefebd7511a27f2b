#!/bin/bash
# `make install` into a temp DESTDIR, then a program built outside the tree
# from what was installed only (root, real BPF, private bpffs; env.sh):
#  - `make install DESTDIR=... PREFIX=/usr` from the BUILD under test: the
#    man pages (one per command) and the bash completion too, and a .so
#    that exports only uptrkv_ names;
#  - every installed C header compiles on its own;
#  - a manifest, `uptrkv gen header` with the installed binary, a BPF object
#    that includes the installed uptrkv.bpf.h, and an app linked against the
#    installed libuptrkv.so, all with the flags `pkg-config uptrkv` gives;
#  - the installed binary rolls it out; `uptrkv dump` reads the app's value;
#  - `make uninstall` leaves no file behind.
set -euo pipefail
source "$(dirname "$0")/env.sh"
CLANG=$(for c in clang-21 clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang; do
	command -v $c >/dev/null 2>&1 || continue
	v=$($c -dumpversion 2>/dev/null | cut -d. -f1)
	[ -n "$v" ] && [ "$v" -ge 15 ] && { echo $c; break; }; done)
[ -n "$CLANG" ] || skip "no clang >= 15"
root=$tmp/root
X=$tmp/example
mkdir -p "$X"

# A sanitized BUILD is installed as it was built (make install builds `all`
# first), and the app linked with it needs the sanitizer runtime first.
# (grep reads all of nm's output: with -q, nm's SIGPIPE would fail pipefail.)
SAN= SANITIZE=0
if nm "$BUILD/libuptrkv.a" 2>/dev/null | grep __asan_ >/dev/null; then
	SAN="-fsanitize=address,undefined" SANITIZE=1
fi

echo "== make install DESTDIR=$root PREFIX=/usr"
make --no-print-directory -s BUILD="$BUILD" SANITIZE=$SANITIZE install DESTDIR="$root" PREFIX=/usr > "$tmp/install.out" 2>&1 ||
	fail "make install: $(tail -20 "$tmp/install.out")"
(cd "$root" && find . -type f -o -type l | sort) > "$tmp/installed"
sed 's/^/  /' "$tmp/installed"
for f in usr/bin/uptrkv usr/lib/libuptrkv.a usr/lib/libuptrkv.so.0 usr/lib/pkgconfig/uptrkv.pc \
	 usr/include/uptrkv/uptrkv.h usr/include/uptrkv/uptrkv.bpf.h \
	 usr/include/uptrkv/uptrkv_bind.h usr/share/man/man8/uptrkv.8 \
	 usr/share/man/man8/uptrkv-rollout.8 usr/share/man/man5/uptrkv-manifest.5 \
	 usr/share/bash-completion/completions/uptrkv; do
	grep -qx "./$f" "$tmp/installed" || fail "not installed: $f"
done
# A man page for every command, as the help lists them.
"$BUILD/uptrkv" help -j > "$tmp/help.json"
for c in $(json "$tmp/help.json" "chr(10).join(c['name'] for c in j['commands'])"); do
	grep -qx "./usr/share/man/man8/uptrkv-$c.8" "$tmp/installed" || fail "no man page installed for $c"
done
echo "ok   man pages for every command, uptrkv(8), uptrkv-manifest(5), bash completion"
# The shared library exports the uptrkv_ API and nothing else.
nm -D --defined-only "$root/usr/lib/libuptrkv.so.0" | awk '{print $NF}' | sort -u > "$tmp/exported"
others=$(grep -v '^uptrkv_' "$tmp/exported" | grep -v '^UPTRKV_[0-9.]*$' || true)
[ -z "$others" ] || fail "libuptrkv.so exports more than uptrkv_ names: $others"
echo "ok   libuptrkv.so.0 exports $(grep -c '^uptrkv_' "$tmp/exported") symbols, all uptrkv_"
# ... and exactly the functions docs/api.md lists, the app runtime's first.
grep -oE '^\| `uptrkv_[a-z0-9_]+`' docs/api.md | tr -d '|` ' > "$tmp/documented"
sort "$tmp/documented" | diff -u - <(grep '^uptrkv_' "$tmp/exported" | sed 's/@.*//' | sort -u) ||
	fail "libuptrkv.so exports (+) other than docs/api.md lists (-)"
nm -D --defined-only "$root/usr/lib/libuptrkv-app.so.0" | awk '$NF ~ /^uptrkv_/ {print $NF}' | sed 's/@.*//' | sort -u > "$tmp/app_exported"
head -20 "$tmp/documented" | sort | diff -u - "$tmp/app_exported" ||
	fail "libuptrkv-app.so exports (+) other than docs/api.md's app runtime (-)"
echo "ok   the exports are docs/api.md's $(wc -l < "$tmp/documented") functions; the app runtime's $(wc -l < "$tmp/app_exported")"
for h in "$root"/usr/include/uptrkv/*.h; do
	case $h in *.bpf.h) continue ;; esac
	echo "#include <uptrkv/$(basename "$h")>" |
		cc -Wall -Wextra -Werror -fsyntax-only -I"$root/usr/include" -x c - ||
		fail "$(basename "$h") does not compile on its own"
done
echo "ok   every installed C header compiles on its own"

export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$root/usr/lib/pkgconfig
CFLAGS_PC=$(pkg-config --cflags uptrkv) || fail "pkg-config --cflags uptrkv"
LIBS_PC=$(pkg-config --libs uptrkv) || fail "pkg-config --libs uptrkv"
echo "ok   pkg-config uptrkv: $CFLAGS_PC $LIBS_PC"
IU=$root/usr/bin/uptrkv

echo "== an example built outside the tree"
cat > "$X/hello.yaml" <<EOF
apiVersion: uptrkv/v1
name: hello
version: 1
object: $X/hello.bpf.o
keys:
  - {id: 0, name: counter, size: 8, type: u64}
  - {id: 1, name: calls, size: 8, type: u64}
EOF
"$IU" gen header "$X/hello.yaml" -o "$X/hello.keys.h" || fail "installed uptrkv gen header"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$X/vmlinux.h"
cat > "$X/hello.bpf.c" <<'EOF'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uptrkv.bpf.h"
#include "hello.keys.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(on_enter, struct pt_regs *regs, long id)
{
	struct uptrkv_task_store *s;
	__u64 v = 0;

	if (id != 110)	/* getppid */
		return 0;
	s = uptrkv_open(&uptrkv_store);
	if (!s)
		return 0;
	uptrkv_get(s, HELLO_KEY_CALLS, &v, 8);
	v++;
	uptrkv_put(s, HELLO_KEY_CALLS, &v, 8);
	return 0;
}
EOF
# shellcheck disable=SC2086
"$CLANG" -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$BPF_ARCH -Wall -Werror -I"$X" $CFLAGS_PC \
	-c "$X/hello.bpf.c" -o "$X/hello.bpf.o" || fail "BPF object from the installed headers"
cat > "$X/app.c" <<'EOF'
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <uptrkv/uptrkv.h>
#include "hello.keys.h"

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	struct uptrkv_app *app = NULL;
	struct uptrkv_thread *t = NULL;
	struct uptrkv_error e = {};

	if (argc != 2)
		return 2;
	signal(SIGTERM, on_term);
	if (uptrkv_app__open(argv[1], "hello", &app, &e) ||
	    uptrkv_app__register(app, NULL, &t, &e) || hello_put_counter(t, 4242)) {
		fprintf(stderr, "app: %s\n", e.msg);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		getppid();
		usleep(1000);
	}
	uptrkv_thread__unregister(t);
	uptrkv_app__close(app);
	return 0;
}
EOF
# shellcheck disable=SC2086
cc -Wall -Wextra -Werror $SAN -I"$X" $CFLAGS_PC -o "$X/app" "$X/app.c" $LIBS_PC ||
	fail "app linked with pkg-config --libs uptrkv"
echo "ok   BPF object and app built with pkg-config uptrkv"

echo "== rollout with the installed binary, the app running"
IU() { "$IU" --bpffs "$bpffs" "$@"; }
IU rollout "$X/hello.yaml" > "$tmp/rollout.out" || fail "rollout: $(cat "$tmp/rollout.out")"
LD_LIBRARY_PATH=$root/usr/lib "$X/app" "$bpffs" > "$X/app.out" 2> "$X/app.err" &
APP=$!
WORKLOAD_PIDS+=("$APP")
wait_line 5 '^ready' "$X/app.out" "$APP" || fail "app never got ready: $(cat "$X/app.err")"
sleep 0.2
LD_LIBRARY_PATH=$root/usr/lib ldd "$X/app" | grep -q "libuptrkv.so.0 => $root/usr/lib/" ||
	fail "the app does not use the installed libuptrkv.so.0"
IU dump "$APP" -j > "$tmp/dump.json" || fail "dump: $(cat "$tmp/dump.json")"
python3 - "$tmp/dump.json" <<'PY' || fail "dump: $(cat "$tmp/dump.json")"
import json, sys
d = json.load(open(sys.argv[1]))
keys = {k["name"]: k["value"] for k in d["threads"][0]["keys"]}
assert keys["counter"] == 4242, keys
assert keys["calls"] > 0, keys
print(f"ok   dump: counter {keys['counter']} (the app's put), calls {keys['calls']} (the BPF program's)")
PY
kill -TERM "$APP"
wait "$APP" || fail "app exited with $?: $(cat "$X/app.err")"
IU undeploy hello > /dev/null || fail "undeploy"

echo "== make uninstall"
make --no-print-directory -s BUILD="$BUILD" SANITIZE=$SANITIZE uninstall DESTDIR="$root" PREFIX=/usr > "$tmp/uninstall.out" 2>&1 ||
	fail "make uninstall: $(cat "$tmp/uninstall.out")"
left=$(find "$root" -type f -o -type l)
[ -z "$left" ] || fail "left after uninstall: $left"
echo "ok   uninstall left no file"
echo "PASS"
