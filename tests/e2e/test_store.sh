#!/bin/bash
# End-to-end test of the uptr KV store with real BPF: multi-threaded
# register/put, a tp_btf program reading and writing back, 1 B and 4096 B
# values, deletes, growth, -ENOSPC, reuse, compaction; then bad input.
# Runs as root; mounts a private bpffs in a temp dir (never /sys/fs/bpf).
set -euo pipefail
source "$(dirname "$0")/env.sh"
need_built "$BUILD/tests/e2e/store_basic" "$BUILD/tests/e2e/store_bad"

echo "== store_basic"
"$BUILD/tests/e2e/store_basic" "$bpffs"
echo "== store_bad"
"$BUILD/tests/e2e/store_bad" "$bpffs"

echo "== BTF: every uptr tag points at a complete STRUCT (the FWD trap)"
for o in "$BUILD"/bpf/test_store*.bpf.o "$BUILD"/bpf/bench_*.bpf.o; do
	[ -f "$o" ] || continue
	tags=$(bpftool btf dump file "$o" | grep -A0 "TYPE_TAG 'uptr'" | sed -n "s/.*type_id=\([0-9]*\).*/\1/p")
	[ -n "$tags" ] || fail "$o has no uptr type tag"
	for id in $tags; do
		line=$(bpftool btf dump file "$o" | grep "^\[$id\] ")
		case "$line" in
		# a STRUCT with a size, not a FWD (bench objects have non-uptrkv ones too)
		*"STRUCT '"*"size="*) ;;
		*) fail "$o: uptr tag points at: $line" ;;
		esac
	done
	ok "$o: $(echo $tags | wc -w) uptr tags -> STRUCT"
done
