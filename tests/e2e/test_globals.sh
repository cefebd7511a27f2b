#!/bin/bash
# Globals, config and shared maps carried over, end to end (root, real BPF,
# private bpffs; env.sh). Objects A, B and C (tests/bpf/test_glob_common.h) of one
# layout count the getppid calls of one process (config: target_tgid):
#  - a .bss counter (hits and widen_me) and a .data sum (1000 + 2 per call) keep counting through 12 rollouts and 2
#    rollbacks while a process calls getppid as fast as it can: each must
#    equal that process's own count exactly. A -> A shares the sections'
#    maps; A <-> B copies them before the switch and adds what the old
#    version counted after the copy; one rollout is killed (kill -9) just
#    after its switch, and the re-run does the catch-up from the pinned
#    snapshot;
#  - config: reaches .rodata (cfg_magic, echoed into .bss by the program);
#    an unknown name or a value that does not fit is an error with
#    file:line:col, and uptrkv's own names are refused by the parser;
#  - C narrows hits (refused without globals:, reset with it), widens
#    widen_me from u32 to u64 (value kept) and grows the
#    value of the shared map glob_m (refused naming both definitions
#    without maps:, copied with maps: {glob_m: copy}: entries kept,
#    zero-extended);
#  - diff (two objects, and deployed:NAME) and rollout --dry-run list
#    globals and maps in text and JSON.
set -euo pipefail
source "$(dirname "$0")/env.sh"
E=$BUILD/tests/e2e
G=$tmp/glob
mkdir -p "$G"


# mk VERSION OBJ TGID [EXTRA YAML]: a manifest of the glob layout.
MAGIC=0x5eed1234
mk() {
	sed -e "s|^version: .*|version: $1|" -e "s|^object: .*|object: $PWD/$BUILD/bpf/test_glob_$2.bpf.o|" \
		tests/e2e/manifests/glob.yaml > "$G/v$1.yaml"
	printf 'config:\n  target_tgid: %s\n  cfg_magic: %s\n  cfg_neg: -5\n  cfg_flag: true\n  cfg_tag: edge\n%s' \
		"$3" "$MAGIC" "${4:-}" >> "$G/v$1.yaml"
}
# mkc VALUE-LINE: a first deploy's manifest whose config: ends with VALUE-LINE.
mkc() {
	sed -e "s|^object: .*|object: $PWD/$BUILD/bpf/test_glob_a.bpf.o|" tests/e2e/manifests/glob.yaml > "$G/c.yaml"
	printf 'config:\n  cfg_magic: 1\n  %s\n' "$1" >> "$G/c.yaml"
}

# live_vars: the live version's .bss and .data as one JSON object {name: value}.
live_vars() {
	local slot ids
	slot=$(U status glob -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployments"][0]["slot"])')
	ids=$(bpftool prog show pinned "$bpffs/uptrkv/glob/slot-$slot/on_enter" -j |
		python3 -c 'import json,sys; print(" ".join(map(str, json.load(sys.stdin)["map_ids"])))')
	for id in $ids; do bpftool map dump id "$id" -j; echo; done | python3 -c '
import json, sys
out = {}
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    for e in json.loads(line):
        v = e.get("formatted", {}).get("value", {})
        for sec in (".bss", ".data", ".rodata"):
            for d in v.get(sec, []) if isinstance(v, dict) else []:
                out.update({sec + ":" + k: x for k, x in d.items()})
print(json.dumps(out))'
}

# glob_m KEY: the shared map's entry as JSON (null if none).
glob_m() {
	bpftool map lookup pinned "$bpffs/uptrkv/glob/maps/glob_m" key $1 0 0 0 -j 2>/dev/null |
		python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["formatted"]["value"]))' || echo null
}

# The load: waits for $G/go, calls getppid until $G/stop, prints its count.
start_load() {
	rm -f "$G/go" "$G/stop"
	"$E/glob_load" "$G/go" "$G/stop" > "$G/count" &
	LOAD=$!
	WORKLOAD_PIDS+=("$LOAD")
}
stop_load() {
	touch "$G/stop"
	wait "$LOAD"
	COUNT=$(cat "$G/count")
}

echo "== config: errors with file:line:col, before anything is deployed"
start_load
mk 1 a "$LOAD" '  no_such_var: 1
'
expect 1 "v1.yaml:16:16: config.no_such_var: .* has no 'const volatile' variable no_such_var" U rollout "$G/v1.yaml"
mk 1 a 4294967296
expect 1 "v1.yaml:11:16: config.target_tgid: expected an integer 0..4294967295 for a 4-byte unsigned integer, got 4294967296" U rollout "$G/v1.yaml"
mk 1 a "$LOAD" '  uptrkv_slot: 1
'
expect 2 "v1.yaml:16:3: config.uptrkv_slot: names starting with uptrkv_ are set by uptrkv" U validate "$G/v1.yaml"
mkc 'cfg_neg: -2147483649'
expect 1 "c.yaml:12:12: config.cfg_neg: expected an integer -2147483648..2147483647 for a 4-byte signed integer" U rollout "$G/c.yaml" --dry-run
mkc 'target_tgid: -1'
expect 1 "c.yaml:12:16: config.target_tgid: expected an integer 0..4294967295" U rollout "$G/c.yaml" --dry-run
mkc 'target_tgid: "12"'
expect 1 "c.yaml:12:16: config.target_tgid: expected an integer, got text \"12\"" U rollout "$G/c.yaml" --dry-run
mkc 'cfg_flag: yes'
expect 1 "c.yaml:12:13: config.cfg_flag: expected true or false, got yes" U rollout "$G/c.yaml" --dry-run
mkc 'cfg_tag: abcdefgh'
expect 1 "c.yaml:12:12: config.cfg_tag: expected a string of at most 7 characters, got 8" U rollout "$G/c.yaml" --dry-run
mkc 'cfg_echo: 1'
expect 1 "c.yaml:12:13: config.cfg_echo: .* has no 'const volatile' variable cfg_echo in .rodata" U rollout "$G/c.yaml" --dry-run
mkc 'cfg_tag: 0x41'
U rollout "$G/c.yaml" --dry-run > /dev/null || fail "cfg_tag: 0x41 (text) refused"
[ ! -e "$bpffs/uptrkv" ] || fail "a refused first deploy left $(find "$bpffs/uptrkv")"

echo "== a .bss counter, a widened one and a .data sum through 12 rollouts and 2 rollbacks under load"
mk 1 a "$LOAD"
U rollout "$G/v1.yaml" > /dev/null
touch "$G/go"
objs=(a a b a a b b a b a b a b)	# objs[v-1]: A -> A shares, A <-> B copies
shared=0 copied=0
for v in $(seq 2 13); do
	sleep 0.05
	mk "$v" "${objs[$((v - 1))]}" "$LOAD"
	if [ "$v" = 9 ]; then
		# Paused 2 s between the copy and the switch (the old version keeps
		# counting), then killed just after the switch, before the
		# catch-up: the next command does it from the pinned snapshot.
		UPTRKV_TEST_PAUSE_AT=switch UPTRKV_TEST_KILL_AT=switched U rollout "$G/v$v.yaml" > /dev/null 2>&1 &&
			fail "v$v: not killed"
		[ -e "$bpffs/uptrkv/glob/carry" ] || fail "v$v: no pinned snapshot after the kill"
		U rollout "$G/v$v.yaml" -j > "$G/rk.json" || fail "re-run v$v: $(cat "$G/rk.json")"
		json "$G/rk.json" '"  v9 killed after the switch; the re-run recovered=%s, %s, %d global(s) caught up" % (j["recovered"], j["result"], j["globals_caught_up"])'
		[ "$(json "$G/rk.json" 'j["recovered"] and j["globals_caught_up"] > 0')" = True ] ||
			fail "v$v: not recovered, or nothing caught up"
		[ ! -e "$bpffs/uptrkv/glob/carry" ] || fail "v$v: snapshot left after the recovery"
		cp "$G/rk.json" "$G/r$v.json"
		copied=$((copied + 1))
		continue
	fi
	U rollout "$G/v$v.yaml" -j > "$G/r$v.json" || fail "rollout v$v: $(cat "$G/r$v.json")"
	read -r sh cp <<< "$(json "$G/r$v.json" '"%d %d" % (j["plan"]["sections_shared"][".bss"], j["globals_copied"])')"
	shared=$((shared + sh)); [ "$sh" = 1 ] || copied=$((copied + 1))
	if [ "$v" = 6 ] || [ "$v" = 11 ]; then
		# Back to the other slot's pinned programs, whose maps are stale,
		# then on past it again with a higher version.
		sleep 0.05
		U rollback glob > /dev/null
	fi
done
sleep 0.05
stop_load
vars=$(live_vars)
python3 - "$vars" "$COUNT" "$MAGIC" <<'PY' || fail "globals lost increments: $vars, count $COUNT"
import json, sys
v, n, magic = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3], 0)
print(f"  getppid calls made: {n}; .bss hits {v['.bss:hits']}, .bss widen_me {v['.bss:widen_me']}, "
      f".data data_sum {v['.data:data_sum']} (want {1000 + 2 * n}), cfg_echo {v['.bss:cfg_echo']:#x}")
assert n > 10000, n
assert v[".bss:hits"] == n and v[".bss:widen_me"] == n, v
assert v[".data:data_sum"] == 1000 + 2 * n, v
assert v[".bss:cfg_echo"] == magic and v[".rodata:cfg_magic"] == magic, v
assert v[".rodata:cfg_neg"] == -5 and v[".rodata:cfg_flag"] is True, v
assert v[".bss:cfg_echo_all"] == -5 + 1 + ord("e"), v
PY
echo "  rollouts that shared .bss: $shared, that copied it: $copied"
[ "$shared" -ge 2 ] && [ "$copied" -ge 5 ] || fail "want both paths: shared $shared, copied $copied"
[ "$(glob_m 1)" = "{\"a\": $COUNT}" ] || fail "glob_m[1]: $(glob_m 1), want a = $COUNT"

echo "== diff and --dry-run list globals and maps"
mk 14 c "$LOAD"
U diff "$G/v13.yaml" "$G/v14.yaml" > "$G/diff.txt" 2>&1 && rc=0 || rc=$?
cat "$G/diff.txt" | sed 's/^/  | /'
[ "$rc" = 3 ] || fail "diff exit $rc, want 3 (cannot be rolled out as written)"
grep -q "^global .bss hits  retyped  unsigned long long -> unsigned int  REFUSED: global hits" "$G/diff.txt" ||
	fail "diff text: no refused hits"
grep -q "^map glob_m  changed  REFUSED: map glob_m changes: deployed: hash key 4 value 8 max_entries 64 flags 0x0; new: hash key 4 value 16" "$G/diff.txt" ||
	fail "diff text: no refused glob_m"
U diff "deployed:glob" "$G/v14.yaml" -j > "$G/diff.json" || true
python3 - "$G/diff.json" <<'PY' || fail "diff JSON: $(cat "$G/diff.json")"
import json, sys
j = json.load(open(sys.argv[1]))
g = {x["name"]: x for x in j["globals"]}
assert g["hits"]["change"] == "retyped" and g["hits"]["refused"], g["hits"]
assert g["hits"]["old"]["size"] == 8 and g["hits"]["new"]["size"] == 4, g["hits"]
assert g["widen_me"]["change"] == "retyped" and not g["widen_me"]["refused"], g["widen_me"]
assert g["data_sum"]["change"] == "unchanged" and g["data_sum"]["section"] == ".data", g
assert g["extra_b"]["change"] == "removed", g["extra_b"]
m = {x["name"]: x for x in j["maps"]}
assert m["glob_m"]["change"] == "changed" and m["glob_m"]["refused"], m
assert m["glob_m"]["old"]["value_size"] == 8 and m["glob_m"]["new"]["value_size"] == 16, m
assert j["compatible"] is False
print("  diff deployed:glob -j: hits retyped (refused), glob_m changed (refused), extra_b removed")
PY
mk 14 c "$LOAD" 'globals: {hits: reset}
maps: {glob_m: copy}
'
U rollout "$G/v14.yaml" --dry-run -j > "$G/dry.json" || fail "dry run: $(cat "$G/dry.json")"
python3 - "$G/dry.json" <<'PY' || fail "dry run JSON: $(cat "$G/dry.json")"
import json, sys
p = json.load(open(sys.argv[1]))["plan"]
g = {x["name"]: x for x in p["globals"]}
assert g["hits"]["action"] == "init" and not g["hits"]["refused"], g["hits"]
m = {x["name"]: x for x in p["maps"]}
assert m["glob_m"]["action"] == "copy", m
print("  --dry-run -j: hits init (reset), glob_m copy")
PY
U rollout "$G/v14.yaml" --dry-run | grep -q "^map glob_m  changed  copy" || fail "dry run text"

echo "== a narrowed global and a grown shared map: refused, then reset and copied"
bpftool map update pinned "$bpffs/uptrkv/glob/maps/glob_m" key 7 0 0 0 value 0x2a 0 0 0 0 0 0 0
mk 14 c "$LOAD"
expect 1 "global hits \(.bss\) changes from unsigned long long \(8 bytes\) to unsigned int \(4 bytes\).*globals: \{hits: reset\}" \
	U rollout "$G/v14.yaml"
mk 14 c "$LOAD" 'globals: {hits: reset}
'
expect 1 "map glob_m changes: deployed: hash key 4 value 8 max_entries 64 flags 0x0; new: hash key 4 value 16 max_entries 64 flags 0x0; add maps: \{glob_m: reset\} or \{glob_m: copy\}" \
	U rollout "$G/v14.yaml"
[ "$(U status glob -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployments"][0]["version"])')" = 13 ] ||
	fail "a refused rollout changed the version"
mk 14 c "$LOAD" 'globals: {hits: reset}
maps: {glob_m: copy}
'
U rollout "$G/v14.yaml" -j > "$G/r14.json" || fail "rollout v14: $(cat "$G/r14.json")"
json "$G/r14.json" '"  v14: %d map entries copied" % j["map_entries_copied"]'
[ "$(glob_m 1)" = "{\"a\": $COUNT, \"b\": 0}" ] || fail "glob_m[1] after the copy: $(glob_m 1)"
[ "$(glob_m 7)" = '{"a": 42, "b": 0}' ] || fail "glob_m[7] after the copy: $(glob_m 7)"
vars=$(live_vars)
[ "$(python3 -c "import json,sys; v=json.loads(sys.argv[1]); print(v['.bss:hits'], v['.bss:widen_me'])" "$vars")" = "0 $COUNT" ] ||
	fail "after v14: hits must be reset to 0 and widen_me kept at $COUNT: $vars"
echo "== a rollback to v13 returns its programs' own glob_m to the pin"
U rollback glob > /dev/null
vb=$(bpftool map show pinned "$bpffs/uptrkv/glob/maps/glob_m" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_value"])')
[ "$vb" = 8 ] || fail "after the rollback maps/glob_m has $vb-byte values, want v13's 8"
[ "$(glob_m 1)" = "{\"a\": $COUNT}" ] || fail "glob_m[1] after the rollback: $(glob_m 1)"
echo "  maps/glob_m: 8-byte values again, glob_m[1] = $(glob_m 1)"

# A new process to count: v15 is object C again (its sections are shared),
# configured for it; hits, reset to 0 by v14, counts its calls only.
start_load
mk 15 c "$LOAD" 'globals: {hits: reset}
maps: {glob_m: copy}
'
U rollout "$G/v15.yaml" -j > "$G/r15.json" || fail "rollout v15: $(cat "$G/r15.json")"
[ "$(json "$G/r15.json" 'j["plan"]["sections_shared"][".bss"]')" = False ] ||
	fail "v15: hits: reset must copy nothing, so .bss is not shared"
[ "$(glob_m 7)" = '{"a": 42, "b": 0}' ] || fail "glob_m[7] after the second copy: $(glob_m 7)"
touch "$G/go"
sleep 0.3
stop_load
vars=$(live_vars)
python3 - "$vars" "$COUNT" <<'PY' || fail "after the reset: $vars, count $COUNT"
import json, sys
v, n = json.loads(sys.argv[1]), int(sys.argv[2])
print(f"  v15: hits {v['.bss:hits']} (reset by v14, v15 resets it again), calls {n}")
assert v[".bss:hits"] == n, v
PY
echo "PASS"
