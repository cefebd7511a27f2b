#!/bin/bash
# Revision history, end to end (root, real BPF, private bpffs; env.sh):
#  - v1 -> v2 -> v3 with the demo workload running, then `rollback
#    --to-version 1` from the history's own copy of the manifest and object
#    (the object file is deleted first): status shows v1 and rolled_back_at,
#    the workload saw no error, dump shows the values kept;
#  - `history -j`: revisions, outcomes, RFC 3339 times, who, host, command;
#  - a history limit: a version no longer kept is a clear error that
#    changes nothing and lists the versions kept; failed runs are recorded
#    and never push a good version out;
#  - a tampered copy in the blobs map is refused, with nothing changed;
#  - a deployment without history maps (made before them) still reads, and
#    gets them on its next rollout;
#  - no empty uptrkv/ folder after a refused first deploy or the last undeploy;
#  - u32 -> u64 and s16 -> s64 widenings keep every value, negative ones too.
set -euo pipefail
source "$(dirname "$0")/env.sh"
E=$BUILD/tests/e2e
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# Manifests whose objects are copies this test may delete.
H=$tmp/hist
mkdir -p "$H/objs"
for v in 1 2 3; do
	cp "$BUILD/bpf/demo_v$v.bpf.o" "$H/objs/"
	sed "s|^object: .*|object: $H/objs/demo_v$v.bpf.o|" examples/demo/demo_v$v.yaml > "$H/demo_v$v.yaml"
done
sed -e 's/^version: 3/version: 4/' "$H/demo_v3.yaml" > "$H/demo_v4.yaml"


# What a refused command must not change: pins, live version and programs.
state() {
	(cd "$bpffs" && find . | sort)
	U status demo -j | python3 -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
for k in ("version", "generation", "state", "layout_hash", "object", "deployed_at", "rolled_back_at", "programs", "previous"):
    print(k, json.dumps(d.get(k), sort_keys=True))'
}

echo "== a refused first deploy leaves no uptrkv/ folder"
printf 'not an ELF file' > "$H/garbage.o"
sed -e "s|^object: .*|object: $H/garbage.o|" "$H/demo_v1.yaml" > "$H/garbage.yaml"
expect 1 "nothing was changed" U rollout "$H/garbage.yaml"
[ ! -e "$bpffs/uptrkv" ] || fail "left behind: $(find "$bpffs/uptrkv")"

echo "== v1 -> v2 -> v3 under load, keeping 3 revisions"
U rollout "$H/demo_v1.yaml" --history-limit 3 > /dev/null
U status demo -j > "$tmp/st1.json"
deployed_v1=$(json "$tmp/st1.json" 'j["deployments"][0]["deployed_at"]')
start_workload load -t 3
sleep 0.3
U rollout "$H/demo_v2.yaml" > /dev/null
sleep 0.2
U rollout "$H/demo_v3.yaml" -j > "$tmp/r3.json"
[ "$(json "$tmp/r3.json" 'j["revision"]')" = 3 ] || fail "v3 is not revision 3: $(cat "$tmp/r3.json")"
sleep 0.2
U dump "$WL_PID" -j > "$tmp/before.json"

echo "== rollback --to-version 1 from the history, its object file deleted"
rm "$H/objs/demo_v1.bpf.o"
U rollback demo --to-version 1 -j > "$tmp/rb.json" || fail "rollback: $(cat "$tmp/rb.json")"
json "$tmp/rb.json" '"  %s v%s->v%s from_history=%s revision=%s %s ms" % (j["result"], j["from_version"], j["to_version"], j["from_history"], j["revision"], j["timing_ms"]["total"])'
[ "$(json "$tmp/rb.json" 'j["from_history"]')" = True ] || fail "not loaded from the history"
[ "$(json "$tmp/rb.json" 'j["migrated"]')" = 3 ] || fail "not every store was migrated"
sleep 0.3
U status demo -j > "$tmp/st.json"
python3 - "$tmp/st.json" "$RFC3339" "$deployed_v1" <<'PY' || fail "status after the rollback: $(cat "$tmp/st.json")"
import json, re, sys
d = json.load(open(sys.argv[1]))["deployments"][0]
assert d["version"] == 1 and d["state"] == "idle", d
assert re.match(sys.argv[2], d["deployed_at"]), d["deployed_at"]
assert re.match(sys.argv[2], d["rolled_back_at"]), d["rolled_back_at"]
assert d["rolled_back_at"] >= d["deployed_at"]
# when v1 was deployed, although that revision is no longer kept (limit 3)
assert d["deployed_at"] == sys.argv[3], (d["deployed_at"], sys.argv[3])
assert all(p["prog_id"] for p in d["programs"]), d["programs"]
print(f"  status: v1, deployed_at {d['deployed_at']}, rolled_back_at {d['rolled_back_at']}")
PY
U status demo | grep -qE "^demo: version 1 .*deployed $deployed_v1; rolled back to it [0-9TZ:-]+$" ||
	fail "status text: $(U status demo)"
U dump "$WL_PID" -j > "$tmp/after.json"
python3 - "$tmp/before.json" "$tmp/after.json" <<'PY' || fail "values not kept across the rollback"
import json, sys
b, a = (json.load(open(f)) for f in sys.argv[1:3])
assert a["version"] == 1, a["version"]
vals = lambda d: {t["tid"]: {k["id"]: k["value"] for k in t["keys"]} for t in d["threads"]}
vb, va = vals(b), vals(a)
assert sorted(vb) == sorted(va), (sorted(vb), sorted(va))
for tid in vb:
    x, y = vb[tid], va[tid]
    # counters only grow; comm and the first 64 bytes of blob are the
    # workload's, written once; v1's keys only: 8 of them
    assert y[0] >= x[0] and y[1] >= x[1], (tid, x[0], y[0], x[1], y[1])
    assert y[3] == x[3], (tid, x[3], y[3])
    assert y[6] == x[6][:2 + 128], (tid, "blob")
    assert sorted(y) == [0, 1, 2, 3, 4, 5, 6, 9], sorted(y)
print(f"  dump: {len(va)} threads, counters kept and growing, comm and blob kept")
PY
stop_workload

echo "== history -j: revisions, outcomes, times, who and where"
U history demo -j > "$tmp/h.json"
python3 - "$tmp/h.json" "$RFC3339" "$(hostname)" <<'PY' || fail "history: $(cat "$tmp/h.json")"
import json, re, sys
h = json.load(open(sys.argv[1]))
assert h["name"] == "demo" and h["limit"] == 3, h
revs = h["revisions"]
got = [(r["revision"], r["version"], r["outcome"], r["live"]) for r in revs]
# limit 3: revision 1 (v1's first deploy) is gone; v1 lives on as revision 4
assert got == [(2, 2, "deployed", False), (3, 3, "deployed", False), (4, 1, "rolled_back", True)], got
for r in revs:
    assert re.match(sys.argv[2], r["when"]), r["when"]
    assert r["uid"] == 0 and r["user"] == "root" and r["host"] == sys.argv[3], r
    assert re.match("^0x[0-9a-f]{8,16}$", r["layout_hash"]), r["layout_hash"]
    assert re.match("^[0-9a-f]{64}$", r["object_sha256"]) and r["object_kept"], r
    assert r["timing_ms"]["total"] >= r["timing_ms"]["preflight"], r["timing_ms"]
    assert r["reason"] is None
assert "rollout" in revs[0]["command"] and "demo_v2.yaml" in revs[0]["command"], revs[0]["command"]
assert "rollback demo --to-version 1" in revs[2]["command"], revs[2]["command"]
assert revs[2]["from_version"] == 3
print("  " + ", ".join(f"r{r[0]} v{r[1]} {r[2]}{' (live)' if r[3] else ''}" for r in got))
PY
U history demo > "$tmp/h.txt"
grep -qE '^4 +1 +0x[0-9a-f]+ +[0-9a-f]{12} +[0-9TZ:-]+ +root\(0\) .*rolled_back \(live\)$' "$tmp/h.txt" ||
	fail "history text: $(cat "$tmp/h.txt")"

echo "== an object refused for its layout record is refused before the lock: not recorded"
sed -e "s|^object: .*|object: $H/garbage.o|" "$H/demo_v4.yaml" > "$H/garbage4.yaml"
expect 1 "not an ELF object; nothing was changed$" U rollout "$H/garbage4.yaml"
[ "$(U history demo -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["revisions"]))')" = 3 ] ||
	fail "a refused object was recorded: $(U history demo)"

echo "== a failed rollout is recorded, and pushes no version out"
UPTRKV_TEST_FAIL_AT=preflight expect 1 "nothing was changed \(recorded as revision 5 of its history\)" \
	U rollout "$H/demo_v4.yaml"
U history demo -j > "$tmp/h2.json"
python3 - "$tmp/h2.json" <<'PY' || fail "history after a failure: $(cat "$tmp/h2.json")"
import json, sys
revs = json.load(open(sys.argv[1]))["revisions"]
assert [r["revision"] for r in revs] == [2, 3, 4, 5], revs
f = revs[-1]
assert f["outcome"] == "failed" and "failure injected at preflight" in f["reason"], f
assert not f["live"] and revs[2]["live"], revs
print(f"  r5 failed: {f['reason'][:90]}")
PY

echo "== a dry run is not recorded, failed or not"
expect 1 "not an ELF object" U rollout "$H/garbage4.yaml" --dry-run
U rollout "$H/demo_v4.yaml" --dry-run > /dev/null
[ "$(U history demo -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["revisions"]))')" = 4 ] ||
	fail "a dry run was recorded: $(U history demo)"

echo "== v4: v2 is no longer kept; asking for it changes nothing"
U rollout "$H/demo_v4.yaml" > /dev/null
state > "$tmp/state.ref"
expect 1 "version 2 is not kept in its history \(versions kept: 1, 3, 4;" U rollback demo --to-version 2
state > "$tmp/state.now"
cmp -s "$tmp/state.ref" "$tmp/state.now" || fail "a refused rollback changed: $(diff "$tmp/state.ref" "$tmp/state.now")"
U status demo -j > "$tmp/st4.json"
[ "$(json "$tmp/st4.json" 'j["deployments"][0]["rolled_back_at"]')" = None ] || fail "rolled_back_at after a rollout"

echo "== a tampered copy is refused, nothing changed"
sha3=$(json "$tmp/h.json" '[r["object_sha256"] for r in j["revisions"] if r["version"] == 3][0]')
"$E/blob_tamper" "$bpffs/uptrkv/demo/blobs" "$sha3" 1
expect 1 "version 3 \(revision 3\): history: the kept copy ${sha3:0:12} does not match its sha256.*nothing was changed" \
	U rollback demo --to-version 3
state > "$tmp/state.now"
cmp -s "$tmp/state.ref" "$tmp/state.now" || fail "a tampered rollback changed: $(diff "$tmp/state.ref" "$tmp/state.now")"

echo "== the version in the other slot needs no copy: v1 (its file is gone)"
U rollback demo -j > "$tmp/rb1.json" || fail "rollback to the other slot: $(cat "$tmp/rb1.json")"
[ "$(json "$tmp/rb1.json" '(j["to_version"], j["from_history"])')" = "(1, False)" ] ||
	fail "plain rollback: $(cat "$tmp/rb1.json")"
U rollback demo --to-version 1 > "$tmp/same.out" || fail "rollback to the live version: exit $?"
grep -q "version 1 is already deployed; nothing to do" "$tmp/same.out" || fail "same version: $(cat "$tmp/same.out")"

echo "== a deployment made before the history: readable, and recorded from its next rollout"
rm "$bpffs/uptrkv/demo/history" "$bpffs/uptrkv/demo/blobs"
U status demo -j > "$tmp/st5.json" || fail "status without history"
json "$tmp/st5.json" 'j["deployments"][0]["deployed_at"]' | grep -qE "$RFC3339" || fail "deployed_at without history"
U history demo -j > "$tmp/h5.json"
[ "$(json "$tmp/h5.json" '(j["recorded"], j["revisions"])')" = "(False, [])" ] || fail "history: $(cat "$tmp/h5.json")"
expect 1 "version 3 is not in its other slot, and the deployment has no history yet" U rollback demo --to-version 3
sed -e 's/^version: 4/version: 5/' "$H/demo_v4.yaml" > "$H/demo_v5.yaml"
U rollout "$H/demo_v5.yaml" > /dev/null
U history demo -j > "$tmp/h6.json"
[ "$(json "$tmp/h6.json" '[(r["version"], r["outcome"], r["live"]) for r in j["revisions"]]')" = "[(5, 'deployed', True)]" ] ||
	fail "history after the first recorded rollout: $(cat "$tmp/h6.json")"

echo "== widening u32 -> u64 and s16 -> s64 keeps every value"
# Each layout has its own object, bound to it.
for v in 3 4; do
	sed -e "s|^object: .*|object: $PWD/$BUILD/bpf/test_widen_v$v.bpf.o|" \
	    tests/e2e/manifests/widen_v$v.yaml > "$H/w$v.yaml"
done
rc=0; U diff "$H/w3.yaml" "$H/w4.yaml" -j > "$tmp/wd.json" || rc=$?
[ $rc = 1 ] || fail "diff of a widening: exit $rc: $(cat "$tmp/wd.json")"
[ "$(json "$tmp/wd.json" '[(c["id"], c["change"], c["action"], c["conversion"]) for c in j["changes"]]')" = \
  "[(2, 'retyped', 'copy', 'uint'), (5, 'retyped', 'copy', 'sint')]" ] || fail "diff: $(cat "$tmp/wd.json")"
U diff "$H/w3.yaml" "$H/w4.yaml" > "$tmp/wd.txt" || true
grep -q "s16 -> s64, value kept, sign-extended" "$tmp/wd.txt" || fail "diff text: $(cat "$tmp/wd.txt")"
# dump_app's BPF writer (tests/bpf/test_dump.bpf.c) adds through meta slot 0: the
# same layout as version 2 and then 3 makes slot 0 the live one.
sed -e 's/^version: 3/version: 2/' "$H/w3.yaml" > "$H/w2.yaml"
U rollout "$H/w2.yaml" > /dev/null
U rollout "$H/w3.yaml" > /dev/null
mkfifo "$tmp/app.in"
"$E/dump_app" run "$bpffs/uptrkv/dumptest" "$tmp/view.json" 3 < "$tmp/app.in" > "$tmp/app.out" 2> "$tmp/app.err" &
app=$!
WORKLOAD_PIDS+=("$app")
exec {app_fd}> "$tmp/app.in"
wait_line 30 ready "$tmp/app.out" "$app" || { cat "$tmp/app.err"; fail "dump_app not ready"; }
U dump "$app" -j > "$tmp/w3.json"
U rollout "$H/w4.yaml" -j > "$tmp/w4r.json" || fail "widening rollout: $(cat "$tmp/w4r.json")"
U dump "$app" -j > "$tmp/w4.json"
exec {app_fd}>&-
wait "$app" || fail "dump_app exited with $?"
python3 - "$tmp/w3.json" "$tmp/w4.json" <<'PY' || fail "widening lost a value"
import json, sys
b, a = (json.load(open(f)) for f in sys.argv[1:3])
assert (b["version"], a["version"]) == (3, 4), (b["version"], a["version"])
keys = lambda d: {t["tid"]: {k["name"]: k for k in t["keys"]} for t in d["threads"]}
kb, ka = keys(b), keys(a)
assert sorted(kb) == sorted(ka) and len(kb) == 3
neg = 0
for tid in kb:
    for name, typ in (("c_u32", "u64"), ("c_s16", "s64")):
        x, y = kb[tid][name], ka[tid][name]
        assert (y["type"], y["size"]) == (typ, 8), y
        assert y["value"] == x["value"], (tid, name, x["value"], y["value"])
        neg += name == "c_s16" and x["value"] < 0
    # everything else is untouched
    for name in kb[tid]:
        if name not in ("c_u32", "c_s16", "bpf_counter"):
            assert ka[tid][name]["value"] == kb[tid][name]["value"], (tid, name)
vals = sorted((kb[t]["c_u32"]["value"], kb[t]["c_s16"]["value"]) for t in kb)
assert neg == 3 and (4294967295, -32768) in vals, vals
print(f"  3 threads: c_u32 and c_s16 kept as u64 and s64: {vals}")
PY

echo "== the last undeploy leaves no uptrkv/ folder"
U undeploy dumptest > /dev/null
[ -d "$bpffs/uptrkv" ] || fail "uptrkv/ removed while demo is deployed"
U undeploy demo > /dev/null
[ ! -e "$bpffs/uptrkv" ] || fail "left behind: $(find "$bpffs/uptrkv")"
echo PASS
