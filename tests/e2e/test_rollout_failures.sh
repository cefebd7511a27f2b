#!/bin/bash
# Failure injection, end to end, with real BPF, each case under the running
# demo workload (which checks after every event that exactly one program
# handled it and that no value was lost):
#   a  a new object the verifier rejects        exit 1, nothing changed
#   b  a program the manifest lists is missing  exit 1, nothing changed
#   c  no space in a store (--reserve 4096)     exit 1 naming the thread
#   f  threads that exit during a rollout       skipped, counted, success
#   d  kill -9 at every test point              a re-run finishes or undoes
#   e  SIGTERM/SIGINT at migrate/switch/switched: undone before the flip,
#      finished after it
#   g  a step that fails (UPTRKV_TEST_FAIL_AT) at each point: undone before
#      the flip; after it, rolled back: the old version runs again, its
#      programs and data intact, and a re-run then succeeds
# "Nothing changed" is checked on the live state: version, generation,
# journal idle, the very same live programs, and every store using exactly
# the old layout's bytes (a half-built new slot would show as extra bytes).
# CASES="a b c f d e" (the default) selects cases.
set -euo pipefail
source "$(dirname "$0")/env.sh"
CASES=${CASES:-a b c f d e g}
POINTS=${POINTS:-preflight migrate switch switched reclaim}
UPTRKV_BIN=$BUILD/uptrkv

has_case() { [[ " $CASES " == *" $1 "* ]]; }

# run_as NAME cmd...: runs a command with stdout/stderr in $tmp/NAME.{out,err},
# sets RC; a sanitizer report anywhere is a failure whatever the exit code.
run_as() {
	local name=$1; shift
	set +e
	{ "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"; } 2> /dev/null	# no "Killed" line
	RC=$?
	set -e
	if grep -qE 'Sanitizer|runtime error:' "$tmp/$name.err"; then
		cat "$tmp/$name.err"; fail "$name: sanitizer report"
	fi
}

# Data bytes one store uses with layout version V.
declare -A LAYOUT_BYTES
for v in 1 2 3; do
	U diff "$M/demo_v$v.yaml" "$M/demo_v$v.yaml" -j > "$tmp/same.json"
	LAYOUT_BYTES[$v]=$(json "$tmp/same.json" 'j["bytes_after"]')
done

# snap NAME: status of demo in $tmp/NAME.st.json.
snap() { U status demo -j > "$tmp/$1.st.json" || fail "status demo exited $?"; }

# check_live NAME VERSION GEN: the status snapshot NAME shows VERSION live
# at generation GEN, an idle journal, and every store exactly at VERSION's
# layout (nothing of another layout left allocated).
check_live() {
	local f=$tmp/$1.st.json
	python3 - "$f" "$2" "$3" "${LAYOUT_BYTES[$2]}" <<'PY' || fail "$1: $(cat "$f")"
import json, sys
d = json.load(open(sys.argv[1]))["deployments"][0]
v, g, per = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
bad = []
if d["version"] != v: bad.append(f"version {d['version']}, want {v}")
if d["generation"] != g: bad.append(f"generation {d['generation']}, want {g}")
if d["state"] != "idle": bad.append(f"state '{d['state']}', want idle")
if d["bytes_used"] != d["stores"] * per:
    bad.append(f"{d['bytes_used']} bytes used in {d['stores']} stores, want {per} each: "
               "space of another layout is still allocated")
if not d["stores"]: bad.append("no live stores")
for p in d["programs"]:
    if not p["prog_id"]: bad.append(f"live program {p['name']} is not in its hook's slot")
if bad:
    print("  " + "\n  ".join(bad)); sys.exit(1)
PY
}

# same_programs A B [previous]: the live programs (and, with "previous",
# the recorded previous version and its programs) of two snapshots are
# the very same kernel programs: nothing was replaced.
same_programs() {
	python3 - "$tmp/$1.st.json" "$tmp/$2.st.json" "${3:-}" <<'PY' || fail "$2 differs from $1"
import json, sys
a = json.load(open(sys.argv[1]))["deployments"][0]
b = json.load(open(sys.argv[2]))["deployments"][0]
keys = ["version", "generation", "layout_hash", "object", "deployed_at", "programs"]
bad = [k for k in keys if a.get(k) != b.get(k)]
if sys.argv[3] and a.get("previous") != b.get("previous"): bad.append("previous")
if bad:
    for k in bad: print(f"  {k}: {a.get(k)} -> {b.get(k)}")
    sys.exit(1)
PY
}

# pins NAME: every pin of the deployment, for before/after comparisons.
pins() { (cd "$bpffs/uptrkv/demo" && find . | sort) > "$tmp/$1.pins"; }

check_alive() { kill -0 "$WL_PID" 2>/dev/null || { cat "$tmp/$WL_NAME.err"; fail "workload died"; }; }

# refused NAME MANIFEST: a rollout that must fail in the preflight, with
# exit 1, and change nothing at all (same programs, same pins).
refused() {
	local name=$1 manifest=$2
	snap "$name.before"; pins "$name.before"
	run_as "$name" U rollout "$manifest"
	[ "$RC" = 1 ] || fail "$name: exit $RC, want 1: $(cat "$tmp/$name.err")"
	echo "  exit 1: $(grep "^uptrkv:" "$tmp/$name.err" | tail -1)"
	snap "$name.after"; pins "$name.after"
	same_programs "$name.before" "$name.after" previous
	cmp -s "$tmp/$name.before.pins" "$tmp/$name.after.pins" ||
		fail "$name: pins changed: $(diff "$tmp/$name.before.pins" "$tmp/$name.after.pins")"
	check_live "$name.after" "$(json "$tmp/$name.before.st.json" 'j["deployments"][0]["version"]')" \
		"$(json "$tmp/$name.before.st.json" 'j["deployments"][0]["generation"]')"
}

start() { WL_NAME=$1; start_workload "$@"; }

# ---------------------------------------------------------------------
if has_case a || has_case b || has_case c || has_case f; then
	echo "== deploy v1, workload with 4 threads and short-lived threads"
	U rollout "$M/demo_v1.yaml" -j > "$tmp/deploy.json"
	start main -t 4 --monotonic --churn
	MAIN_PID=$WL_PID MAIN_REPORT=$WL_REPORT
	sleep 0.3
fi

if has_case a; then
	echo "== a: an object the verifier rejects"
	obj=$PWD/$BUILD/bpf/demo_bad_verifier.bpf.o
	[ -e "$obj" ] || fail "missing $obj"
	sed "s|^object: .*|object: $obj|" "$M/demo_v2.yaml" > "$M/bad_verifier.yaml"
	refused a "$M/bad_verifier.yaml"
	grep -q "demo_bad_verifier.bpf.o" "$tmp/a.err" || fail "a: the message does not name the object"
	grep -qi "load" "$tmp/a.err" || fail "a: the message does not say loading failed"
	# Without -v, only the log's tail: the failing instruction, its source
	# line, the verifier's reason, and how to get the rest.
	grep -q "run with -v for the whole log" "$tmp/a.err" || fail "a: no hint that -v gives the whole log"
	grep -q "@ demo_bad_verifier.bpf.c:26" "$tmp/a.err" || fail "a: the tail does not name the failing line"
	grep -q "outside of the allowed memory range" "$tmp/a.err" || fail "a: the tail lacks the verifier's reason"
	[ "$(wc -l < "$tmp/a.err")" -lt 40 ] || fail "a: the whole log without -v ($(wc -l < "$tmp/a.err") lines)"
	# The verifier's own words are there with -v.
	run_as a-verbose U -v rollout "$M/bad_verifier.yaml"
	[ "$RC" = 1 ] || fail "a (-v): exit $RC"
	grep -qiE "invalid access to memory|outside of the allowed memory range|mem_size" "$tmp/a-verbose.err" ||
		fail "a: -v shows no verifier log: $(tail -5 "$tmp/a-verbose.err")"
	check_alive
fi

if has_case b; then
	echo "== b: a program listed in the manifest is missing"
	sed "s|^object: .*|&\nprograms: [on_enter, nope]|" "$M/demo_v2.yaml" > "$M/missing_prog.yaml"
	refused b "$M/missing_prog.yaml"
	grep -q "'nope'" "$tmp/b.err" || fail "b: the message does not name the program"
	grep -q "demo_v2.bpf.o" "$tmp/b.err" || fail "b: the message does not name the object"
	check_alive
fi

if has_case c; then
	echo "== c: no space in a store for the new layout beside the old"
	start small -t 2 --reserve 4096 --monotonic
	small_tids=$(cut -d' ' -f3- "$tmp/small.out" | head -1)
	refused c "$M/demo_v2.yaml"
	grep -q "no space" "$tmp/c.err" || fail "c: not a no-space message"
	tid=$(grep -oE 'thread [0-9]+' "$tmp/c.err" | head -1 | cut -d' ' -f2)
	[ -n "$tid" ] || fail "c: the message names no thread"
	[[ " $small_tids " == *" $tid "* ]] || fail "c: thread $tid is not one of the small workload's ($small_tids)"
	echo "  names thread $tid of the small workload ($small_tids)"
	U rollout "$M/demo_v2.yaml" --dry-run > "$tmp/c-dry.out" 2>&1 && fail "c: a dry run does not see the missing space"
	stop_workload 1
	WL_PID=$MAIN_PID WL_REPORT=$MAIN_REPORT WL_NAME=main
fi

if has_case f; then
	echo "== f: threads that exit during the rollout are skipped"
	# A second workload whose 3 threads are planned in the preflight (paused
	# there), then killed: gone when their stores are migrated.
	gen=$(json "$tmp/deploy.json" 'j["generation"]')
	start brief -t 3 --monotonic
	BRIEF_PID=$WL_PID
	WL_PID=$MAIN_PID WL_REPORT=$MAIN_REPORT WL_NAME=main
	set +e
	UPTRKV_TEST_PAUSE_AT=preflight "$UPTRKV_BIN" --bpffs "$bpffs" rollout "$M/demo_v2.yaml" -j \
		> "$tmp/f.out" 2> "$tmp/f.err" &
	pid=$!
	set -e
	wait_line 20 "paused at preflight" "$tmp/f.err" "$pid" || fail "f: never paused at preflight: $(cat "$tmp/f.err")"
	kill -KILL "$BRIEF_PID"
	wait "$BRIEF_PID" 2>/dev/null || true
	set +e; wait "$pid"; RC=$?; set -e
	grep -qE 'Sanitizer|runtime error:' "$tmp/f.err" && { cat "$tmp/f.err"; fail "f: sanitizer report"; }
	[ "$RC" = 0 ] || fail "f: exit $RC: $(cat "$tmp/f.err") $(cat "$tmp/f.out")"
	gone=$(json "$tmp/f.out" 'j["threads_gone"]')
	[ "$(json "$tmp/f.out" 'type(j["threads_gone"]).__name__')" = int ] || fail "f: threads_gone is not a number"
	echo "  $(json "$tmp/f.out" '"stores=%s migrated=%s threads_gone=%s" % (j["stores"], j["migrated"], j["threads_gone"])')"
	[ "$gone" -ge 3 ] || fail "f: threads_gone $gone, want >= 3 (the killed workload's threads)"
	snap f.after
	check_live f.after 2 $((gen + 1))
	check_alive
fi

if has_case a || has_case b || has_case c || has_case f; then
	if has_case f; then stop_workload 1 2; else stop_workload 1; fi
	U undeploy demo > /dev/null
fi

# ---------------------------------------------------------------------
# kill_run POINT VERSION: a rollout to VERSION that kills itself at POINT,
# then status, then a plain re-run that must finish the job.
kill_run() {
	local p=$1 v=$2 old=$(($2 - 1)) gen name=kill-$1-v$2
	snap "$name.before"
	gen=$(json "$tmp/$name.before.st.json" 'j["deployments"][0]["generation"]')
	run_as "$name" env UPTRKV_TEST_KILL_AT="$p" "$UPTRKV_BIN" --bpffs "$bpffs" rollout "$M/demo_v$v.yaml" -j
	[ "$RC" = 137 ] || fail "$name: exit $RC, want 137 (killed): $(cat "$tmp/$name.err")"
	grep -q "killed at $p" "$tmp/$name.err" || fail "$name: not killed at $p"
	check_alive
	snap "$name.killed"
	local state ver g
	state=$(json "$tmp/$name.killed.st.json" 'j["deployments"][0]["state"]')
	ver=$(json "$tmp/$name.killed.st.json" 'j["deployments"][0]["version"]')
	g=$(json "$tmp/$name.killed.st.json" 'j["deployments"][0]["generation"]')
	case $p in
	preflight) [ "$state" = idle ] && [ "$ver" = $old ] && [ "$g" = "$gen" ] ;;
	migrate|switch) [ "$state" = "interrupted while migrating" ] && [ "$ver" = $old ] && [ "$g" = "$gen" ] ;;
	switched|reclaim) [ "$state" = "interrupted after the switch" ] && [ "$ver" = "$v" ] && [ "$g" = $((gen + 1)) ] ;;
	esac || fail "$name: after the kill: state '$state', version $ver, generation $g (was $gen)"
	run_as "$name.rerun" U rollout "$M/demo_v$v.yaml" -j
	[ "$RC" = 0 ] || fail "$name: the re-run exited $RC: $(cat "$tmp/$name.rerun.err")"
	local res rec
	res=$(json "$tmp/$name.rerun.out" 'j["result"]')
	rec=$(json "$tmp/$name.rerun.out" 'j["recovered"]')
	case $p in
	preflight) [ "$res" = upgraded ] && [ "$rec" = False ] ;;
	migrate|switch) [ "$res" = upgraded ] && [ "$rec" = True ] ;;
	switched|reclaim) [ "$res" = "nothing to do" ] && [ "$rec" = True ] ;;
	esac || fail "$name: re-run: result '$res', recovered $rec"
	case $p in
	preflight) how="nothing to undo, done by the re-run" ;;
	migrate|switch) how="undone, then redone by the re-run" ;;
	*) how="finished by the re-run" ;;
	esac
	echo "  killed at $p (v$old -> v$v): state '$state', version $ver; $how"
	snap "$name.after"
	check_live "$name.after" "$v" $((gen + 1))
	check_alive
}

if has_case d; then
	for p in $POINTS; do
		echo "== d: kill -9 at $p"
		U rollout "$M/demo_v1.yaml" > /dev/null
		start "kill-$p" -t 4 --monotonic --churn
		sleep 0.2
		kill_run "$p" 2
		sleep 0.2
		kill_run "$p" 3
		sleep 0.2
		stop_workload 1 2 3
		U undeploy demo > /dev/null
	done
fi

# ---------------------------------------------------------------------
# signal_run SIG POINT VERSION: a rollout to VERSION paused at POINT gets
# SIG while paused. Before the flip it must be undone (exit 1, old version,
# same generation); after the flip it must finish (exit 0).
signal_run() {
	local sig=$1 p=$2 v=$3 name=sig-$1-$2 gen pid
	snap "$name.before"
	gen=$(json "$tmp/$name.before.st.json" 'j["deployments"][0]["generation"]')
	set +e
	UPTRKV_TEST_PAUSE_AT=$p "$UPTRKV_BIN" --bpffs "$bpffs" rollout "$M/demo_v$v.yaml" \
		> "$tmp/$name.out" 2> "$tmp/$name.err" &
	pid=$!
	set -e
	wait_line 10 "paused at $p" "$tmp/$name.err" "$pid" || fail "$name: never paused at $p: $(cat "$tmp/$name.err")"
	kill -s "$sig" "$pid"
	set +e; wait "$pid"; RC=$?; set -e
	grep -qE 'Sanitizer|runtime error:' "$tmp/$name.err" && { cat "$tmp/$name.err"; fail "$name: sanitizer report"; }
	snap "$name.after"
	case $p in
	migrate|switch)
		[ "$RC" = 1 ] || fail "$name: SIG$sig before the switch: exit $RC, want 1 (undone): $(cat "$tmp/$name.err") $(cat "$tmp/$name.out")"
		grep -qi "interrupted" "$tmp/$name.err" || fail "$name: the message does not say it was interrupted: $(cat "$tmp/$name.err")"
		check_live "$name.after" $((v - 1)) "$gen"
		same_programs "$name.before" "$name.after"
		echo "  SIG$sig at $p: undone, exit 1: $(grep -i interrupted "$tmp/$name.err" | head -1)" ;;
	switched)
		[ "$RC" = 0 ] || fail "$name: SIG$sig after the switch: exit $RC, want 0 (finished): $(cat "$tmp/$name.err")"
		check_live "$name.after" "$v" $((gen + 1))
		echo "  SIG$sig at $p: finished, exit 0" ;;
	esac
	check_alive
}

if has_case e; then
	echo "== e: SIGTERM and SIGINT during the rollout"
	U rollout "$M/demo_v1.yaml" > /dev/null
	start signals -t 4 --monotonic --churn
	sleep 0.2
	for p in ${SIG_POINTS:-migrate switch}; do
		for sig in TERM INT; do signal_run $sig $p 2; done
	done
	signal_run TERM switched 2
	signal_run INT switched 3
	stop_workload 1 2 3
fi
if has_case g; then
	echo "== g: a step fails (injected) at each point"
	U undeploy demo > /dev/null 2>&1 || true
	U rollout "$M/demo_v1.yaml" > /dev/null
	# Not --monotonic: a failure after the switch runs v2 for the moment
	# before the roll-back, so v1 -> v2 -> v1 is right there. Every event
	# is still checked to be handled exactly once, every value kept.
	start failing -t 4 --churn
	sleep 0.2
	for p in preflight migrate switch; do
		snap "g-$p.before"
		run_as "g-$p" env UPTRKV_TEST_FAIL_AT=$p "$UPTRKV_BIN" --bpffs "$bpffs" rollout "$M/demo_v2.yaml"
		[ "$RC" = 1 ] || fail "g: fail at $p: exit $RC: $(cat "$tmp/g-$p.err")"
		grep -q "failure injected at $p; nothing was changed" "$tmp/g-$p.err" ||
			fail "g: fail at $p: $(cat "$tmp/g-$p.err")"
		echo "  fail at $p: $(tail -1 "$tmp/g-$p.err")"
		snap "g-$p.after"
		same_programs "g-$p.before" "g-$p.after" previous
		check_live "g-$p.after" 1 "$(json "$tmp/g-$p.before.st.json" 'j["deployments"][0]["generation"]')"
		check_alive
	done
	# After the switch: the old version must run again, the same programs.
	snap g-switched.before
	gen=$(json "$tmp/g-switched.before.st.json" 'j["deployments"][0]["generation"]')
	run_as g-switched env UPTRKV_TEST_FAIL_AT=switched "$UPTRKV_BIN" --bpffs "$bpffs" rollout "$M/demo_v2.yaml"
	[ "$RC" = 1 ] || fail "g: fail at switched: exit $RC: $(cat "$tmp/g-switched.err")"
	grep -q "failed after the switch and was rolled back" "$tmp/g-switched.err" ||
		fail "g: fail at switched: $(cat "$tmp/g-switched.err")"
	echo "  fail at switched: $(tail -1 "$tmp/g-switched.err")"
	snap g-switched.after
	python3 - "$tmp/g-switched.before.st.json" "$tmp/g-switched.after.st.json" <<'PY' || fail "g: not the old programs"
import json, sys
a = json.load(open(sys.argv[1]))["deployments"][0]
b = json.load(open(sys.argv[2]))["deployments"][0]
if [p["prog_id"] for p in a["programs"]] != [p["prog_id"] for p in b["programs"]] or a["version"] != b["version"]:
    sys.exit(f"  before {a['version']} {a['programs']}\n  after {b['version']} {b['programs']}")
PY
	check_live g-switched.after 1 $((gen + 2))
	check_alive
	# It can be rolled out again, and the run two back is reported if its slot is lost.
	run_as g-again U rollout "$M/demo_v2.yaml"
	[ "$RC" = 0 ] || fail "g: re-run after the roll-back: $(cat "$tmp/g-again.err")"
	run_as g-lost env UPTRKV_TEST_FAIL_AT=switch "$UPTRKV_BIN" --bpffs "$bpffs" rollout "$M/demo_v3.yaml"
	[ "$RC" = 1 ] || fail "g: v3 fail at switch: exit $RC"
	# Its slot is gone, but the history keeps it, and says how to get it back.
	grep -q "version 1, two back, is no longer in a slot but is kept in the history: 'uptrkv rollback demo --to-version 1'" "$tmp/g-lost.err" ||
		fail "g: the lost slot and the kept version are not reported: $(cat "$tmp/g-lost.err")"
	echo "  fail at switch with v1 two back: $(tail -1 "$tmp/g-lost.err")"
	stop_workload
fi
echo PASS
