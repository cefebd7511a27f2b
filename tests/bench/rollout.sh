#!/bin/bash
# Rollout benchmark (tests/bench/rollout_bench.c): rollout time for 1024
# keys across 10, 100 and 1000 live threads, with 0, 64 and 1024 keys
# changed, by step; plus the CLI's wall time for the largest case. Runs on
# the optimised build in a private bpffs (never /sys/fs/bpf).
#   BUILD=build tests/bench/rollout.sh [rollout_bench options...]
# Needs root. Exit 3 when the 1 s target (1024 keys x 1000 threads) is missed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (loads BPF programs)"; exit 1; }
for f in "$BUILD/tests/bench/rollout_bench" "$BUILD/bpf/bench_rollout.bpf.o" "$BUILD/uptrkv"; do
	[ -e "$f" ] || { echo "missing $f: run 'make BUILD=$BUILD all $BUILD/tests/bench/rollout_bench'"; exit 1; }
done
tmp=$(mktemp -d /tmp/uptrkv-rbench.XXXXXX)
cleanup() {
	umount "$tmp/bpffs" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/bpffs"
mount -t bpf bpf "$tmp/bpffs" || exit 1
# 1000 threads each pin 11 pages: make sure the memlock limit is no obstacle.
ulimit -l unlimited 2>/dev/null || true
"$BUILD/tests/bench/rollout_bench" --bpffs "$tmp/bpffs" --obj "$PWD/$BUILD/bpf/bench_rollout.bpf.o" \
	--dir "$tmp" --uptrkv "$PWD/$BUILD/uptrkv" "$@"
