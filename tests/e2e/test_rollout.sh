#!/bin/bash
# Rollout under load, end to end, with real BPF: demo v1 -> v2 -> v3 while
# the workload's threads write continuously and the programs fire on every
# event; idempotent re-run, dry run, refusals; serialised concurrent runs.
# The workload checks after every single event that exactly one program
# handled it and that no value was lost (examples/demo/demo_workload.c).
set -euo pipefail
source "$(dirname "$0")/env.sh"

echo "== first deploy of v1"
U rollout "$M/demo_v1.yaml" -j > "$tmp/r1.json"
[ "$(json "$tmp/r1.json" 'j["result"]')" = deployed ] || fail "first deploy: $(cat "$tmp/r1.json")"
[ "$(json "$tmp/r1.json" 'j["generation"]')" = 1 ] || fail "generation after first deploy"

# The .rodata variables of pinned program $1, one name=value per line.
rodata_of() {
	local id
	for id in $(bpftool prog show pinned "$1" -j | python3 -c 'import json,sys; print(*json.load(sys.stdin)["map_ids"])'); do
		[[ $(bpftool map show id "$id" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])') == *.rodata ]] || continue
		bpftool map dump id "$id" -j | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    for v in e["formatted"]["value"][".rodata"]:
        for k, x in v.items():
            print(f"{k}={x}")'
	done
}
echo "== the loader set each program's slot, layout and uptrkv_sleepable = 0"
for p in "$bpffs"/uptrkv/demo/slot-1/*; do
	rodata_of "$p" > "$tmp/ro"
	grep -qx "uptrkv_slot=1" "$tmp/ro" || fail "$p: uptrkv_slot: $(cat "$tmp/ro")"
	grep -qx "uptrkv_sleepable=0" "$tmp/ro" || fail "$p: uptrkv_sleepable: $(cat "$tmp/ro")"
	grep -q "^uptrkv_layout_hash=[1-9]" "$tmp/ro" || fail "$p: uptrkv_layout_hash: $(cat "$tmp/ro")"
done

echo "== v1 -> v2 -> v3 under load"
start_workload load -t 4 --monotonic
sleep 0.3
U rollout "$M/demo_v2.yaml" -j > "$tmp/r2.json" || fail "rollout v2: $(cat "$tmp/r2.json")"
sleep 0.3
U rollout "$M/demo_v3.yaml" -j > "$tmp/r3.json" || fail "rollout v3: $(cat "$tmp/r3.json")"
sleep 0.3
for f in r2 r3; do
	echo "  $f: $(json "$tmp/$f.json" '"%s v%s->v%s stores=%s migrated=%s moved=%s %s ms" % (j["result"], j["from_version"], j["to_version"], j["stores"], j["migrated"], j["moved"], j["timing_ms"]["total"])')"
	[ "$(json "$tmp/$f.json" 'j["migrated"]')" = 4 ] || fail "$f: not every store was migrated"
done

echo "== removed and shrunk keys' space is reclaimed"
U status demo -j > "$tmp/st.json"
U diff "$M/demo_v2.yaml" "$M/demo_v3.yaml" -j > "$tmp/d.json" || [ $? = 1 ]
used=$(json "$tmp/st.json" 'j["deployments"][0]["bytes_used"]')
stores=$(json "$tmp/st.json" 'j["deployments"][0]["stores"]')
per_task=$(json "$tmp/d.json" 'j["bytes_after"]')
echo "  $stores stores, $used bytes used, v3 layout needs $per_task per store"
[ "$used" = $((stores * per_task)) ] || fail "bytes used $used != $stores x $per_task: old space not reclaimed"
[ "$(json "$tmp/st.json" 'j["deployments"][0]["state"]')" = idle ] || fail "journal not idle"

stop_workload 1 2 3

echo "== re-running a done rollout does nothing (exit 0)"
gen=$(json "$tmp/st.json" 'j["deployments"][0]["generation"]')
U rollout "$M/demo_v3.yaml" -j > "$tmp/again.json" || fail "re-run exited $?"
[ "$(json "$tmp/again.json" 'j["result"]')" = "nothing to do" ] || fail "re-run did something"

echo "== an older version is refused (exit 1), nothing changes"
set +e; U rollout "$M/demo_v2.yaml" 2> "$tmp/old.err"; rc=$?; set -e
[ $rc = 1 ] || fail "older version: exit $rc"
grep -q "older than the deployed version 3" "$tmp/old.err" || fail "message: $(cat "$tmp/old.err")"

echo "== a dry run verifies and changes nothing"
sed -e 's/^version: 3/version: 4/' "$M/demo_v3.yaml" > "$M/demo_v4.yaml"
U rollout "$M/demo_v4.yaml" --dry-run -j > "$tmp/dry.json" || fail "dry run: $(cat "$tmp/dry.json")"
[ "$(json "$tmp/dry.json" 'j["result"]')" = "dry run" ] || fail "dry run result"
U status demo -j > "$tmp/st2.json"
[ "$(json "$tmp/st2.json" 'j["deployments"][0]["generation"]')" = "$gen" ] || fail "dry run changed the generation"
[ "$(json "$tmp/st2.json" 'j["deployments"][0]["version"]')" = 3 ] || fail "dry run changed the version"

echo "== two commands at once are serialised"
U rollback demo > "$tmp/c1.out" 2>&1 & p1=$!
U rollback demo > "$tmp/c2.out" 2>&1 & p2=$!
wait $p1 || fail "concurrent rollback 1: $(cat "$tmp/c1.out")"
wait $p2 || fail "concurrent rollback 2: $(cat "$tmp/c2.out")"
U status demo -j > "$tmp/st3.json"
[ "$(json "$tmp/st3.json" 'j["deployments"][0]["generation"]')" = $((gen + 2)) ] || fail "two rollbacks did not both run, one after the other"
[ "$(json "$tmp/st3.json" 'j["deployments"][0]["version"]')" = 3 ] || fail "rollback twice should return to v3"

echo "== undeploy detaches and removes every pin"
U undeploy demo
[ ! -e "$bpffs/uptrkv/demo" ] || fail "pins left: $(find "$bpffs/uptrkv/demo")"
set +e; U status demo >/dev/null 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "status of an undeployed name: exit $rc, want 1"
echo PASS
