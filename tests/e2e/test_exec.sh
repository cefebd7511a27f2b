#!/bin/bash
# What happens to a thread's store across exec (docs/store.md): the element
# belongs to the task, so it survives exec, and its pages stay pinned and
# readable though no address space maps them any more; BPF programs keep
# using them; the element and pages go away when the task exits.
set -euo pipefail
source "$(dirname "$0")/env.sh"

U rollout "$M/demo_v1.yaml" > /dev/null
# After exec, the new image (python3) makes 5 getppid() calls, the demo
# programs' event, then waits for its stdin to close: the test decides when
# the task exits, however slow the machine is.
mkfifo "$tmp/exec.in"
"$BUILD/tests/e2e/exec_app" "$bpffs" python3 -c \
	'import os, sys; [os.getppid() for _ in range(5)]; print("called", flush=True); sys.stdin.read()' \
	< "$tmp/exec.in" > "$tmp/exec.out" &
app=$!
WORKLOAD_PIDS+=("$app")
exec {app_in}> "$tmp/exec.in"
wait_line 2 registered "$tmp/exec.out" "$app" || fail "exec_app did not register"
# Until python3, exec'ed, has made its calls, however slow the machine.
wait_line 30 called "$tmp/exec.out" "$app" || fail "python3 never made its calls: $(cat "$tmp/exec.out")"
case "$(cat /proc/$app/comm)" in python*) ;; *) fail "pid $app is $(cat /proc/$app/comm), not python3" ;; esac

echo "== after exec: the store is still there, with the value written before"
U dump "$app" --deployment demo -j > "$tmp/d.json" || fail "dump after exec: $(cat "$tmp/d.json")"
json "$tmp/d.json" '"  pid %s: %d thread(s), rx_bytes = %s" % (j["pid"], len(j["threads"]), [k["value"] for k in j["threads"][0]["keys"] if k["name"] == "rx_bytes"][0])'
[ "$(json "$tmp/d.json" '[k["value"] for k in j["threads"][0]["keys"] if k["name"] == "rx_bytes"][0]')" = 4242 ] || fail "rx_bytes lost across exec"

echo "== BPF still uses it: the new image's getppid() calls were counted in its pages"
# exec_app makes none; python3 makes 5, plus whatever its start-up makes.
events=$(json "$tmp/d.json" '[k["value"] for k in j["threads"][0]["keys"] if k["name"] == "events"][0]')
echo "  events = $events"
[ "$events" -ge 5 ] || fail "events $events: BPF did not count the new image's calls"

echo "== a rollout migrates it like any other store"
U rollout "$M/demo_v2.yaml" -j > "$tmp/r.json" || fail "rollout: $(cat "$tmp/r.json")"
[ "$(json "$tmp/r.json" 'j["migrated"]')" = 1 ] || fail "the exec'ed task's store was not migrated: $(cat "$tmp/r.json")"
U dump "$app" --deployment demo -j > "$tmp/d2.json"
[ "$(json "$tmp/d2.json" '[k["value"] for k in j["threads"][0]["keys"] if k["name"] == "rx_bytes"][0]')" = 4242 ] || fail "rx_bytes lost in the rollout"

echo "== at task exit the store goes away"
exec {app_in}>&-
wait "$app" || true
U status demo -j > "$tmp/st.json"
[ "$(json "$tmp/st.json" 'j["deployments"][0]["stores"]')" = 0 ] || fail "a store outlived its task"
echo PASS
