#!/bin/bash
# `uptrkv dump` of a real deployment while the demo workload and the demo
# BPF programs run, across a rollout v1 -> v2 (root, real BPF, private
# bpffs; tests/e2e/env.sh). Values keep changing here, so the checks are
# those that hold at any instant:
#  - the threads are exactly the workload's registered ones, the keys
#    exactly the live manifest's (names, types, sizes), decoded from the
#    active slot;
#  - values the workload wrote once (comm, blob, defaults) are exact; the
#    counters it and the BPF programs keep writing are within what the
#    workload reports it did; version_seen, written by the BPF program,
#    names the live version;
#  - after the rollout dump follows the new active slot (generation & 1),
#    version and names.
set -euo pipefail
source "$(dirname "$0")/env.sh"

U rollout "$M/demo_v1.yaml" >/dev/null
start_workload wl -t 3
read -r _ wl_pid tids <"$tmp/wl.out"

# check_dump FILE MANIFEST VERSION: the dump against the manifest and the
# workload's own rules (see examples/demo/demo_workload.c).
check_dump() {
	python3 - "$1" "$2" "$3" "$wl_pid" $tids <<'EOF'
import json, sys, yaml
d = json.load(open(sys.argv[1]))
m = yaml.safe_load(open(sys.argv[2]))
version, pid, tids = int(sys.argv[3]), int(sys.argv[4]), sorted(map(int, sys.argv[5:]))
keys = {k["id"]: k for k in m["keys"]}

assert d["pid"] == pid and d["deployment"] == "demo", (d["pid"], d["deployment"])
assert d["version"] == version, d["version"]
assert [t["tid"] for t in d["threads"]] == tids, ([t["tid"] for t in d["threads"]], tids)
for t in d["threads"]:
    tid, got = t["tid"], {k["id"]: k for k in t["keys"]}
    assert sorted(got) == sorted(keys), (tid, sorted(got), sorted(keys))
    for i, k in got.items():
        mk = keys[i]
        assert (k["name"], k["type"], k["size"]) == (mk["name"], mk.get("type", "bytes"), mk["size"]), (k, mk)
        assert "changing" not in k, k
    v = {k["name"]: k["value"] for k in t["keys"]}
    assert v["comm"] == "w%d" % (tid % 100000), v["comm"]
    blob = bytes.fromhex(v["blob"][2:])
    assert blob[:64] == bytes((tid * 31 + i) & 0xff for i in range(64)), v["blob"][:40]
    assert blob[64:] == bytes(len(blob) - 64), "blob not zero-extended"
    assert v["rx_bytes"] >= 1
    events = v.get("events", v.get("syscalls"))
    assert events >= 1
    assert v["version_seen"] in (version - 1, version) and v["version_seen"] >= 1, v["version_seen"]
    if "label" in v:
        assert v["label"] == "demo", v["label"]
    if "flags" in v:
        assert v["flags"] == (7 if keys[4]["size"] == 2 else 1), v["flags"]
print(f"v{version}: {len(tids)} threads x {len(keys)} keys as the manifest says")
EOF
}

U dump "$wl_pid" -j >"$tmp/d1.json"
check_dump "$tmp/d1.json" "$M/demo_v1.yaml" 1
slot1=$(json "$tmp/d1.json" 'j["slot"]')
[ "$(json "$tmp/d1.json" 'j["slot"] == j["generation"] % 2')" = True ] || fail "v1 not read from the active slot"
# A thread id: that thread alone, by the same rules.
tid=${tids%% *}
U dump "$tid" --key comm --key 9 -j >"$tmp/t.json"
[ "$(json "$tmp/t.json" "j['pid'] == $tid and [t['tid'] for t in j['threads']] == [$tid] and
	[k['name'] for k in j['threads'][0]['keys']] == ['comm', 'version_seen']")" = True ] ||
	fail "dump of tid $tid: $(cat "$tmp/t.json")"
U dump "$wl_pid" >"$tmp/d1.txt"
grep -q "^PID $wl_pid: deployment demo, version 1" "$tmp/d1.txt" || fail "text header"

U rollout "$M/demo_v2.yaml" >/dev/null
# Each thread's next event is handled by v2, which sets version_seen to 2.
seen_v2() {
	U dump "$wl_pid" -j >"$tmp/d2.json" &&
	[ "$(json "$tmp/d2.json" '{k["value"] for t in j["threads"] for k in t["keys"] if k["id"] == 9} == {2}')" = True ]
}
wait_for 5 seen_v2 || true	# check_dump says what is wrong
check_dump "$tmp/d2.json" "$M/demo_v2.yaml" 2
[ "$(json "$tmp/d2.json" 'j["slot"] == j["generation"] % 2 and j["slot"] != '"$slot1"' and
	{k["name"] for t in j["threads"] for k in t["keys"] if k["id"] == 1} == {"syscalls"}
	and {k["value"] for t in j["threads"] for k in t["keys"] if k["id"] == 9} == {2}')" = True ] || fail "after the rollout: $(head -c 400 "$tmp/d2.json")"

stop_workload 1 2
# Counters dump saw never exceed what the workload did.
python3 - "$WL_REPORT" "$tmp/d2.json" <<'EOF'
import json, sys
r, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
done = {t["tid"]: t for t in r["threads"]}
for t in d["threads"]:
    v = {k["name"]: k["value"] for k in t["keys"]}
    w = done[t["tid"]]
    assert v["syscalls"] <= w["events"] and v["rx_bytes"] <= w["iterations"], (v, w)
EOF
echo "PASS"
