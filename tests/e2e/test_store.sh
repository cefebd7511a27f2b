#!/bin/bash
# End-to-end test of the uptr KV store with real BPF: multi-threaded
# register/put, a tp_btf program reading and writing back, 1 B and 4096 B
# values, deletes, growth, -ENOSPC, reuse, compaction; then bad input.
# Runs as root; mounts a private bpffs in a temp dir (never /sys/fs/bpf).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/san}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

for b in store_basic store_bad; do
	[ -x "$BUILD/tests/e2e/$b" ] || { echo "missing $BUILD/tests/e2e/$b (run make test-build)"; exit 1; }
done

tmp=$(mktemp -d /tmp/uptrkv-store.XXXXXX)
cleanup() {
	umount "$tmp/bpffs" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir "$tmp/bpffs"
mount -t bpf bpf "$tmp/bpffs"

echo "== store_basic"
"$BUILD/tests/e2e/store_basic" "$tmp/bpffs"
echo "== store_bad"
"$BUILD/tests/e2e/store_bad" "$tmp/bpffs"

echo "== BTF: every uptr tag points at a complete STRUCT (the FWD trap)"
for o in "$BUILD"/bpf/test_store*.bpf.o "$BUILD"/bpf/bench_*.bpf.o; do
	[ -f "$o" ] || continue
	tags=$(bpftool btf dump file "$o" | grep -A0 "TYPE_TAG 'uptr'" | sed -n "s/.*type_id=\([0-9]*\).*/\1/p")
	[ -n "$tags" ] || { echo "FAIL: $o has no uptr type tag"; exit 1; }
	for id in $tags; do
		line=$(bpftool btf dump file "$o" | grep "^\[$id\] ")
		case "$line" in
		# a STRUCT with a size, not a FWD (bench objects have non-uptrkv ones too)
		*"STRUCT '"*"size="*) ;;
		*) echo "FAIL: $o: uptr tag points at: $line"; exit 1 ;;
		esac
	done
	echo "ok $o: $(echo $tags | wc -w) uptr tags -> STRUCT"
done
echo PASS
