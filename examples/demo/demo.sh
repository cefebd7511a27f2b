#!/bin/bash
# `make demo`: the demo rollout, start to finish, on this machine.
#   1. checks the manifests and shows the change plans;
#   2. deploys v1 and starts the demo workload (registered threads that check,
#      after every event, that no value and no event was lost);
#   3. rolls out v2, then v3, under that load, showing after each step what
#      `uptrkv status`, `uptrkv dump` and the programs' own counters see;
#   4. rolls back once, stops the workload and shows its verdict;
#   5. undeploys and cleans up.
# It uses a private bpffs in a temp dir (uptrkv mounts it), never /sys/fs/bpf.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
[ "$(id -u)" = 0 ] || { echo "make demo loads BPF programs: run it as root"; exit 1; }

UPTRKV=$BUILD/uptrkv
tmp=$(mktemp -d /tmp/uptrkv-demo.XXXXXX)
bpffs=$tmp/bpffs
wl_pid=
cleanup() {
	[ -n "$wl_pid" ] && kill -KILL "$wl_pid" 2>/dev/null
	"$UPTRKV" --bpffs "$bpffs" undeploy demo >/dev/null 2>&1 || true
	umount "$bpffs" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# The manifests name ../build/bpf/demo_vN.bpf.o; point them at this build.
mkdir -p "$tmp/manifests"
for v in 1 2 3; do
	sed "s|^object: .*|object: $PWD/$BUILD/bpf/demo_v$v.bpf.o|" examples/demo/demo_v$v.yaml > "$tmp/manifests/demo_v$v.yaml"
done
M=$tmp/manifests
u() { echo; echo "\$ uptrkv $*"; "$UPTRKV" --bpffs "$bpffs" "$@"; }
step() { echo; echo "======== $* ========"; }

show() {
	u status demo
	echo
	local tid; tid=$(awk '/^ready/ {print $3}' "$tmp/wl.out")
	echo "\$ uptrkv dump $tid   # one thread of workload $wl_pid"
	"$UPTRKV" --bpffs "$bpffs" dump "$tid" || true
	echo
	echo "programs' counters (demo_stats: events handled by v1, v2, v3; straddles):"
	bpftool map dump pinned "$bpffs/uptrkv/demo/maps/demo_stats" -j 2>/dev/null |
		python3 -c '
import json, sys
d = {}
for e in json.load(sys.stdin):
    f = e.get("formatted")
    if f:
        d[f["key"]] = f["value"]
    else:
        d[int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")] = \
            int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little")
print("  v1=%d v2=%d v3=%d straddle=%d" % (d.get(1, 0), d.get(2, 0), d.get(3, 0), d.get(8, 0)))' || true
}

step "1. validate the manifests and diff them"
u validate "$M/demo_v1.yaml" "$M/demo_v2.yaml" "$M/demo_v3.yaml"
u diff "$M/demo_v1.yaml" "$M/demo_v2.yaml" || true
u diff "$M/demo_v2.yaml" "$M/demo_v3.yaml" || true

step "2. deploy v1 and start the workload (4 threads + short-lived ones)"
u rollout "$M/demo_v1.yaml"
"$BUILD/uptrkv-demo-workload" --bpffs "$bpffs" -t 4 --churn -r "$tmp/report.json" > "$tmp/wl.out" 2>&1 &
wl_pid=$!
for _ in $(seq 100); do grep -q ^ready "$tmp/wl.out" && break; sleep 0.05; done
echo "workload: $(head -1 "$tmp/wl.out")"
sleep 1
show

step "3. roll out v2 under load (rename, resize, retype, remove, add)"
u rollout "$M/demo_v2.yaml" --dry-run
u rollout "$M/demo_v2.yaml"
sleep 1
show

step "4. roll out v3 under load (shrink with truncate, remove, add 4 KiB)"
u rollout "$M/demo_v3.yaml"
sleep 1
show

step "5. roll back to v2"
u rollback demo
sleep 1
u status demo

step "6. stop the workload: its verdict"
kill -TERM "$wl_pid"
wait "$wl_pid" || true
wl_pid=
python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
events = sum(t["events"] for t in r["threads"])
print(f"{len(r['threads'])} threads handled {events} events, each checked right after it happened;")
print(f"{r['churn_threads']} short-lived threads registered and exited meanwhile;")
for t in r["threads"]:
    print(f"  thread {t['tid']}: versions seen {t['versions']}, errors {t['errors']}")
print("verdict:", "no value and no event lost" if r["errors"] == 0 else f"{r['errors']} ERRORS")
sys.exit(1 if r["errors"] else 0)
PY

step "7. undeploy"
u undeploy demo
echo
echo "demo done."
