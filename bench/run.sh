#!/bin/bash
# make bench: runs the benchmarks on the optimised build ($BUILD).
# Needs root (loads BPF). UPTRKV_BENCH_STRICT=1 makes a missed target fail.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (loads BPF programs)"; exit 1; }
rc=0
echo "== store (bench/bench_store.c, bench/bench_store.bpf.c)"
"$BUILD/bench/bench_store" "${UPTRKV_BENCH_N:-2000000}" "${UPTRKV_BENCH_REPS:-5}" "${UPTRKV_BENCH_LOADS:-9}"
r=$?
if [ $r = 3 ]; then
	echo "bench: a store target was missed (see above)"
	[ "${UPTRKV_BENCH_STRICT:-0}" = 1 ] && rc=1
elif [ $r != 0 ]; then
	rc=1
fi
echo
echo "== rollout (bench/rollout.sh, bench/rollout_bench.c)"
mkdir -p "$BUILD/bench"
BUILD=$BUILD bench/rollout.sh --tsv "$PWD/$BUILD/bench/rollout.tsv"
r=$?
if [ $r = 3 ]; then
	echo "bench: a rollout goal was missed (see above)"
	[ "${UPTRKV_BENCH_STRICT:-0}" = 1 ] && rc=1
elif [ $r != 0 ]; then
	rc=1
fi
# The table and the plot in docs/benchmarks.md come from this very run.
if [ $r = 0 ] || [ $r = 3 ]; then
	bench/report.sh "$BUILD/bench/rollout.tsv" || rc=1
fi
# Other benchmarks (bench/bench_*.c) report themselves.
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	[ "$(basename "$b")" = bench_store ] && continue
	echo "== $(basename "$b")"
	"$b" || rc=1
done
exit $rc
