#!/bin/bash
# The admin programs are kept pinned per deployment (lib/admin.c; root, real
# BPF, private bpffs; env.sh):
#  - a failed or dry rollout pins nothing; a rollout that succeeds pins one
#    set, admin-HASH/, and the next rollout and rollback run those very
#    programs (same ids), not a new load;
#  - a set pinned under another name (another uptrkv build's) is not run:
#    the next command loads this build's set, pins it, and removes the other;
#  - a set planted under this build's name whose programs run against
#    another deployment's store map is not run either, and is replaced;
#  - with the workload running through all of it, every event is handled.
set -euo pipefail
source "$(dirname "$0")/env.sh"

D=$bpffs/uptrkv/demo
admin_sets() { (cd "$D" && ls -d admin-* 2>/dev/null) || true; }
prog_id() { bpftool prog show pinned "$1" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

U rollout "$M/demo_v1.yaml" -q
start_workload wl -t 4
[ -z "$(admin_sets)" ] || fail "a first deploy pinned admin programs: $(admin_sets)"

echo "== a dry run and a refused rollout pin nothing"
U rollout "$M/demo_v2.yaml" --dry-run -q >/dev/null
[ -z "$(admin_sets)" ] || fail "a dry run pinned $(admin_sets)"
sed 's/^version: .*/version: 1/' "$M/demo_v2.yaml" > "$tmp/old.yaml"
if U rollout "$tmp/old.yaml" -q 2>/dev/null; then fail "an older version was rolled out"; fi
[ -z "$(admin_sets)" ] || fail "a refused rollout pinned $(admin_sets)"

echo "== a rollout pins one set; the next commands reuse it"
U rollout "$M/demo_v2.yaml" -q > /dev/null
sets=$(admin_sets)
[ "$(echo "$sets" | wc -w)" = 1 ] || fail "want one admin set, got: $sets"
# Named by the build's hash of the object the skeleton embeds (Makefile).
want=admin-$(sha256sum "$BUILD/bpf/uptrkv_admin.bpf.o" | cut -c1-16)
[ "$sets" = "$want" ] || fail "the set is $sets, want $want: the hash of the admin object"
for p in list snapshot snapshot_tail read_page write snapshot_meta move; do
	[ -e "$D/$sets/$p" ] || fail "$sets/$p is not pinned"
done
id=$(prog_id "$D/$sets/write")
U rollout "$M/demo_v3.yaml" -q > /dev/null
U rollback demo -q > /dev/null
[ "$(admin_sets)" = "$sets" ] || fail "the set changed: $sets -> $(admin_sets)"
[ "$(prog_id "$D/$sets/write")" = "$id" ] || fail "the pinned write program was replaced"

echo "== another build's set is not run, and is replaced"
mv "$D/$sets" "$D/admin-0000000000000000"
U rollout "$M/demo_v3.yaml" -q > /dev/null
[ "$(admin_sets)" = "$sets" ] || fail "want only $sets, got: $(admin_sets)"
[ "$(prog_id "$D/$sets/write")" != "$id" ] || fail "the other build's programs were reused"

echo "== a set of this name for another store map is not run, and is replaced"
# The same deployment in a second bpffs has its own store map: its set is
# pinned here under this build's name.
b2=$tmp/bpffs2
mkdir -p "$b2"
mount -t bpf bpf "$b2"
EXTRA_BPFFS+=("$b2")
"$BUILD/uptrkv" --bpffs "$b2" rollout "$M/demo_v1.yaml" -q > /dev/null
"$BUILD/uptrkv" --bpffs "$b2" rollout "$M/demo_v2.yaml" -q > /dev/null
[ -e "$b2/uptrkv/demo/$sets/write" ] || fail "the second bpffs' deployment has no $sets"
rm -rf "$D/$sets"
mkdir "$D/$sets"
for p in list snapshot snapshot_tail read_page write move; do
	bpftool prog pin id "$(prog_id "$b2/uptrkv/demo/$sets/$p")" "$D/$sets/$p"
done
planted=$(prog_id "$D/$sets/write")
U rollback demo -q > /dev/null
[ "$(admin_sets)" = "$sets" ] || fail "want only $sets, got: $(admin_sets)"
[ "$(prog_id "$D/$sets/write")" != "$planted" ] || fail "the planted programs were kept"
store_map=$(bpftool map show pinned "$D/store" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
bpftool prog show pinned "$D/$sets/write" -j | python3 -c '
import json, sys
ids = json.load(sys.stdin).get("map_ids", [])
sys.exit(0 if int(sys.argv[1]) in ids else 1)' "$store_map" || fail "the pinned set does not use demo's store map"

echo "== the workload saw every event handled"
stop_workload
echo PASS
