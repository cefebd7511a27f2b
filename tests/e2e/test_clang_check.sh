#!/bin/bash
# uptrkv.bpf.h stops a clang < 15 build with an #error that says why, and
# lets clang >= 15 through. Checked with Debian's real clang-14 (the
# version that drops btf_type_tag("uptr")), not a faked __clang_major__:
#  - a BPF source without uptrkv.bpf.h compiles with clang-14 (the control:
#    the failure below is the header's check, not a broken clang-14);
#  - the same source with uptrkv.bpf.h fails with clang-14, and the first
#    error is ours, naming clang >= 15 and the uptr type tag;
#  - with the build's clang (>= 15) it compiles.
set -euo pipefail
needs_root=0
source "$(dirname "$0")/env.sh"
VMLINUX=$BUILD/bpf/vmlinux.h
need_built "$VMLINUX"
command -v clang-14 >/dev/null || skip "no clang-14 to check the #error with"
# The Makefile's choice: the newest clang >= 15.
CLANG=$(for c in clang-21 clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang; do
	command -v $c >/dev/null 2>&1 || continue
	v=$($c -dumpversion 2>/dev/null | cut -d. -f1)
	[ -n "$v" ] && [ "$v" -ge 15 ] && { echo $c; break; }; done)
[ -n "$CLANG" ] || skip "no clang >= 15"
FLAGS=(-g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$BPF_ARCH -I"$BUILD/bpf" -Ibpf -fsyntax-only)

cat > "$tmp/plain.bpf.c" <<'C'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
C
{ cat "$tmp/plain.bpf.c"; echo '#include "uptrkv.bpf.h"'; } > "$tmp/store.bpf.c"

clang-14 "${FLAGS[@]}" "$tmp/plain.bpf.c" 2> "$tmp/plain.err" ||
	fail "clang-14 cannot build even a plain BPF source: $(head -5 "$tmp/plain.err")"
echo "ok   clang-14 ($(clang-14 -dumpversion)) builds a BPF source without uptrkv.bpf.h"

if clang-14 "${FLAGS[@]}" "$tmp/store.bpf.c" 2> "$tmp/14.err"; then
	fail "clang-14 built a source that includes uptrkv.bpf.h"
fi
first=$(grep -m1 "error:" "$tmp/14.err") || fail "clang-14 failed without an error line: $(cat "$tmp/14.err")"
echo "     $first"
case $first in
*"uptrkv.bpf.h"*"error:"*"needs clang >= 15"*"btf_type_tag(\\\"uptr\\\")"*) ;;
*) fail "clang-14's first error is not the header's check: $first" ;;
esac
echo "ok   clang-14 stops at uptrkv.bpf.h's #error, which names clang >= 15 and the uptr tag"

"$CLANG" "${FLAGS[@]}" "$tmp/store.bpf.c" 2> "$tmp/new.err" ||
	fail "$CLANG ($("$CLANG" -dumpversion)) does not build it: $(head -5 "$tmp/new.err")"
echo "ok   $CLANG ($("$CLANG" -dumpversion)) builds it"
echo "PASS"
