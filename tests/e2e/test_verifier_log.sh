#!/bin/bash
# What a verifier rejection shows (bpf/demo_bad_verifier.bpf.c, an access the
# verifier refuses at line 26), root, real BPF, private bpffs (env.sh):
#  - text: only the log's tail on stderr, with the failing instruction, its
#    source line, the verifier's reason and how to get the rest;
#  - -j: one document on stdout with that tail as verifier_log, and none of
#    the log as free text on stderr;
#  - -v (with or without -j): the whole log on stderr.
set -euo pipefail
source "$(dirname "$0")/env.sh"
obj=$PWD/$BUILD/bpf/demo_bad_verifier.bpf.o
[ -e "$obj" ] || fail "missing $obj"
sed "s|^object: .*|object: $obj|" "$M/demo_v2.yaml" > "$M/bad.yaml"
# The lines only the verifier writes: its reason, and the walk's summary.
REASON="outside of the allowed memory range"
WALK="^[0-9]+: \([0-9a-f]{2}\) "

rollout() {	# name args...: runs a rollout of bad.yaml that must fail with 1
	local name=$1; shift
	local rc=0
	U "$@" rollout "$M/bad.yaml" > "$tmp/$name.out" 2> "$tmp/$name.err" || rc=$?
	[ "$rc" = 1 ] || fail "$name: exit $rc, not 1: $(tail -5 "$tmp/$name.err")"
}

echo "== text mode, no -v"
rollout text
grep -q "the verifier rejected a program of $obj" "$tmp/text.err" || fail "text: no error naming the object"
grep -q "@ demo_bad_verifier.bpf.c:26" "$tmp/text.err" || fail "text: the tail does not name the failing line"
grep -qE "$WALK" "$tmp/text.err" || fail "text: the tail has no instruction"
grep -q "$REASON" "$tmp/text.err" || fail "text: the tail lacks the verifier's reason"
grep -qE "^\.\.\. [0-9]+ earlier lines left out; run with -v for the whole log" "$tmp/text.err" ||
	fail "text: no hint that -v gives the whole log"
n=$(wc -l < "$tmp/text.err")
[ "$n" -lt 40 ] || fail "text: $n lines on stderr, the whole log without -v"
echo "ok   text: $n lines on stderr, the failing line, its instruction and the reason"

echo "== text mode, -v"
rollout verbose -v
nv=$(grep -cE "$WALK" "$tmp/verbose.err" || true)
nt=$(grep -cE "$WALK" "$tmp/text.err" || true)
[ "$nv" -gt "$nt" ] || fail "-v: $nv instruction lines, no more than without -v ($nt)"
grep -q "left out" "$tmp/verbose.err" && fail "-v: the log was still cut"
echo "ok   -v: the whole log, $nv instruction lines (without -v: $nt)"

echo "== -j, no -v"
rollout json -j
python3 - "$tmp/json.out" "$REASON" <<'PY' || fail "-j: $(cat "$tmp/json.out")"
import json, re, sys
d = json.load(open(sys.argv[1]))       # exactly one document, or this fails
assert d["code"] == "verifier", d["code"]
log = d["verifier_log"]
assert isinstance(log, list) and all(isinstance(l, str) for l in log), log
assert any(l.endswith("@ demo_bad_verifier.bpf.c:26") for l in log), log
assert any(re.match(r"^\d+: \([0-9a-f]{2}\) ", l) for l in log), log
assert any(sys.argv[2] in l for l in log), log
assert len(log) < 25, len(log)
assert d["verifier_log_left_out"] > 0, d["verifier_log_left_out"]
print(f"ok   -j: verifier_log has {len(log)} lines, {d['verifier_log_left_out']} left out")
PY
grep -q "$REASON" "$tmp/json.err" && fail "-j: the verifier log went to stderr too"
grep -qE "$WALK" "$tmp/json.err" && fail "-j: instructions on stderr"
grep -q "run with -v for the whole log" "$tmp/json.err" || fail "-j: stderr does not say how to get the log"
echo "ok   -j: no log lines on stderr, only where to find them"

echo "== -j -v"
rollout json-verbose -j -v
grep -q "$REASON" "$tmp/json-verbose.err" || fail "-j -v: no log on stderr"
[ "$(json "$tmp/json-verbose.out" "j['code'] == 'verifier'")" = True ] || fail "-j -v: $(cat "$tmp/json-verbose.out")"
echo "ok   -j -v: the whole log on stderr, the document on stdout"

[ ! -e "$bpffs/uptrkv/demo" ] || fail "a refused first rollout left $bpffs/uptrkv/demo"
echo "PASS"
