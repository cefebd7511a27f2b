#!/bin/bash
# uptrkv validate and uptrkv diff from the command line: output formats,
# JSON documents, exit codes, and a few hundred mutated manifests.
# Needs no kernel access but for deployed:NAME, checked only as root.
set -uo pipefail
needs_root=0	# a live deployment only when root
source "$(dirname "$0")/env.sh"
M=examples/demo U=tests/unit/manifests	# M: the demo's own manifests

# ---- validate -----------------------------------------------------------
run "$UPTRKV" validate $M/demo_v1.yaml $M/demo_v2.yaml $M/demo_v3.yaml
expect_rc 0 "validate demo manifests"
diff -u - "$tmp/out" <<EOF && ok "validate: one line per file" || bad "validate text output"
$M/demo_v1.yaml: valid (demo v1, 8 keys, 128 bytes per task)
$M/demo_v2.yaml: valid (demo v2, 9 keys, 4208 bytes per task)
$M/demo_v3.yaml: valid (demo v3, 10 keys, 4312 bytes per task)
EOF
[ -s "$tmp/err" ] && bad "validate: stderr not empty" || ok "validate: quiet stderr"

run "$UPTRKV" validate $U/bad_many.yaml
expect_rc 2 "validate bad_many"
diff -u - "$tmp/err" <<EOF && ok "validate: every error as file:line:col" || bad "validate error lines"
$U/bad_many.yaml:4:10: version: expected an integer 1..4294967295, got 0
$U/bad_many.yaml:7:10: id: expected an integer 0..1023, got 2000
$U/bad_many.yaml:8:28: size: expected an integer 1..4096, got 9000
$U/bad_many.yaml:9:28: size: expected 4 for type u32, got 8
$U/bad_many.yaml:10:31: key: unknown field 'colour': expected one of id, name, size, type, default, resize
EOF
[ -s "$tmp/out" ] && bad "validate: invalid file printed on stdout" || ok "validate: nothing on stdout"

# every bad fixture: exit 2 and only well-formed error lines
nbad=0
for f in $U/bad_*.yaml; do
	run "$UPTRKV" validate "$f"
	nbad=$((nbad + 1))
	if [ $rc != 2 ] || [ ! -s "$tmp/err" ] || grep -qvE "^$f(:[0-9]+:[0-9]+)?: .+" "$tmp/err"; then
		bad "validate $f: exit $rc"; sed 's/^/    err: /' "$tmp/err"
	fi
done
ok "validate: $nbad bad fixtures give exit 2 and file:line:col lines"

run "$UPTRKV" validate $M/demo_v1.yaml /nonexistent.yaml
expect_rc 2 "validate: an unreadable file among good ones"
grep -q "^$M/demo_v1.yaml: valid" "$tmp/out" && ok "validate: good file still reported" || bad "validate: good file missing"
grep -qx "/nonexistent.yaml: cannot read: No such file or directory" "$tmp/err" &&
	ok "validate: unreadable file named" || bad "validate: unreadable message: $(cat "$tmp/err")"

run "$UPTRKV" validate
expect_rc 2 "validate without a manifest"
grep -q "no manifest given" "$tmp/err" && ok "validate: usage message" || bad "validate: usage message"
run "$UPTRKV" validate --help
expect_rc 0 "validate --help"
grep -q "Example" "$tmp/out" && ok "validate --help shows an example" || bad "validate --help example"

run "$UPTRKV" validate --json $M/demo_v2.yaml $U/bad_many.yaml
expect_rc 2 "validate --json with a bad file"
json_true 'len(j["manifests"]) == 2' "validate json: two manifests"
json_true 'j["manifests"][0]["path"] == "examples/demo/demo_v2.yaml" and j["manifests"][0]["valid"] == True and j["manifests"][0]["errors"] == [] and j["manifests"][0]["keys"] == 9 and j["manifests"][0]["bytes"] == 4208' \
	"validate json: the valid one"
json_true 'j["manifests"][1]["valid"] == False and len(j["manifests"][1]["errors"]) == 5' "validate json: five errors"
json_true 'j["manifests"][1]["errors"][0] == {"line":4,"col":10,"message":"version: expected an integer 1..4294967295, got 0"}' \
	"validate json: error object"
json_true 'j["valid"] == False' "validate json: overall valid"
[ -s "$tmp/err" ] && bad "validate json: stderr not empty" || ok "validate json: nothing on stderr"
run "$UPTRKV" validate -p $M/demo_v1.yaml
expect_rc 0 "validate --pretty"
[ "$(wc -l <"$tmp/out")" -gt 5 ] && json_true 'j["valid"]' "validate --pretty: indented JSON" || bad "validate -p not pretty"

# ---- diff ---------------------------------------------------------------
run "$UPTRKV" diff --json $M/demo_v1.yaml $M/demo_v2.yaml
expect_rc 1 "diff v1 v2"
json_true 'j["old_version"] == 1 and j["new_version"] == 2 and j["compatible"] == True and j["bytes_before"] == 128 and j["bytes_after"] == 4208' \
	"diff v1 v2: versions, compatible, bytes"
json_true '[[c.get(k) for k in ("id", "name", "change", "old_size", "new_size")] for c in j["changes"]] == [
	[1, "syscalls", "renamed", 8, 8],
	[3, "comm", "resized", 16, 32],
	[4, "flags", "retyped", 2, 4],
	[5, "legacy_counter", "removed", 4, None],
	[6, "blob", "resized", 64, 4096],
	[7, "tx_bytes", "added", None, 8],
	[8, "label", "added", None, 32]]' "diff v1 v2: changes"
json_true 'j["changes"][0]["old_name"] == "events" and j["changes"][0]["renamed"] and j["changes"][2]["action"] == "init" and j["changes"][2]["old_type"] == "u16" and j["changes"][2]["new_type"] == "u32"' \
	"diff v1 v2: extra fields"
json_true 'all(c["refused"] == False for c in j["changes"])' "diff v1 v2: nothing refused"
json_true 'j["version_increases"] == True and j["unchanged"] == 3' "diff v1 v2: version_increases, unchanged"

run "$UPTRKV" diff $M/demo_v2.yaml $M/demo_v3.yaml --json
expect_rc 1 "diff v2 v3 (--json after the operands)"
json_true 'j["old_version"] == 2 and j["new_version"] == 3 and j["compatible"] and j["bytes_before"] == 4208 and j["bytes_after"] == 4312' \
	"diff v2 v3: header"
json_true '[[c.get(k) for k in ("id", "name", "change", "old_size", "new_size")] for c in j["changes"]] == [
	[6, "blob", "resized", 4096, 128],
	[8, "label", "removed", 32, None],
	[10, "big", "added", None, 4096],
	[11, "ratio", "added", None, 4]]' "diff v2 v3: changes"

run "$UPTRKV" diff -j $M/demo_v1.yaml $M/demo_v3.yaml
expect_rc 1 "diff v1 v3"
json_true '[[c["id"], c["change"]] for c in j["changes"]] == [[1,"renamed"],[3,"resized"],[4,"retyped"],[5,"removed"],[6,"resized"],[7,"added"],[10,"added"],[11,"added"]] and j["bytes_after"] == 4312' \
	"diff v1 v3: changes"

run "$UPTRKV" diff -j $M/demo_v2.yaml $M/demo_v2.yaml
expect_rc 0 "diff v2 v2 (no difference)"
json_true 'j["changes"] == [] and j["compatible"] and j["old_version"] == 2 and j["new_version"] == 2 and j["bytes_before"] == j["bytes_after"]' \
	"diff v2 v2: empty"

run "$UPTRKV" diff -j $M/demo_v3.yaml $M/demo_v2.yaml
expect_rc 3 "diff v3 v2 (version goes down)"
json_true 'j["version_increases"] == False and j["compatible"] == True and len(j["changes"]) == 4' "diff v3 v2: flagged"

# incompatible: shrink without truncate, a narrowing retype without reset
sed -e 's/resize: truncate.*//' $M/demo_v3.yaml >"$tmp/v3_no_truncate.yaml"
run "$UPTRKV" diff -j $M/demo_v2.yaml "$tmp/v3_no_truncate.yaml"
expect_rc 3 "diff: shrink without truncate"
json_true 'j["compatible"] == False and len([c for c in j["changes"] if c["refused"]]) == 1' "shrink: one refused change"
json_true 'any(c["refused"] and match("needs resize: truncate", c["why"]) for c in j["changes"] if c["id"] == 6)' "shrink: why"
run "$UPTRKV" diff $M/demo_v2.yaml "$tmp/v3_no_truncate.yaml"
expect_rc 3 "diff text: shrink without truncate"
grep -q "REFUSED: shrinks from 4096 to 128 bytes: needs resize: truncate" "$tmp/out" &&
	ok "diff text: refusal in the table" || bad "diff text: refusal note"
grep -q "INCOMPATIBLE" "$tmp/out" && ok "diff text: summary says incompatible" || bad "diff text: summary"
# flags u16 -> u32 without reset is an integer widening: the value is kept
sed -e 's/    resize: reset.*//' $M/demo_v2.yaml >"$tmp/v2_no_reset.yaml"
run "$UPTRKV" diff -j $M/demo_v1.yaml "$tmp/v2_no_reset.yaml"
expect_rc 1 "diff: widening without reset"
json_true 'j["compatible"] == True and any(c["change"] == "retyped" and c["action"] == "copy" and c["conversion"] == "uint" and not c["refused"] for c in j["changes"] if c["id"] == 4)' "widening keeps the value"
# ... and u16 -> u8 is a narrowing: refused without reset
sed -e '/name: flags/,/default: 1/ { s/size: 4/size: 1/; s/type: u32/type: u8/ }' "$tmp/v2_no_reset.yaml" >"$tmp/v2_narrow.yaml"
run "$UPTRKV" diff -j $M/demo_v1.yaml "$tmp/v2_narrow.yaml"
expect_rc 3 "diff: narrowing without reset"
json_true 'j["compatible"] == False and any(c["change"] == "retyped" and c["refused"] and c["conversion"] == "reset" and match("only an integer widening keeps the value", c["why"]) for c in j["changes"] if c["id"] == 4)' "narrowing refused"

# the text table
run "$UPTRKV" diff $M/demo_v1.yaml $M/demo_v2.yaml
expect_rc 1 "diff text v1 v2"
head -1 "$tmp/out" | grep -qE '^ID +NAME +CHANGE +OLD SIZE +NEW SIZE +NOTE$' && ok "diff text: header" || bad "diff text: header: $(head -1 "$tmp/out")"
grep -qE '^1 +syscalls +renamed +8 +8 +was events$' "$tmp/out" && ok "diff text: rename row" || bad "diff text: rename row"
grep -qE '^5 +legacy_counter +removed +4 +- +' "$tmp/out" && ok "diff text: removed row" || bad "diff text: removed row"
tail -1 "$tmp/out" | grep -q "^demo: version 1 -> 2: 7 changes (2 added, 1 removed, 2 resized, 1 retyped, 1 renamed), 3 unchanged; compatible; 128 -> 4208 bytes per task$" &&
	ok "diff text: summary" || bad "diff text: summary: $(tail -1 "$tmp/out")"
# columns line up: NOTE starts at the same offset on every row
head -8 "$tmp/out" | awk 'NR == 1 { c = index($0, "CHANGE"); n = index($0, "NOTE"); next }
	substr($0, c, length($3)) != $3 || substr($0, n - 1, 2) !~ /^ [^ ]/ { exit 1 }' &&
	ok "diff text: columns aligned" || bad "diff text: not aligned"

# errors
run "$UPTRKV" diff -j $M/demo_v1.yaml $U/bad_many.yaml
expect_rc 2 "diff with an invalid manifest"
json_true 'match(r"bad_many.yaml: invalid manifest \(5 errors\)", j["error"])' "diff: error in JSON"
grep -q "bad_many.yaml:4:10: version" "$tmp/err" && ok "diff: diagnostics on stderr" || bad "diff: diagnostics"
sed 's/^name: demo/name: other/' $M/demo_v2.yaml >"$tmp/other.yaml"
run "$UPTRKV" diff $M/demo_v1.yaml "$tmp/other.yaml"
expect_rc 2 "diff across deployments"
grep -q "^uptrkv: diff: plan: manifests are for different deployments ('demo' and 'other')" "$tmp/err" &&
	ok "diff: different deployments named" || bad "diff: message: $(cat "$tmp/err")"
run "$UPTRKV" diff $M/demo_v1.yaml
expect_rc 2 "diff with one operand"
run "$UPTRKV" --bpffs "$tmp/nobpffs" diff deployed:nosuch $M/demo_v1.yaml
expect_rc 2 "diff deployed:NAME not deployed"
grep -q "bpffs $tmp/nobpffs: No such file" "$tmp/err" && ok "diff: deployed:NAME on a missing bpffs says so" || bad "diff deployed: $(cat "$tmp/err")"

# deployed:NAME against a real deployment, in a private bpffs (root, and the
# demo objects built in $BUILD/bpf)
objs=$PWD/$BUILD/bpf
if is_root && [ -f "$objs/demo_v1.bpf.o" ]; then
	for v in 1 2; do
		sed "s|^object: .*/demo_v$v.bpf.o|object: $objs/demo_v$v.bpf.o|" $M/demo_v$v.yaml >"$tmp/d$v.yaml"
	done
	run timeout "$(scaled 60)" "$UPTRKV" --bpffs "$bpffs" rollout "$tmp/d1.yaml"
	expect_rc 0 "rollout demo v1 into a private bpffs"
	run "$UPTRKV" --bpffs "$bpffs" diff -j deployed:demo "$tmp/d2.yaml"
	expect_rc 1 "diff deployed:demo v2"
	json_true 'j["old_version"] == 1 and j["new_version"] == 2 and len(j["changes"]) == 7 and j["bytes_before"] == 128' \
		"diff deployed:demo v2: the recorded v1 is the old side"
	run "$UPTRKV" --bpffs "$bpffs" diff deployed:demo "$tmp/d1.yaml"
	expect_rc 0 "diff deployed:demo v1: no difference"
	run timeout "$(scaled 30)" "$UPTRKV" --bpffs "$bpffs" undeploy demo
	expect_rc 0 "undeploy demo"
else
	echo "note: not root or no $objs/demo_v1.bpf.o: deployed:NAME against a live deployment not checked"
fi

# ---- mutated manifests through the CLI ----------------------------------
# A fixed awk seed: the same 300 mutants every run. Each is validated on its
# own: exit 0 (and then diff against itself agrees), or exit 2 with
# well-formed messages; never a crash (ASan/UBSan exit 1) or a silent 2.
mkdir "$tmp/mut"
n=0
for seed in $(seq 1 300); do
	src=$M/demo_v$((seed % 3 + 1)).yaml
	awk -v seed="$seed" '
	BEGIN { srand(seed); split("id: |name: |size: |type: |default: |resize: |- |: |[|]|{|}|&a |*a |---|\"|#|0x|-1|4096|4097|1024|u64|s8|bool|string|truncate|reset|\t|~", tok, "|") }
	{ line[NR] = $0 }
	END {
		n = NR; ops = 1 + int(rand() * 3)
		for (o = 0; o < ops; o++) {
			r = int(rand() * 6); i = 1 + int(rand() * n)
			if (r == 0) { for (j = i; j < n; j++) line[j] = line[j + 1]; n-- }
			else if (r == 1) { for (j = n; j >= i; j--) line[j + 1] = line[j]; n++ }
			else if (r == 2) { k = 1 + int(rand() * n); t = line[i]; line[i] = line[k]; line[k] = t }
			else if (r == 3) { p = int(rand() * (length(line[i]) + 1)); line[i] = substr(line[i], 1, p) tok[1 + int(rand() * 30)] substr(line[i], p + 1) }
			else if (r == 4) { p = 1 + int(rand() * length(line[i])); line[i] = substr(line[i], 1, p - 1) substr(line[i], p + 2) }
			else { sub(/[0-9]+/, int(rand() * 5000) - 100, line[i]) }
		}
		for (j = 1; j <= n; j++) print line[j]
	}' "$src" >"$tmp/mut/m$seed.yaml"
done
valid=0 invalid=0
for f in "$tmp"/mut/*.yaml; do
	run "$UPTRKV" validate "$f"
	case $rc in
	0)	valid=$((valid + 1))
		grep -q "^$f: valid (" "$tmp/out" || bad "$f: exit 0 without 'valid'"
		run "$UPTRKV" diff -j "$f" "$f"
		[ $rc = 0 ] && [ "$(json "$tmp/out" 'j["changes"] == []')" = True ] || bad "$f: valid but diff with itself: exit $rc" ;;
	2)	invalid=$((invalid + 1))
		if [ ! -s "$tmp/err" ] || grep -qvE "^$f(:[0-9]+:[0-9]+)?: .+" "$tmp/err"; then
			bad "$f: exit 2 without well-formed messages"; sed 's/^/    err: /' "$tmp/err"
		fi
		run "$UPTRKV" validate -j "$f"
		[ $rc = 2 ] && [ "$(json "$tmp/out" 'j["manifests"][0]["valid"] == False and len(j["manifests"][0]["errors"]) > 0 and all(e["message"] != "" for e in j["manifests"][0]["errors"])')" = True ] ||
			bad "$f: JSON validate disagrees" ;;
	*)	bad "$f: exit $rc (crash?)"; head -20 "$tmp/err" | sed 's/^/    /' ;;
	esac
done
[ $valid -gt 10 ] && [ $invalid -gt 100 ] && ok "mutants: $valid valid, $invalid invalid, all well handled" ||
	bad "mutants: $valid valid, $invalid invalid: the mutations do not cover both outcomes"

echo
