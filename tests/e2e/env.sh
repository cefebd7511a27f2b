# The one harness of the shell tests (tests/e2e/, tests/fleet/). Source it
# right after `set -euo pipefail`; it owns setup and teardown:
#   - the repo's top as the working folder, BUILD (default build/san),
#     UPTRKV (the uptrkv under test), BPF_ARCH (scripts/bpf-arch.sh);
#   - root or skip: exit 77, which tests/run.sh counts as skipped (a test
#     that needs no kernel sets needs_root=0 before sourcing: then it runs
#     as anyone, and gets a bpffs only when it is root);
#   - $tmp, a private temp dir, and $bpffs, a private bpffs mounted in it
#     (never /sys/fs/bpf); EXTRA_BPFFS lists more a test mounts there;
#   - cleanup on any exit: workloads killed, every deployment undeployed,
#     every bpffs unmounted, $tmp removed, then what at_exit added. A test
#     must not set its own EXIT trap: it would replace this one;
#   - checks: ok/bad count and go on, fail stops at once; a test that
#     called bad exits 1 even if it ran to its end;
#   - JSON through one tool, python3: json, json_true, json_count, one_doc;
#   - waits that scale with UPTRKV_TIMEOUT_FACTOR (default 1): wait_for,
#     scaled;
#   - the demo: $M (its manifests, object: pointing at this build), $U
#     (uptrkv on $bpffs), $W, start_workload/stop_workload, expect.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build/san}
UPTRKV=${UPTRKV:-$PWD/$BUILD/uptrkv}
UPTRKV_TIMEOUT_FACTOR=${UPTRKV_TIMEOUT_FACTOR:-1}
BPF_ARCH=${BPF_ARCH:-$(scripts/bpf-arch.sh)}	# for tests that compile BPF

# skip WHY: this test cannot run here (exit 77, counted as skipped).
skip() { echo "SKIP: $*"; exit 77; }
is_root() { [ "$(id -u)" = 0 ]; }
[ "${needs_root:-1}" = 0 ] || is_root || skip "needs root (loads BPF programs)"
# need_built FILE...: the build made these, or the test cannot run.
need_built() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || { echo "missing $f: run 'make BUILD=$BUILD SANITIZE=1 test-build'"; exit 1; }
	done
}
need_built "$BUILD/uptrkv"

tmp=$(mktemp -d /tmp/uptrkv-e2e.XXXXXX)
bpffs=$tmp/bpffs
M=$tmp/manifests
WORKLOAD_PIDS=()
EXTRA_BPFFS=()
AT_EXIT=()
checks=0 fails=0

# at_exit CMD...: run CMD at cleanup, before the deployments go.
at_exit() { AT_EXIT+=("$(printf '%q ' "$@")"); }

cleanup() {
	local rc=$? c p fs d
	for c in "${AT_EXIT[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	for p in "${WORKLOAD_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	# Unpinning everything detaches the programs; then drop the mount.
	# Every deployment the test made, whatever its name, in every bpffs.
	for fs in "$bpffs" "${EXTRA_BPFFS[@]}"; do
		mountpoint -q "$fs" || continue
		for d in "$fs"/uptrkv/*/; do
			[ -d "$d" ] && "$UPTRKV" --bpffs "$fs" undeploy "$(basename "$d")" >/dev/null 2>&1
		done
		umount "$fs" 2>/dev/null || true
	done
	rm -rf "$tmp"
	if [ "$checks" -gt 0 ]; then echo "$((checks - fails)) checks passed, $fails failed"; fi
	[ "$rc" = 0 ] && [ "$fails" -gt 0 ] && rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$bpffs" "$M"
if is_root; then mount -t bpf bpf "$bpffs"; fi
U() { "$UPTRKV" --bpffs "$bpffs" "$@"; }
W="$BUILD/uptrkv-demo-workload"

# Demo manifests pointing at this build's objects, in a folder of their own.
for v in 1 2 3; do
	sed "s|^object: .*|object: $PWD/$BUILD/bpf/demo_v$v.bpf.o|" examples/demo/demo_v$v.yaml > "$M/demo_v$v.yaml"
done

# ---- checks --------------------------------------------------------------
# ok WHAT / bad WHAT: one check passed / failed; the test goes on.
ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
# fail WHAT: a check failed and the test cannot go on.
fail() { echo "FAIL: $*"; exit 1; }

# no_sanitizer_report FILE WHAT: ASan and UBSan said nothing in FILE.
no_sanitizer_report() {
	! grep -qE 'Sanitizer|runtime error:' "$1" || { cat "$1"; fail "sanitizer report: $2"; }
}
# run CMD...: stdout in $tmp/out, stderr in $tmp/err, exit status in $rc.
run() {
	local errexit=$-
	set +e; "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
	[[ $errexit != *e* ]] || set -e
	no_sanitizer_report "$tmp/err" "$*"
}
# expect_rc WANT WHAT: the last run exited WANT.
expect_rc() {
	if [ "$rc" = "$1" ]; then ok "$2: exit $rc"; else
		bad "$2: exit $rc, want $1"; sed 's/^/    out: /' "$tmp/out"; sed 's/^/    err: /' "$tmp/err"; fi
}
# expect CODE PATTERN CMD...: runs CMD (its stdout and stderr in $tmp/x.out
# and $tmp/x.err) and stops the test unless it exited CODE, with no
# sanitizer report, and a line of stderr matches PATTERN (grep -E; any
# case with EXPECT_ICASE=1; an empty PATTERN matches anything); prints that
# line.
expect() {
	local want=$1 pat=$2 rc=0 flags=-qE; shift 2
	[ "${EXPECT_ICASE:-0}" = 0 ] || flags=-qiE
	"$@" > "$tmp/x.out" 2> "$tmp/x.err" || rc=$?
	no_sanitizer_report "$tmp/x.err" "$*"
	[ "$rc" = "$want" ] || fail "[$*]: exit $rc, want $want: $(cat "$tmp/x.err" "$tmp/x.out")"
	[ -z "$pat" ] || grep $flags -- "$pat" "$tmp/x.err" || fail "[$*]: stderr does not match '$pat': $(cat "$tmp/x.err")"
	echo "  exit $rc: $(grep '^uptrkv' "$tmp/x.err" | tail -1 | cut -c1-240)"
}

# ---- JSON, with python3 ----------------------------------------------------
# An expression sees j (the document), re, json, and match(PATTERN, S): a
# regular expression found in S (what jq's test() was).
JSON_PY='
import json, re, sys
def match(p, s): return isinstance(s, str) and re.search(p, s) is not None
def load(path):
    with open(path) as f: return json.load(f)
def ev(expr, j): return eval("(" + expr + "\n)", {"j": j, "re": re, "json": json, "match": match})
'
# json FILE EXPR: prints EXPR on FILE's document (True/False for a test;
# -c prints it as compact JSON: json -c FILE EXPR).
json() {
	local compact=0
	[ "$1" = -c ] && { compact=1; shift; }
	python3 -c "$JSON_PY"'
v = ev(sys.argv[2], load(sys.argv[1]))
print(json.dumps(v, separators=(",", ":")) if sys.argv[3] == "1" else v)' "$1" "$2" "$compact"
}
# json_true EXPR WHAT [FILE]: ok if EXPR is true on FILE's document
# (default $tmp/out), else bad with the document shown.
json_true() {
	local f=${3:-$tmp/out}
	if python3 -c "$JSON_PY"'
sys.exit(0 if ev(sys.argv[2], load(sys.argv[1])) else 1)' "$f" "$1" 2>/dev/null; then
		ok "$2"; else bad "$2: '$1' is not true on:"; sed 's/^/    /' "$f"; fi
}
# json_lines_true EXPR WHAT FILE: every line of FILE is one JSON document
# and EXPR is true on each (j).
json_lines_true() {
	if [ -s "$3" ] && python3 -c "$JSON_PY"'
ok = all(ev(sys.argv[2], json.loads(l)) for l in open(sys.argv[1]))
sys.exit(0 if ok else 1)' "$3" "$1" 2>/dev/null; then ok "$2"; else bad "$2: $(cat "$3")"; fi
}
# json_count FILE: how many JSON documents FILE holds, one after another.
json_count() {
	python3 -c '
import json, sys
s, dec, n, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0, 0
try:
    while True:
        while i < len(s) and s[i].isspace(): i += 1
        if i == len(s): break
        _, i = dec.raw_decode(s, i); n += 1
except ValueError:
    n = -1
print(n)' "$1"
}
# one_doc WHAT [FILE]: FILE (default $tmp/out) is exactly one JSON document.
one_doc() {
	local f=${2:-$tmp/out}
	if [ "$(json_count "$f")" = 1 ]; then ok "$1: one JSON document"; else
		bad "$1: not one JSON document:"; sed 's/^/    /' "$f"; fi
}

# ---- waits ---------------------------------------------------------------
# scaled SECONDS: SECONDS times UPTRKV_TIMEOUT_FACTOR, rounded up (a loaded
# machine gets longer waits; tests/run.sh scales its per-test limit too).
scaled() { awk -v s="$1" -v f="$UPTRKV_TIMEOUT_FACTOR" 'BEGIN { v = s * f; printf "%d\n", v == int(v) ? v : int(v) + 1 }'; }
# wait_for SECONDS CMD...: polls CMD until it succeeds; 1 if it did not
# within SECONDS (scaled).
wait_for() {
	local limit; limit=$(( $(date +%s%N) + $(scaled "$1") * 1000000000 )); shift
	until "$@" 2>/dev/null; do
		[ "$(date +%s%N)" -lt "$limit" ] || return 1
		sleep 0.01
	done
}
# wait_line SECONDS PATTERN FILE [PID]: waits until a line of FILE matches
# PATTERN (grep -E); 1 if none did within SECONDS (scaled), or PID ended
# first.
wait_line() {
	wait_for "$1" line_or_gone "$2" "$3" "${4:-}" && grep -qE -- "$2" "$3" 2>/dev/null
}
line_or_gone() { grep -qE -- "$1" "$2" 2>/dev/null || { [ -n "$3" ] && ! kill -0 "$3" 2>/dev/null; }; }

# ---- the demo workload ---------------------------------------------------
# start_workload NAME [workload args...]: runs the demo workload in the
# background (on WL_BPFFS if set, else $bpffs), waits for its "ready" line;
# sets WL_PID and WL_REPORT.
start_workload() {
	local name=$1; shift
	need_built "$W"
	WL_REPORT=$tmp/$name.report.json
	"$W" --bpffs "${WL_BPFFS:-$bpffs}" -r "$WL_REPORT" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
	WL_PID=$!
	WORKLOAD_PIDS+=("$WL_PID")
	if ! wait_line 5 '^ready' "$tmp/$name.out" "$WL_PID"; then
		kill -0 "$WL_PID" 2>/dev/null || { cat "$tmp/$name.err"; fail "workload $name died"; }
		fail "workload $name never got ready"
	fi
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
