#!/bin/sh
# Deploy one uptrkv manifest from a CI pipeline, safely:
#
#   validate -> diff deployed:NAME MANIFEST (stop if it cannot be rolled out)
#   -> rollout --dry-run -j (verify against the live maps, change nothing)
#   -> rollout --progress=plain -> health check -> rollback if it fails
#
# Usage: deploy.sh MANIFEST
# Environment:
#   UPTRKV          the uptrkv binary (default: uptrkv on PATH)
#   UPTRKV_BPFFS    the bpffs root (default: uptrkv's, /sys/fs/bpf)
#   UPTRKV_TIMEOUT  seconds to wait for another uptrkv's lock (default 60)
#   HEALTH_CMD      the health check, run by sh after the rollout; exit 0 is
#                   healthy (default: 'uptrkv status NAME' succeeds)
#   PLAN_FILE       where the dry run's JSON plan is kept (default: none)
#
# Exit status, for the pipeline:
#   0  deployed, or nothing to do
#   1  the rollout failed or was refused; uptrkv left the old version running
#   2  bad input: the manifest is invalid, or a usage error
#   3  the change cannot be rolled out as written (uptrkv diff exit 3);
#      nothing was done
#   4  the dry run refused it (verifier, object, space, lock); nothing was done
#   5  the health check failed; the deployment was rolled back
#   6  the health check failed and the rollback failed too: needs a human
set -u

UPTRKV=${UPTRKV:-uptrkv}
UPTRKV_TIMEOUT=${UPTRKV_TIMEOUT:-60}

say() { printf 'deploy: %s\n' "$*" >&2; }

u() {
	if [ -n "${UPTRKV_BPFFS:-}" ]; then
		"$UPTRKV" --bpffs "$UPTRKV_BPFFS" --timeout "$UPTRKV_TIMEOUT" "$@"
	else
		"$UPTRKV" --timeout "$UPTRKV_TIMEOUT" "$@"
	fi
}

[ $# = 1 ] || { say "usage: deploy.sh MANIFEST"; exit 2; }
manifest=$1

# 1. validate; the text output names the deployment: "FILE: valid (NAME vN, ...)"
out=$(u validate "$manifest") || { say "$manifest is not valid"; exit 2; }
name=$(printf '%s\n' "$out" | sed -n 's/.*: valid (\([^ ]*\) v[0-9]*, .*/\1/p')
[ -n "$name" ] || { say "cannot read the deployment name from: $out"; exit 2; }

# 2. what changes, against what runs now (nothing runs yet: a first deploy)
if u -q status "$name" >/dev/null 2>&1; then
	u diff "deployed:$name" "$manifest"
	case $? in
	0) say "$name: $manifest is already deployed; nothing to do"; exit 0 ;;
	1) ;;
	3) say "$name: this change cannot be rolled out as written (see the plan above); nothing was done"
	   exit 3 ;;
	*) say "$name: diff failed"; exit 2 ;;
	esac
	first=0
else
	say "$name: not deployed yet: first deploy"
	first=1
fi

# 3. dry run: loads and verifies the object against the live maps
plan=$(u -j rollout "$manifest" --dry-run)
rc=$?
[ -n "${PLAN_FILE:-}" ] && printf '%s\n' "$plan" > "$PLAN_FILE"
case $rc in
0) say "$name: dry run passed" ;;
2) say "$name: dry run: bad input: $plan"; exit 2 ;;
*) say "$name: dry run refused it; nothing was done: $plan"; exit 4 ;;
esac

# 4. the rollout, one line per phase in the CI log
u --progress=plain rollout "$manifest"
case $? in
0) ;;
2) exit 2 ;;
*) say "$name: the rollout failed; the old version still runs"; exit 1 ;;
esac

# 5. health check; 6. rollback when it fails
if [ -n "${HEALTH_CMD:-}" ]; then
	sh -c "$HEALTH_CMD"
else
	u status "$name" >/dev/null
fi
[ $? = 0 ] && { say "$name: deployed and healthy"; exit 0; }

if [ $first = 1 ]; then
	say "$name: the health check failed: removing the first deploy"
	u undeploy "$name" && exit 5
else
	say "$name: the health check failed: rolling back"
	u --progress=plain rollback "$name" && exit 5
fi
say "$name: the rollback failed too: look at 'uptrkv status $name' and 'uptrkv history $name'"
exit 6
