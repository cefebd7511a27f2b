#!/bin/bash
# Registration holds no file descriptor per thread (root, real BPF, private
# bpffs; env.sh). tests/e2e/many_app.c registers MANY_THREADS threads (3000)
# in one process under `ulimit -n MANY_NOFILE` (256): each of them must
# register, and they must all keep working through a rollout that adds a
# key and a rollback that removes it, with threads registering after each
# getting that layout from the deployment's key record.
# `make soak` runs it with 100000 threads under `ulimit -n 1024`, capped by
# what kernel.pid_max, threads-max and vm.max_map_count leave (it says so).
set -euo pipefail
source "$(dirname "$0")/env.sh"
N=${MANY_THREADS:-3000}
NOFILE=${MANY_NOFILE:-256}
# MANY_RAISE_LIMITS=1 (make soak): raise kernel.pid_max, threads-max and
# vm.max_map_count as far as N needs, for this test only (put back at exit).
raise() {	# SYSCTL MIN
	local f=/proc/sys/${1//.//} old
	old=$(cat "$f")
	[ "$old" -ge "$2" ] && return 0
	at_exit sh -c "echo $old > $f"
	echo "$2" > "$f" && echo "note: $1 raised from $old to $2 for this test"
}
if [ "${MANY_RAISE_LIMITS:-0}" = 1 ]; then
	raise kernel.pid_max $(( N + 50000 > 4194304 ? 4194304 : N + 50000 ))
	raise kernel.threads-max $(( N + 20000 ))
	raise vm.max_map_count $(( N * 10 + 100000 ))
fi
# ASan maps more per thread than the three areas counted below.
maps_per_thread=3
nm "$BUILD/tests/e2e/many_app" 2>/dev/null | grep -q __asan_init && maps_per_thread=8
# Every thread needs a pid: leave room for the rest of the machine.
free_pids=$(( $(cat /proc/sys/kernel/pid_max) - $(ls /proc | grep -c '^[0-9]') * 4 - 2000 ))
free_threads=$(( $(cat /proc/sys/kernel/threads-max) - 2000 ))
# Each thread maps about 3 areas (stack and guard, its store's pages).
free_maps=$(( $(cat /proc/sys/vm/max_map_count) / maps_per_thread - 1000 ))
for cap in $free_pids $free_threads $free_maps; do
	if [ "$N" -gt "$cap" ]; then
		echo "note: $N threads asked, $cap fit this machine (kernel.pid_max, threads-max, vm.max_map_count): using $cap"
		N=$cap
	fi
done
D=$tmp/many
mkdir -p "$D"
obj=$PWD/$BUILD/bpf/bench_rollout.bpf.o
for v in 1 2; do
	{
		printf 'apiVersion: uptrkv/v1\nname: many\nversion: %s\nobject: %s\nkeys:\n' "$v" "$obj"
		echo "  - {id: 0, name: mine, size: 8, type: u64}"
		[ "$v" = 2 ] && echo "  - {id: 1, name: added, size: 8, type: u64, default: 42}"
	} > "$D/v$v.yaml"
done
U rollout "$D/v1.yaml" --allow-unbound-object > /dev/null

echo "== $N threads register under ulimit -n $NOFILE"
touch "$D/cmd"	# the app follows it: one command a line
(ulimit -n "$NOFILE"; exec "$BUILD/tests/e2e/many_app" "$bpffs" many "$N" "$D/cmd" > "$D/out" 2> "$D/err") &
APP=$!
WORKLOAD_PIDS+=("$APP")
# app_line PATTERN: the app's next line matching PATTERN (it prints one per command).
app_line() {
	for _ in $(seq 1 6000); do
		grep -qE "$1" "$D/out" 2>/dev/null && { grep -E "$1" "$D/out" | tail -1; return 0; }
		kill -0 "$APP" 2>/dev/null || { cat "$D/err"; fail "many_app died"; }
		sleep 0.1
	done
	fail "many_app: no line matching '$1'"
}
read -r _ created nfailed err < <(app_line '^ready ')
echo "  $created threads, $nfailed failed to register${err:+: $err}"
[ "$created" = "$N" ] || fail "only $created of $N threads created: $(cat "$D/err")"
[ "$nfailed" = 0 ] || fail "$nfailed of $N threads failed to register: $err"
fds=$(ls "/proc/$APP/fd" | wc -l)
echo "  the app holds $fds open files for $N registered threads"
[ "$fds" -lt 64 ] || fail "the app holds $fds open files"

round=0
check() {	# VERSION: every thread and 4 new ones check that layout
	round=$((round + 1))
	echo "check $1" >> "$D/cmd"
	read -r _ _ v nok nbad err < <(app_line "^checked $round $1 ")
	echo "  checked v$v: $nok good, $nbad bad${err:+ ($err)}"
	[ "$nbad" = 0 ] && [ "$nok" = $((N + 4)) ] || fail "check v$1: $nok good, $nbad bad: $err"
}
check 1
echo "== rollout v2 (adds key 1, default 42) with $N live threads"
U rollout "$D/v2.yaml" --allow-unbound-object -j > "$D/r2.json" || fail "rollout: $(cat "$D/r2.json")"
migrated=$(json "$D/r2.json" 'j["migrated"]')
echo "  $migrated stores migrated"
[ "$migrated" -ge "$N" ] || fail "$migrated stores migrated, want $N"
check 2
echo "== rollback to v1"
U rollback many --allow-unbound-object -j > "$D/rb.json" || fail "rollback: $(cat "$D/rb.json")"
check 1
echo "quit" >> "$D/cmd"
echo "  $(app_line '^bye')"
wait "$APP" || fail "many_app exited with $?: $(cat "$D/err")"
! grep -qE 'Sanitizer|runtime error:' "$D/err" || { cat "$D/err"; fail "sanitizer report"; }

echo "== a deployment without a key record (made by an older uptrkv)"
# few VERSION: runs many_app with 2 threads through "check VERSION", "quit".
few() {
	printf 'check %s\nquit\n' "$1" > "$D/cmd2"
	"$BUILD/tests/e2e/many_app" "$bpffs" many 2 "$D/cmd2" > "$D/out2" 2> "$D/err2" || true
	! grep -qE 'Sanitizer|runtime error:' "$D/err2" || { cat "$D/err2"; fail "sanitizer report"; }
}
rm "$bpffs/uptrkv/many/keys"
few 1
grep -q '^ready 2 2 register: .*no key record.*roll it out again' "$D/out2" ||
	fail "registering without a record: $(cat "$D/out2" "$D/err2")"
echo "  $(head -1 "$D/out2" | cut -d' ' -f4- | cut -c1-160)"
# The live version rolled out again: nothing to do, but its record is written.
U rollout "$D/v1.yaml" --allow-unbound-object -j > "$D/again.json"
[ "$(json "$D/again.json" 'j["result"]')" = "nothing to do" ] || fail "rollout v1 again: $(cat "$D/again.json")"
few 1
grep -q '^checked 1 1 6 0 ' "$D/out2" || fail "after rolling v1 out again: $(cat "$D/out2" "$D/err2")"
echo "  rolling the live version out again (nothing to do) wrote it: 6 threads checked v1"
rm "$bpffs/uptrkv/many/keys"
U rollout "$D/v2.yaml" --allow-unbound-object > /dev/null
few 2
grep -q '^checked 1 2 6 0 ' "$D/out2" || fail "after the next rollout: $(cat "$D/out2" "$D/err2")"
echo "  the next rollout wrote it: 2 threads and 4 new ones registered and checked v2"
echo "PASS"
