#!/bin/bash
# Objects are bound to their layout (docs/design.md). With the demo workload
# running on v1, every wrong object is refused, exit 1, code object_mismatch,
# and changes nothing (status and every pin under the bpffs compared before
# and after each refusal); the workload keeps checking every event:
#  a) the v2 manifest with the v1 object (a stale object): the message names
#     both layout hashes and the keys that differ;
#  b) a foreign object (test_store.bpf.o);
#  c) an object with no record; --allow-unbound-object lets it through with
#     a warning (stderr, JSON "warnings");
#  d) an object built for another deployment;
#  e) --dry-run refuses all of these the same way;
#  f) validate --object and diff --object catch them, as an unprivileged
#     user (no kernel, no root);
#  g) a manifest that lists a program the object lacks;
#  h) rollback checks the layout recorded for its target (a tampered record
#     is refused), needs --allow-unbound-object for a version rolled out
#     without a record, and does not read the object file again.
set -euo pipefail
source "$(dirname "$0")/env.sh"

CLANG=$(for c in clang-21 clang-20 clang-19 clang-18 clang-17 clang-16 clang-15; do
	command -v $c >/dev/null 2>&1 && { echo $c; break; }; done)
[ -n "$CLANG" ] || skip "no clang >= 15"
OBJ=$PWD/$BUILD/bpf
# bpf_cc DIR OUT: examples/demo/demo_v2.bpf.c, with DIR/demo_v2.keys.h as its header.
bpf_cc() {
	$CLANG -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$BPF_ARCH -Wall -Werror -Wno-unused-function \
		-I"$1" -I"$BUILD/bpf" -Ibpf -Ilib -c examples/demo/demo_v2.bpf.c -o "$2"
}

# code FILE: the "code" of a JSON error document.
code() { json "$1" 'j.get("code")'; }

# What a refusal must leave exactly as it was: the deployment's status
# (less the live counts the workload moves) and every pin.
state() {
	find "$bpffs" -printf '%p\n' | sort
	U status demo -j | python3 -c '
import json, sys
d = json.load(sys.stdin)["deployments"][0]
for k in ("bytes_used", "bytes_registered", "stores", "processes"):
    d.pop(k, None)
print(json.dumps(d, sort_keys=True))'
}
snap() { state > "$tmp/state.ref"; }
unchanged() {
	state > "$tmp/state.now"
	cmp -s "$tmp/state.ref" "$tmp/state.now" || fail "$1 changed something: $(diff "$tmp/state.ref" "$tmp/state.now")"
}
# refused WHAT PATTERN MANIFEST: rollout and its dry run, text and JSON.
refused() {
	local what=$1 pat=$2 man=$3
	expect 1 "$pat" U rollout "$man"
	cp "$tmp/x.err" "$tmp/refused.err"	# the text refusal, for a closer look
	unchanged "$what"
	expect 1 "$pat" U rollout "$man" --dry-run
	unchanged "$what (dry run)"
	expect 1 "" U rollout "$man" -j
	[ "$(code "$tmp/x.out")" = object_mismatch ] || fail "$what: JSON $(cat "$tmp/x.out")"
	unchanged "$what (JSON)"
}
mk() {	# mk FILE OBJECT [NAME]: the v2 manifest with another object (and name)
	sed -e "s|^object: .*|object: $2|" -e "s|^name: .*|name: ${3:-demo}|" "$M/demo_v2.yaml" > "$1"
}

# v1 goes out from a copy, so that (h) can change the file afterwards.
mkdir -p "$tmp/objs"
cp "$OBJ/demo_v1.bpf.o" "$tmp/objs/"
sed "s|^object: .*|object: $tmp/objs/demo_v1.bpf.o|" "$M/demo_v1.yaml" > "$M/v1copy.yaml"

echo "== v1 deployed from a bound object; the workload runs on it"
U rollout "$M/v1copy.yaml" -j > "$tmp/v1.json"
[ "$(json "$tmp/v1.json" 'j["object"]["bound"]')" = True ] || fail "v1 not bound: $(cat "$tmp/v1.json")"
start_workload bind -t 2
snap

echo "== a) the v2 manifest with the v1 object"
mk "$M/stale.yaml" "$OBJ/demo_v1.bpf.o"
U validate -j "$M/stale.yaml" --object "$OBJ/demo_v1.bpf.o" > "$tmp/hashes.json" || true
h_obj=$(json "$tmp/hashes.json" 'j["manifests"][0]["object"]["layout_sha256"]')
h_man=$(json "$tmp/hashes.json" 'j["manifests"][0]["object"]["manifest_layout_sha256"]')
[ ${#h_obj} = 64 ] && [ ${#h_man} = 64 ] && [ "$h_obj" != "$h_man" ] || fail "hashes: $h_obj $h_man"
refused "a stale object" "built for layout 0x${h_obj:0:16}.*key 4 'flags' u16.*manifest says 0x${h_man:0:16}.*key 4 'flags' u32" "$M/stale.yaml"
grep -q "no key 5" "$tmp/refused.err" || fail "the message does not name the removed key 5"
[ "$(json "$tmp/x.out" 'j["object"]["layout_sha256"]')" = "$h_obj" ] || fail "JSON: full object hash"
[ "$(json "$tmp/x.out" 'j["object"]["manifest_layout_sha256"]')" = "$h_man" ] || fail "JSON: full manifest hash"

echo "== b) a foreign object"
mk "$M/foreign.yaml" "$OBJ/test_store.bpf.o"
refused "a foreign object" "test_store.bpf.o carries no layout record" "$M/foreign.yaml"
mk "$M/notbpf.yaml" /bin/true
refused "a file that is not a BPF object" "/bin/true is not a BPF object" "$M/notbpf.yaml"

echo "== d) an object built for another deployment (same keys)"
mkdir -p "$tmp/other"
sed "s|^name: .*|name: other|" "$M/demo_v2.yaml" > "$tmp/other/other.yaml"
U gen header "$tmp/other/other.yaml" --prefix demo -o "$tmp/other/demo_v2.keys.h"
bpf_cc "$tmp/other" "$tmp/other/other.bpf.o"
mk "$M/othername.yaml" "$tmp/other/other.bpf.o"
refused "another deployment's object" "built for deployment 'other'.*deploys 'demo'" "$M/othername.yaml"

echo "== g) a program the manifest lists and the object lacks"
sed "s|^object: .*|&\nprograms: [on_enter, on_exit, not_there]|" "$M/demo_v2.yaml" > "$M/noprog.yaml"
refused "a missing program" "program 'not_there' .*is not in .*demo_v2.bpf.o" "$M/noprog.yaml"

echo "== f) validate --object and diff --object, unprivileged: no kernel, no root"
ci=$tmp/ci
mkdir -p "$ci"
cp "$M/demo_v1.yaml" "$M/demo_v2.yaml" "$M/noprog.yaml" "$ci/"
cp "$tmp/other/other.bpf.o" "$ci/"
chmod -R a+rX "$ci"
chmod a+x "$tmp"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
expect 0 "" nobody "$BUILD/uptrkv" validate "$ci/demo_v2.yaml" --object "$OBJ/demo_v2.bpf.o"
grep -q "built for this layout (0x${h_man:0:16})" "$tmp/x.out" || fail "validate --object: $(cat "$tmp/x.out")"
expect 2 "built for layout 0x${h_obj:0:16}" nobody "$BUILD/uptrkv" validate "$ci/demo_v2.yaml" --object "$OBJ/demo_v1.bpf.o"
expect 2 "" nobody "$BUILD/uptrkv" validate -j "$ci/demo_v2.yaml" --object "$OBJ/test_store.bpf.o"
[ "$(json "$tmp/x.out" 'j["manifests"][0]["code"]')" = object_mismatch ] || fail "validate -j: $(cat "$tmp/x.out")"
expect 2 "deployment 'other'" nobody "$BUILD/uptrkv" validate "$ci/demo_v2.yaml" --object "$ci/other.bpf.o"
expect 2 "not_there" nobody "$BUILD/uptrkv" validate "$ci/noprog.yaml" --object "$OBJ/demo_v2.bpf.o"
expect 1 "" nobody "$BUILD/uptrkv" diff "$ci/demo_v1.yaml" "$ci/demo_v2.yaml" --object "$OBJ/demo_v2.bpf.o"
grep -q "built for the new layout" "$tmp/x.out" || fail "diff --object: $(cat "$tmp/x.out")"
expect 3 "built for layout 0x${h_obj:0:16}" nobody "$BUILD/uptrkv" diff "$ci/demo_v1.yaml" "$ci/demo_v2.yaml" --object "$OBJ/demo_v1.bpf.o"
expect 3 "" nobody "$BUILD/uptrkv" diff -j "$ci/demo_v1.yaml" "$ci/demo_v2.yaml" --object "$OBJ/test_store.bpf.o"
[ "$(code "$tmp/x.out")" = object_mismatch ] || fail "diff -j: $(cat "$tmp/x.out")"
unchanged "validate and diff"

echo "== c) an object with no record: refused, then let through on request"
# demo_v2.bpf.c built with its header less the record, as an old header made it.
mkdir -p "$tmp/norec"
sed '/defined(UPTRKV_LAYOUT_RECORD)/,/^#endif/d' "$BUILD/bpf/demo_v2.keys.h" > "$tmp/norec/demo_v2.keys.h"
bpf_cc "$tmp/norec" "$tmp/objs/norecord.bpf.o"
mk "$M/norecord.yaml" "$tmp/objs/norecord.bpf.o"
refused "an object without a record" "norecord.bpf.o carries no layout record" "$M/norecord.yaml"
expect 0 "warning: object .*norecord.bpf.o carries no layout record" \
	U rollout "$M/norecord.yaml" --dry-run --allow-unbound-object
unchanged "a dry run with --allow-unbound-object"
expect 0 "warning: .*carries no layout record" U rollout "$M/norecord.yaml" --allow-unbound-object -j
[ "$(json "$tmp/x.out" 'j["result"]')" = upgraded ] || fail "not upgraded: $(cat "$tmp/x.out")"
json "$tmp/x.out" 'j["warnings"][0]' | grep -q "no layout record" || fail "JSON warnings: $(cat "$tmp/x.out")"
[ "$(json "$tmp/x.out" 'j["object"]["bound"]')" = False ] || fail "JSON object.bound"
[ "$(U status demo -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployments"][0]["version"])')" = 2 ] ||
	fail "status is not v2"
# The flag never lets a record of another layout through.
mk "$M/stale3.yaml" "$OBJ/demo_v1.bpf.o"
sed -i "s|^version: .*|version: 3|" "$M/stale3.yaml"
snap
expect 1 "built for layout" U rollout "$M/stale3.yaml" --allow-unbound-object
unchanged "a stale object with --allow-unbound-object"

echo "== h) rollback checks the layout recorded for its target"
# v1's record in the state map: its page holds v1's layout SHA-256.
state_pin=$bpffs/uptrkv/demo/state
tamper() {	# tamper HEX_SHA: flips a byte of that hash wherever it is recorded
	python3 - "$state_pin" "$1" <<'PY'
import json, subprocess, sys
pin, sha = sys.argv[1], bytes.fromhex(sys.argv[2])
done = 0
for idx in (0, 64):
    key = [str(b) for b in idx.to_bytes(4, "little")]
    out = subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", pin, "key"] + key,
                         check=True, capture_output=True, text=True).stdout
    val = bytearray(int(b, 16) for b in json.loads(out)["value"])
    at = val.find(sha)
    if at < 0:
        continue
    val[at] ^= 0xff
    subprocess.run(["bpftool", "map", "update", "pinned", pin, "key"] + key + ["value"] +
                   [hex(b) for b in val], check=True)
    done += 1
sys.exit(0 if done == 1 else 1)
PY
}
h_v1=$(json "$tmp/v1.json" 'j["object"]["layout_sha256"]')
tamper "$h_v1" || fail "v1's layout hash is not recorded in the state map"
snap
expect 1 "programs were built for layout .*recorded manifest says" U rollback demo
[ "$(code <(U rollback demo -j || true))" = object_mismatch ] || fail "rollback -j: no code"
expect 1 "recorded manifest says" U rollback demo --dry-run
unchanged "a rollback to a tampered record"
# Put it back (flip the same byte again): the rollback goes through. The
# object file changed on disk meanwhile; rollback does not read it, says so.
python3 - "$h_v1" > "$tmp/h_v1_tampered" <<'PY'
import sys
b = bytearray.fromhex(sys.argv[1]); b[0] ^= 0xff; print(b.hex())
PY
tamper "$(cat "$tmp/h_v1_tampered")" || fail "could not restore the record"
echo "extra" >> "$tmp/objs/demo_v1.bpf.o"
expect 0 "warning: object .*demo_v1.bpf.o changed on disk since it was rolled out" U rollback demo
[ "$(U status demo -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployments"][0]["version"])')" = 1 ] ||
	fail "rollback did not return to v1"
# Back to v2, which went out without a record: that needs the flag again.
snap
expect 1 "rolled out from an object without a layout record" U rollback demo
unchanged "a rollback to an unbound version without the flag"
expect 0 "warning: .*no layout record" U rollback demo --allow-unbound-object

echo "== the workload saw every event handled, by one version at a time"
stop_workload
echo PASS
