#!/bin/bash
# Back-to-back switches under load: v1 -> v2 -> v3, then SOAK_ROLLBACKS
# (default 100) x `uptrkv rollback demo`, which alternates v3 <-> v2 (a
# rollback has the rollout's guarantees: every switch migrates every live
# store, with keys added, removed and resized each way). The workload runs
# 4 threads plus short-lived threads throughout and checks after every
# event that exactly one program handled it and that no value was lost or
# mixed. At the end: 0 errors, the deployment at v3 with every store using
# exactly v3's bytes (100 switches leaked no space), journal idle.
set -euo pipefail
source "$(dirname "$0")/env.sh"
ROLLBACKS=${SOAK_ROLLBACKS:-100}

per_store() { U diff "$M/demo_v$1.yaml" "$M/demo_v$1.yaml" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_after"])'; }
V3_BYTES=$(per_store 3)

now_ns() { date +%s%N; }

U rollout "$M/demo_v1.yaml" > /dev/null
start_workload soak -t 4 --churn
sleep 0.2

switches=0 wall_ns=0
# switch ARGS...: one rollout or rollback, timed; its JSON result is kept
# in $tmp/sw-N.json and checked at the end (one python run for all).
switch() {
	local t0 t1
	t0=$(now_ns)
	U "$@" -j > "$tmp/sw-$((switches + 1)).json" 2> "$tmp/switch.err" ||
		fail "switch $((switches + 1)) ($*): exit $?: $(cat "$tmp/switch.err")"
	t1=$(now_ns)
	grep -qE 'Sanitizer|runtime error:' "$tmp/switch.err" && { cat "$tmp/switch.err"; fail "sanitizer report"; }
	switches=$((switches + 1))
	wall_ns=$((wall_ns + t1 - t0))
}

echo "== v1 -> v2 -> v3 under load"
switch rollout "$M/demo_v2.yaml"
switch rollout "$M/demo_v3.yaml"
echo "== $ROLLBACKS rollbacks back to back (v3 <-> v2)"
for i in $(seq 1 "$ROLLBACKS"); do
	switch rollback demo
	[ $((i % 25)) = 0 ] && echo "  $i rollbacks done"
done

# Every switch: the right result and target, every workload store migrated.
python3 - "$tmp" "$switches" > "$tmp/sum.txt" <<'PY' || { cat "$tmp/sum.txt"; fail "a switch went wrong"; }
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
tot = mx = mig = gone = rec = 0
bad = []
for i in range(1, n + 1):
    j = json.load(open(f"{tmp}/sw-{i}.json"))
    want_res = "upgraded" if i <= 2 else "rolled back"
    want_v = i + 1 if i <= 2 else (2 if (i - 2) % 2 else 3)
    if j["result"] != want_res or j["to_version"] != want_v:
        bad.append(f"switch {i}: {j['result']} to v{j['to_version']}, want {want_res} to v{want_v}")
    if j["migrated"] < 4:
        bad.append(f"switch {i}: {j['migrated']} stores migrated, want >= 4 (the workload's threads)")
    ms = j["timing_ms"]["total"]
    tot += ms; mx = max(mx, ms)
    mig += j["migrated"]; gone += j["threads_gone"]; rec += j["moved"]
print(f"{tot} {mx} {mig} {gone} {rec}")
for b in bad: print(b)
sys.exit(1 if bad else 0)
PY
read -r engine_ms max_ms migrated gone moved < "$tmp/sum.txt"

U status demo -j > "$tmp/st.json"
python3 - "$tmp/st.json" "$V3_BYTES" "$((ROLLBACKS % 2 ? 2 : 3))" "$((switches + 1))" <<'PY' || fail "final state: $(cat "$tmp/st.json")"
import json, sys
d = json.load(open(sys.argv[1]))["deployments"][0]
per, v, gen = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
bad = []
if d["version"] != v: bad.append(f"version {d['version']}, want {v}")
if d["generation"] != gen: bad.append(f"generation {d['generation']}, want {gen}")
if d["state"] != "idle": bad.append(f"state {d['state']}")
if v == 3 and d["bytes_used"] != d["stores"] * per:
    bad.append(f"{d['bytes_used']} bytes in {d['stores']} stores, want {per} each: space leaked")
print(f"  final: version {d['version']}, generation {d['generation']}, {d['stores']} stores, "
      f"{d['bytes_used']} bytes used, state {d['state']}")
if bad: print("  " + "; ".join(bad)); sys.exit(1)
PY

stop_workload
events=$(json "$WL_REPORT" 'sum(t["events"] for t in j["threads"])')
echo "soak: $switches switches (2 rollouts + $ROLLBACKS rollbacks) under load, $events events checked, 0 lost or mixed"
echo "soak: switch time: total $((wall_ns / 1000000)) ms wall ($((wall_ns / 1000000 / switches)) ms average per command, ASan build included), engine total $engine_ms ms (average $((engine_ms / switches)) ms, max $max_ms ms)"
echo "soak: $migrated stores migrated in all, $gone threads gone during a switch, $moved resized values moved after a switch"
echo PASS
