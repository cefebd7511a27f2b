#!/bin/bash
# What the verifier walks for a program of 20 gets (root, real BPF;
# tests/bpf/test_verify_cost.bpf.c). Each get's slow paths are verified at
# every call site, so this count grows with the gets a program makes, and
# the kernel refuses a program past 1M instructions. Before the prune point
# in uptrkv__page_of it was 180K as deployed (uptrkv_sleepable = 0) and 360K
# for a skeleton user who keeps the default of 1 (a move picks two pages: 64
# paths), so about 55 such gets could not load; it is 72K and 154K now. The
# bounds leave room for honest growth and fail on that fan-out coming back.
# Also: an object whose gets' results nobody looks at loads (clang drops a
# static function's unused result; see uptrkv.bpf.h, uptrkv__get_fwd).
set -euo pipefail
source "$(dirname "$0")/env.sh"
need_built "$BUILD/tests/e2e/verify_cost"
declare -A BOUND=([deployed]=100000 [sleepable]=200000)

for mode in deployed sleepable; do
	out=$("$BUILD/tests/e2e/verify_cost" "$mode") || fail "$mode: the 20-get program did not load"
	n=${out#verified_insns }
	bound=${BOUND[$mode]}
	if [ "$n" -lt "$bound" ]; then
		ok "$mode (uptrkv_sleepable = $([ $mode = deployed ] && echo 0 || echo 1)): 20 gets verified in $n instructions (< $bound)"
	else
		bad "$mode: 20 gets took $n verified instructions (bound $bound): a slow path fans out again"
	fi
done

if "$BUILD/tests/e2e/verify_cost" noresult > "$tmp/nr.out" 2>&1; then
	ok "gets whose result is never looked at load"
else
	bad "gets whose result is never looked at do not load: $(grep -m3 -E 'cannot|error|load:' "$tmp/nr.out")"
fi
