# Shared by the rollout end-to-end tests. Source it after `set -euo pipefail`.
# Gives: $tmp (private temp dir), $bpffs (a private bpffs mounted there),
# $U (the uptrkv under test, with --bpffs), $W (the demo workload),
# $M (demo manifests whose object: points at this build's BPF objects),
# start_workload/stop_workload, and cleanup of everything on any exit.
# Tests must not set their own EXIT trap: it would replace this cleanup.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build/san}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loads BPF programs)"; exit 77; }
for f in "$BUILD/uptrkv" "$BUILD/uptrkv-demo-workload" "$BUILD/bpf/demo_v1.bpf.o"; do
	[ -e "$f" ] || { echo "missing $f: run 'make test-build BUILD=$BUILD SANITIZE=1'"; exit 1; }
done

tmp=$(mktemp -d /tmp/uptrkv-e2e.XXXXXX)
bpffs=$tmp/bpffs
M=$tmp/manifests
WORKLOAD_PIDS=()
# More private bpffs a test mounts (under $tmp); cleaned up as $bpffs is.
EXTRA_BPFFS=()

cleanup() {
	local rc=$?
	for p in "${WORKLOAD_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	# Unpinning everything detaches the programs; then drop the mount.
	# Every deployment the test made, whatever its name, in every bpffs.
	for fs in "$bpffs" "${EXTRA_BPFFS[@]}"; do
		for d in "$fs"/uptrkv/*/; do
			[ -d "$d" ] && "$BUILD/uptrkv" --bpffs "$fs" undeploy "$(basename "$d")" >/dev/null 2>&1
		done
		umount "$fs" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$bpffs" "$M"
mount -t bpf bpf "$bpffs"
U() { "$BUILD/uptrkv" --bpffs "$bpffs" "$@"; }
W="$BUILD/uptrkv-demo-workload"

# Demo manifests pointing at this build's objects, in a folder of their own.
for v in 1 2 3; do
	sed "s|^object: .*|object: $PWD/$BUILD/bpf/demo_v$v.bpf.o|" examples/demo/demo_v$v.yaml > "$M/demo_v$v.yaml"
done

fail() { echo "FAIL: $*"; exit 1; }

# start_workload NAME [workload args...]: runs the demo workload in the
# background (on WL_BPFFS if set, else $bpffs), waits for its "ready" line;
# sets WL_PID and WL_REPORT.
start_workload() {
	local name=$1; shift
	WL_REPORT=$tmp/$name.report.json
	"$W" --bpffs "${WL_BPFFS:-$bpffs}" -r "$WL_REPORT" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
	WL_PID=$!
	WORKLOAD_PIDS+=("$WL_PID")
	for _ in $(seq 1 500); do
		grep -q '^ready' "$tmp/$name.out" 2>/dev/null && return 0
		kill -0 "$WL_PID" 2>/dev/null || { cat "$tmp/$name.err"; fail "workload $name died"; }
		sleep 0.01
	done
	fail "workload $name never got ready"
}

# stop_workload: SIGTERM, wait, then print and check its report.
stop_workload() {
	kill -TERM "$WL_PID"
	wait "$WL_PID" || fail "workload exited with $?"
	python3 - "$WL_REPORT" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want = [int(v) for v in sys.argv[2:]]
events = sum(t["events"] for t in r["threads"])
print(f"workload {r['pid']}: {len(r['threads'])} threads, {events} events checked one by one, "
      f"{r['churn_threads']} short-lived threads, {r['errors']} errors")
bad = False
for t in r["threads"]:
    if t["errors"]:
        print(f"  thread {t['tid']}: {t['errors']} errors, first: {t['first_error']}"); bad = True
    if t["events"] == 0:
        print(f"  thread {t['tid']}: no events"); bad = True
    if want and t["versions"] != want:
        print(f"  thread {t['tid']}: saw versions {t['versions']}, want {want}"); bad = True
if r["churn_errors"]:
    print(f"  short-lived threads: {r['churn_errors']} errors, first: {r['churn_first_error']}"); bad = True
sys.exit(1 if bad or r["errors"] else 0)
PY
}

# expect CODE PATTERN CMD...: exit status, a line of stderr matching
# PATTERN (grep -E), and no sanitizer report; prints that line.
expect() {
	local want=$1 pat=$2 rc=0; shift 2
	"$@" > "$tmp/x.out" 2> "$tmp/x.err" || rc=$?
	! grep -qE 'Sanitizer|runtime error:' "$tmp/x.err" || { cat "$tmp/x.err"; fail "[$*]: sanitizer report"; }
	[ "$rc" = "$want" ] || fail "[$*]: exit $rc, want $want: $(cat "$tmp/x.err")"
	grep -qE -- "$pat" "$tmp/x.err" || fail "[$*]: stderr does not match '$pat': $(cat "$tmp/x.err")"
	echo "  exit $rc: $(grep '^uptrkv' "$tmp/x.err" | tail -1 | cut -c1-240)"
}

# json FILE EXPR: evaluates a python expression on the JSON document in FILE (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
