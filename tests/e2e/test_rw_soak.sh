#!/bin/bash
# Read your writes through rollouts, rollbacks and kill -9 (docs/design.md,
# "Moving a resized value"). RW_THREADS (8) app threads, plus threads that
# come and go, each write and read back their own keys without pause while
# RW_SWITCHES (30; `make soak`: 120) switches run back to back between three
# layouts that add, remove, grow, shrink and widen keys: rollouts, and a
# rollback every fourth switch. RW_KILLS (8; `make soak`: 24) of the
# switches are killed with SIGKILL, at a named step or at a random moment,
# and run again. The BPF programs count each thread's events in an unchanged
# key and in a widened one. The app reports stale reads, lost writes, lost
# events and errors; BPF reports failed gets and puts. All must be 0.
# The threads have three layouts (rw_app.c: an app-own key, more pages),
# so every rollout migrates stores of distinct layouts at once.
set -euo pipefail
source "$(dirname "$0")/env.sh"
SWITCHES=${RW_SWITCHES:-30}
KILLS=${RW_KILLS:-8}
THREADS=${RW_THREADS:-8}
[ -x "$BUILD/tests/e2e/rw_app" ] || fail "missing $BUILD/tests/e2e/rw_app"

# Version v has layout 0 (v = 1), then 1 and 2 by turns.
layout_of() { if [ "$1" = 1 ]; then echo 0; elif [ $(($1 % 2)) = 0 ]; then echo 1; else echo 2; fi; }
manifest() {	# VERSION: writes $tmp/rw_vVERSION.yaml, prints its path
	local l; l=$(layout_of "$1")
	sed -e "s|^version: .*|version: $1|" -e "s|^object: .*|object: $PWD/$BUILD/bpf/test_rw_l$l.bpf.o|" \
	    tests/e2e/manifests/rw_l$l.yaml > "$tmp/rw_v$1.yaml"
	echo "$tmp/rw_v$1.yaml"
}

U rollout "$(manifest 1)" > /dev/null
"$BUILD/tests/e2e/rw_app" "$bpffs" rw "$THREADS" "$tmp/rw.report" > "$tmp/rw.out" 2> "$tmp/rw.err" &
APP=$!
WORKLOAD_PIDS+=("$APP")
wait_line 5 '^ready' "$tmp/rw.out" "$APP" || { cat "$tmp/rw.err"; fail "rw_app never got ready"; }

points=(migrate switch switched move reclaim)
version=1 kills=0 recovered=0 rollbacks=0
last_ms=50	# how long the last switch took: random kills land within it
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# switch_once ARGS...: one switch, to be killed when $kill_at is set ("random": at a
# random moment; else at that step); then the same command again, which
# finishes or undoes the killed one first.
switch_once() {
	local rc=0 t0 d
	if [ -z "${kill_at:-}" ]; then
		t0=$(now_ms)
		U "$@" -j > "$tmp/sw.json" 2> "$tmp/sw.err" || rc=$?
		last_ms=$(( $(now_ms) - t0 ))
	elif [ "$kill_at" = random ]; then
		# 10-90% into a switch as long as the last one: a fixed window
		# would miss every switch quicker than it
		d=$(( last_ms * (10 + RANDOM % 80) / 100 ))
		U "$@" > /dev/null 2>&1 & local p=$!
		sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
		kill -KILL "$p" 2>/dev/null && kills=$((kills + 1))
		wait "$p" 2>/dev/null || true
		U "$@" -j > "$tmp/sw.json" 2> "$tmp/sw.err" || rc=$?
	else
		UPTRKV_TEST_KILL_AT=$kill_at U "$@" > /dev/null 2>&1 && fail "not killed at $kill_at"
		kills=$((kills + 1))
		U "$@" -j > "$tmp/sw.json" 2> "$tmp/sw.err" || rc=$?
	fi
	grep -qE 'Sanitizer|runtime error:' "$tmp/sw.err" && { cat "$tmp/sw.err"; fail "sanitizer report"; }
	[ $rc = 0 ] || fail "$* (kill: ${kill_at:-none}): exit $rc: $(cat "$tmp/sw.err") $(cat "$tmp/sw.json")"
	json "$tmp/sw.json" 'j.get("recovered", False)' | grep -q True && recovered=$((recovered + 1))
	kill -0 "$APP" 2>/dev/null || { cat "$tmp/rw.err"; fail "rw_app died"; }
	return 0
}

# The kills are spread over the switches with room at the end: a random
# kill that came too late (the switch had ended) is tried again at the next.
kill_every=$(( SWITCHES / (KILLS + 1) ))
[ "$kill_every" -ge 1 ] || kill_every=1
next_kill=$kill_every
for i in $(seq 1 "$SWITCHES"); do
	kill_at=
	if [ "$kills" -lt "$KILLS" ] && [ "$i" -ge "$next_kill" ]; then
		n=$((kills + 1))
		if [ $((n % 3)) = 2 ]; then kill_at=random; else kill_at=${points[$((n % ${#points[@]}))]}; fi
	fi
	before=$kills
	# rollbacks between layouts 1 and 2 only: back to layout 0 would narrow
	if [ $((i % 4)) = 0 ] && [ "$version" -ge 3 ]; then
		switch_once rollback rw
		rollbacks=$((rollbacks + 1))
	else
		version=$((version + 1))
		switch_once rollout "$(manifest "$version")"
	fi
	if [ -n "$kill_at" ]; then
		if [ "$kills" -gt "$before" ]; then next_kill=$((i + kill_every)); else next_kill=$((i + 1)); fi
	fi
	[ $((i % 10)) = 0 ] && echo "  $i switches, $kills killed"
done
sleep 0.5
kill -TERM "$APP"
wait "$APP" || fail "rw_app exit $?: $(cat "$tmp/rw.err")"

U status rw -j > "$tmp/st.json"
json "$tmp/st.json" 'j["deployments"][0]["state"]' | grep -qx idle || fail "not idle: $(cat "$tmp/st.json")"
# What BPF saw: events per layout, failed gets/puts/pointers (rw_stats).
stats=$(bpftool -j map dump pinned "$bpffs/uptrkv/rw/maps/rw_stats")
read -r ev0 ev1 ev2 gfail pfail xfail <<< "$(python3 -c '
import json, sys
v = {e["formatted"]["key"]: e["formatted"]["value"] for e in json.loads(sys.argv[1])}
print(*(v.get(k, 0) for k in (0, 1, 2, 4, 5, 6)))' "$stats")"
r=$tmp/rw.report
echo "rw soak: $SWITCHES switches ($rollbacks rollbacks), $kills killed with SIGKILL and run again ($recovered recoveries)"
echo "rw soak: $(json "$r" 'j["threads"]') threads + $(json "$r" 'j["churned"]') short-lived, $(json "$r" 'j["rounds"]') rounds, $(json "$r" 'j["checks"]') reads checked"
echo "rw soak: threads by layout (plain / own key 900 / three pages): $(json "$r" '" / ".join(map(str, j["variants"]))')"
echo "rw soak: BPF events by layout: $ev0 / $ev1 / $ev2; failed gets $gfail, puts $pfail, pointers $xfail"
echo "rw soak: stale reads $(json "$r" 'j["stale"]'), lost writes $(json "$r" 'j["lost_writes"]'), lost events $(json "$r" 'j["lost_events"]'), errors $(json "$r" 'j["errors"]')"
json "$r" 'j["stale"] + j["lost_writes"] + j["lost_events"] + j["errors"]' | grep -qx 0 ||
	fail "app: $(json "$r" 'j["first"]')"
[ "$((gfail + pfail + xfail))" = 0 ] || fail "BPF: $gfail gets, $pfail puts, $xfail pointers failed"
[ "$(json "$r" 'j["checks"]')" -gt 1000 ] || fail "too few checks: $(cat "$r")"
json "$r" 'min(j["variants"]) > 0' | grep -qx True || fail "a thread layout never ran: $(cat "$r")"
[ "$kills" -ge "$KILLS" ] || fail "only $kills of $KILLS kills happened"
[ "$ev1" -gt 0 ] && [ "$ev2" -gt 0 ] || fail "a layout handled no event"
echo PASS
