#!/bin/bash
# One thread with a corrupt store (tests/e2e/corrupt_store.c) blocks every
# rollout of its deployment, with a message that names it and says what
# was changed (nothing) and how to go on. `rollout --skip-corrupt` leaves
# that thread out and names it (pid, tid, why); every other thread is
# migrated and keeps working with no error; the left-out thread's
# application calls get -ESTALE, as the message says; its old slot is kept.
set -euo pipefail
source "$(dirname "$0")/env.sh"
C="$BUILD/tests/e2e/corrupt_store"
[ -x "$C" ] || fail "missing $C"

U rollout "$M/demo_v1.yaml" > /dev/null
start_workload good -t 3
GOOD_PID=$WL_PID GOOD_REPORT=$WL_REPORT
start_workload bad -t 1
BAD_PID=$WL_PID BAD_REPORT=$WL_REPORT
BAD_TID=$(awk '/^ready/ {print $3}' "$tmp/bad.out")
[ -n "$BAD_TID" ] || fail "no tid: $(cat "$tmp/bad.out")"
slot=$(U status demo -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployments"][0]["generation"] & 1)')
"$C" "$bpffs/uptrkv/demo/store" "$BAD_TID" "$slot"

state() { (cd "$bpffs" && find . | sort); U status demo -j | python3 -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
print(d["version"], d["generation"], d["state"])'; }
state > "$tmp/state.ref"

echo "== a corrupt store refuses the rollout, names the thread, changes nothing"
rc=0; U rollout "$M/demo_v2.yaml" 2> "$tmp/err" || rc=$?
[ $rc = 1 ] || fail "exit $rc, want 1: $(cat "$tmp/err")"
grep -q "thread $BAD_TID: meta slot $slot is corrupt" "$tmp/err" || fail "no thread named: $(cat "$tmp/err")"
grep -q "pid $BAD_PID; --skip-corrupt leaves such threads out" "$tmp/err" || fail "no way out: $(cat "$tmp/err")"
grep -q "nothing was changed" "$tmp/err" || fail "does not say nothing changed: $(cat "$tmp/err")"
echo "  $(cat "$tmp/err")"
state > "$tmp/state.now"
cmp -s "$tmp/state.ref" "$tmp/state.now" || fail "changed: $(diff "$tmp/state.ref" "$tmp/state.now")"

echo "== --dry-run --skip-corrupt names it and changes nothing"
U rollout "$M/demo_v2.yaml" --dry-run --skip-corrupt > "$tmp/dry.out"
grep -q "would leave out 1 thread" "$tmp/dry.out" || fail "dry run: $(cat "$tmp/dry.out")"
state > "$tmp/state.now"
cmp -s "$tmp/state.ref" "$tmp/state.now" || fail "a dry run changed: $(diff "$tmp/state.ref" "$tmp/state.now")"

echo "== --skip-corrupt leaves it out, names it, migrates the others"
U rollout "$M/demo_v2.yaml" --skip-corrupt -j > "$tmp/r.json"
python3 - "$tmp/r.json" "$BAD_PID" "$BAD_TID" <<'PY' || fail "result: $(cat "$tmp/r.json")"
import json, sys
j = json.load(open(sys.argv[1]))
pid, tid = int(sys.argv[2]), int(sys.argv[3])
assert j["result"] == "upgraded" and j["to_version"] == 2, j
assert j["skipped_count"] == 1, j["skipped"]
s = j["skipped"][0]
assert (s["pid"], s["tid"]) == (pid, tid) and "corrupt" in s["why"], s
assert j["migrated"] >= 3, j["migrated"]
print(f"  left out pid {s['pid']} tid {s['tid']}: {s['why']}; {j['migrated']} stores migrated")
PY
sleep 0.3
echo "== the left-out thread gets -ESTALE; the others saw no error"
kill -TERM "$BAD_PID"; wait "$BAD_PID" || true
WL_PID=$GOOD_PID WL_REPORT=$GOOD_REPORT stop_workload
python3 - "$BAD_REPORT" <<'PY' || fail "left-out thread: $(cat "$BAD_REPORT")"
import json, sys
t = json.load(open(sys.argv[1]))["threads"][0]
assert t["errors"] > 0 and "Stale file handle" in t["first_error"], t
print(f"  left-out thread {t['tid']}: {t['errors']} calls refused, first: {t['first_error'][:100]}")
PY
echo PASS
