#!/bin/bash
# Stress test of the store's torn-read freedom: a user thread rewrites
# checksummed values while a BPF syscall program reads them at a high rate
# from another thread. UPTRKV_STRESS_SECONDS sets the duration (default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/san}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
bin=$BUILD/tests/e2e/store_stress
[ -x "$bin" ] || { echo "missing $bin (run make test-build)"; exit 1; }
tmp=$(mktemp -d /tmp/uptrkv-stress.XXXXXX)
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
	umount "$tmp/bpffs" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/bpffs"
mount -t bpf bpf "$tmp/bpffs"
"$bin" "$tmp/bpffs" "${UPTRKV_STRESS_SECONDS:-3}" &
pid=$!
wait "$pid"
