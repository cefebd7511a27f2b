#!/bin/bash
# Apps built for the previous layout keep working (root, real BPF, private
# bpffs; env.sh). tests/e2e/compat_app.c is built once against layout 1's
# generated header and runs without a pause through
#   v1 -> v2 (note grows 8 -> 16, gone removed, fresh added)
#      -> v3 (level retyped u32 -> u64)
#      -> rollback (v2: level reset) -> rollback --to-version 1
# checking every result of every call against docs/store.md (prefix reads
# and writes, -ENOENT for a removed key, -EPROTO for a retyped one, its
# defaults when a rollback returns or resets a key) and that nothing it
# wrote is lost (its counter and its note read back its last write).
set -euo pipefail
source "$(dirname "$0")/env.sh"
C=$tmp/compat
mkdir -p "$C"
for v in 1 2 3; do
	sed "s|^object: .*|object: $PWD/$BUILD/bpf/test_compat_v$v.bpf.o|" \
		tests/e2e/manifests/compat_v$v.yaml > "$C/v$v.yaml"
done

echo "== v1, and the app built for it"
U rollout "$C/v1.yaml" > /dev/null
"$BUILD/tests/e2e/compat_app" "$bpffs" "$C/report.json" > "$C/app.out" 2> "$C/app.err" &
APP=$!
WORKLOAD_PIDS+=("$APP")
wait_line 5 '^ready' "$C/app.out" "$APP" || { cat "$C/app.err"; fail "compat_app never got ready"; }
sleep 0.3
for step in "rollout $C/v2.yaml" "rollout $C/v3.yaml" "rollback compat" "rollback compat --to-version 1"; do
	echo "== $step, the app running"
	# shellcheck disable=SC2086
	U $step > "$C/step.out" || fail "$step: $(cat "$C/step.out")"
	sleep 0.4
	kill -0 "$APP" 2>/dev/null || { cat "$C/app.err"; fail "compat_app died after $step"; }
done
U dump "$APP" -j > "$C/dump.json"
kill -TERM "$APP"
wait "$APP" || { cat "$C/app.err"; fail "compat_app exited with $?: $(cat "$C/report.json" 2>/dev/null)"; }
python3 - "$C/report.json" "$C/dump.json" <<'PY' || fail "app results: $(cat "$C/report.json")"
import json, sys
r, d = (json.load(open(f)) for f in sys.argv[1:3])
print(f"  {r['iterations']} iterations: note prefix reads {r['note_prefix']}, gone -ENOENT {r['gone_enoent']}, "
      f"gone back {r['gone_back']}, level -EPROTO {r['level_eproto']}, level reset {r['level_reset']}, "
      f"errors {r['errors']} {r['first_error']}")
assert r["errors"] == 0, r
assert r["note_prefix"] > 0 and r["gone_enoent"] > 0 and r["level_eproto"] > 0, r
assert r["gone_back"] == 1 and r["level_reset"] == 1, r
assert d["version"] == 1, d["version"]
keys = {k["name"]: k["value"] for k in d["threads"][0]["keys"]}
# dump reads the same bytes from outside; the app went on counting after it.
assert 0 < keys["counter"] <= r["counter"], (keys["counter"], r["counter"])
assert sorted(keys) == ["counter", "gone", "label", "level", "note"], sorted(keys)
print(f"  dump at v1: counter {keys['counter']} (app's last {r['counter']}), keys {sorted(keys)}")
PY
echo "PASS"
