#!/bin/bash
# examples/ci/deploy.sh, run by dash (POSIX sh) against a private bpffs under
# a live workload: a first deploy, a good change, the same change again, an
# incompatible change (exit 3, nothing changed), a change the dry run
# refuses (exit 4, nothing changed), and a failed health check (exit 5,
# rolled back).
set -euo pipefail
source "$(dirname "$0")/../e2e/env.sh"
SH=$(command -v dash || command -v sh)

export UPTRKV=$PWD/$BUILD/uptrkv UPTRKV_BPFFS=$bpffs UPTRKV_TIMEOUT=30
# deploy NAME MANIFEST [VAR=VALUE...]: runs deploy.sh; output in $tmp/NAME.log, status in $rc
deploy() {
	local name=$1 manifest=$2; shift 2
	set +e
	env "$@" "$SH" examples/ci/deploy.sh "$manifest" > "$tmp/$name.log" 2>&1
	rc=$?
	set -e
	echo "-- deploy.sh $name: exit $rc"
}
# deployed WANT NAME: deploy.sh NAME exited WANT.
deployed() { [ "$rc" = "$1" ] || { sed 's/^/    /' "$tmp/$2.log"; fail "$2: exit $rc, want $1"; }; }
# What "nothing changed" compares: version, generation, journal, the very
# programs, the stores' bytes, and the history.
state() {
	U -j status demo | json -c /dev/stdin '[j["deployments"][0][k] for k in ("version", "generation", "state")] + [[p["prog_id"] for p in j["deployments"][0]["programs"]], j["deployments"][0]["bytes_used"]]'
	U -j history demo | json -c /dev/stdin '[[r["revision"], r["version"], r["outcome"]] for r in j["revisions"]]'
}

echo "== a first deploy"
deploy first "$M/demo_v1.yaml"
deployed 0 first
grep -q "first deploy" "$tmp/first.log" || fail "first: $(cat "$tmp/first.log")"
start_workload main -t 2

echo "== a good change: v1 -> v2, phases in the log"
deploy good "$M/demo_v2.yaml" PLAN_FILE="$tmp/plan.json"
deployed 0 good
[ "$(U -j status demo | json /dev/stdin 'j["deployments"][0]["version"]')" = 2 ] || fail "good: not on v2"
grep -qE "^uptrkv: migrate: [0-9]+/[0-9]+ stores$" "$tmp/good.log" || fail "good: no plain progress: $(cat "$tmp/good.log")"
[ "$(json "$tmp/plan.json" 'j["result"] == "dry run" and j["plan"]["compatible"] == True')" = True ] || fail "good: the dry run's plan: $(cat "$tmp/plan.json")"

echo "== the same change again: nothing to do"
deploy again "$M/demo_v2.yaml"
deployed 0 again
grep -q "nothing to do" "$tmp/again.log" || fail "again: $(cat "$tmp/again.log")"

echo "== an incompatible change: exit 3, nothing changed"
sed -e 's/resize: truncate.*//' "$M/demo_v3.yaml" > "$tmp/v3_no_truncate.yaml"
ref=$(state)
deploy incompatible "$tmp/v3_no_truncate.yaml"
deployed 3 incompatible
grep -q "REFUSED: shrinks from 4096 to 128 bytes" "$tmp/incompatible.log" || fail "incompatible: no plan in the log"
[ "$(state)" = "$ref" ] || fail "incompatible: something changed: $ref / $(state)"

echo "== a change the dry run refuses (an object of another layout): exit 4, nothing changed"
sed "s|^object: .*|object: $PWD/$BUILD/bpf/demo_v2.bpf.o|" "$M/demo_v3.yaml" > "$tmp/v3_wrong_object.yaml"
deploy refused "$tmp/v3_wrong_object.yaml"
deployed 4 refused
grep -q '"code":"object_mismatch"' "$tmp/refused.log" || fail "refused: $(cat "$tmp/refused.log")"
[ "$(state)" = "$ref" ] || fail "refused: something changed"

echo "== an invalid manifest: exit 2"
printf 'apiVersion: uptrkv/v1\nname: demo\n' > "$tmp/bad.yaml"
deploy invalid "$tmp/bad.yaml"
deployed 2 invalid
[ "$(state)" = "$ref" ] || fail "invalid: something changed"

echo "== a failed health check: exit 5, rolled back to v2"
deploy unhealthy "$M/demo_v3.yaml" HEALTH_CMD=false
deployed 5 unhealthy
[ "$(U -j status demo | json /dev/stdin 'j["deployments"][0]["version"]')" = 2 ] || fail "unhealthy: not back on v2"
U -j history demo | json /dev/stdin 'j["revisions"][-1]["outcome"] == "rolled_back" and j["revisions"][-2]["version"] == 3' | grep -qx True ||
	fail "unhealthy: the history does not show v3 then the rollback"

stop_workload
echo PASS
