#!/bin/bash
# Rollout benchmark (bench/rollout_bench.c): uptrkv rollout, rollback
# and dump beside a hand-written migration of the same data, across 100,
# 1000 and 10,000 live threads (UPTRKV_BENCH_THREADS), for 64 of 64, 1024
# of 1024 and 64 of 1024 keys changed, by step; plus the CLI's wall time
# for 1000 x 1024. Runs on the optimised build in a private bpffs (never
# /sys/fs/bpf).
#   BUILD=build bench/rollout.sh [rollout_bench options...]
# Needs root. Exit 3 when a goal of issue 16 is missed (the driver prints
# which). Pass --tsv FILE to keep the rows for bench/report.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (loads BPF programs)"; exit 1; }
for f in "$BUILD/bench/rollout_bench" "$BUILD/bpf/bench_rollout.bpf.o" "$BUILD/uptrkv"; do
	[ -e "$f" ] || { echo "missing $f: run 'make BUILD=$BUILD all $BUILD/bench/rollout_bench'"; exit 1; }
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
# Each thread pins its pages: make sure the memlock limit is no obstacle.
ulimit -l unlimited 2>/dev/null || true
"$BUILD/bench/rollout_bench" --bpffs "$tmp/bpffs" --obj "$PWD/$BUILD/bpf/bench_rollout.bpf.o" \
	--dir "$tmp" --uptrkv "$PWD/$BUILD/uptrkv" --threads "${UPTRKV_BENCH_THREADS:-100,1000,10000}" "$@"
