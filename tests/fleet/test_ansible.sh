#!/bin/bash
# The Ansible collection (ansible/, uptrkv.fleet) for real, with
# ansible-playbook, on four simulated hosts: ansible_connection local, each
# with its own private bpffs and its own demo workload (which checks after
# every event that no value was lost). Proves:
#   1. a check-mode run changes nothing on any host;
#   2. v2 reaches every host, wave by wave (1, then 2, then the rest), in
#      inventory order;
#   3. a re-run is all changed=0;
#   4. a health gate that fails on host3 rolls host3 back to v1, stops
#      before host4, leaves host1-2 on v2, and the play exits non-zero;
#   5. state: rolled_back with to_version returns every host to v1, and
#      again is all changed=0.
set -euo pipefail
source "$(dirname "$0")/../e2e/env.sh"
command -v ansible-playbook >/dev/null || skip "ansible-playbook not installed (make deps)"

HOSTS="host1 host2 host3 host4"
declare -A FS
# The collection, where Ansible looks for it.
mkdir -p "$tmp/collections/ansible_collections/uptrkv"
ln -s "$PWD/ansible" "$tmp/collections/ansible_collections/uptrkv/fleet"
export ANSIBLE_COLLECTIONS_PATH=$tmp/collections ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
	ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP=$tmp/ansible-tmp \
	ANSIBLE_REMOTE_TEMP=$tmp/ansible-tmp ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_FORKS=4
# The sanitized uptrkv runs under Ansible too; its reports go to the log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

{
	echo "uptrkv:"
	echo "  vars:"
	echo "    ansible_connection: local"
	echo "    ansible_python_interpreter: /usr/bin/python3"
	echo "    uptrkv_bin: $PWD/$BUILD/uptrkv"
	echo "  hosts:"
	for h in $HOSTS; do
		FS[$h]=$tmp/$h/bpffs
		echo "    $h: {uptrkv_bpffs: ${FS[$h]}}"
	done
} > "$tmp/inventory.yml"

# Each host: its bpffs, v1 deployed, its workload.
for h in $HOSTS; do
	mkdir -p "${FS[$h]}"
	mount -t bpf bpf "${FS[$h]}"
	EXTRA_BPFFS+=("${FS[$h]}")
	"$BUILD/uptrkv" --bpffs "${FS[$h]}" -q rollout "$M/demo_v1.yaml" >/dev/null
	WL_BPFFS=${FS[$h]} start_workload "$h" -t 2
	eval "PID_$h=$WL_PID"
	# Four busy workloads on a small machine: they yield to Ansible and
	# uptrkv (every thread: nice applies per thread).
	for t in /proc/$WL_PID/task/*; do renice -n 19 -p "${t##*/}" >/dev/null; done
done

version() { "$BUILD/uptrkv" --bpffs "${FS[$1]}" -j status demo | json /dev/stdin 'j["deployments"][0]["version"]'; }
revisions() { "$BUILD/uptrkv" --bpffs "${FS[$1]}" -j history demo | json /dev/stdin 'len(j["revisions"])'; }
versions() { local v=""; for h in $HOSTS; do v="$v $(version $h)"; done; echo "${v# }"; }
# play NAME PLAYBOOK [args]: runs ansible-playbook, output in $tmp/NAME.log, status in $rc
play() {
	local name=$1 pb=$2; shift 2
	set +e
	ansible-playbook -i "$tmp/inventory.yml" "ansible/playbooks/$pb" "$@" > "$tmp/$name.log" 2>&1
	rc=$?
	set -e
	echo "-- $name: exit $rc"
}
# recap HOST: "ok=N changed=N ... failed=N" of the play recap
recap() { grep -E "^$1 +: " "$tmp/$2.log" | tail -1 | sed 's/^[^:]*: *//'; }
changed_of() { recap "$1" "$2" | grep -oE 'changed=[0-9]+' | cut -d= -f2; }
show() { sed 's/^/    /' "$tmp/$1.log"; }

echo "== 1. check mode changes nothing"
before=$(for h in $HOSTS; do echo "$h $(version $h) $(revisions $h)"; done)
play check rollout.yml -e uptrkv_manifest="$M/demo_v2.yaml" --check --diff
[ $rc = 0 ] || { show check; fail "check mode: exit $rc"; }
after=$(for h in $HOSTS; do echo "$h $(version $h) $(revisions $h)"; done)
[ "$before" = "$after" ] || fail "check mode changed something: $before / $after"
for h in $HOSTS; do [ "$(changed_of $h check)" -ge 1 ] || { show check; fail "check mode: $h not reported as changed"; }; done
grep -q "key 7    tx_bytes" "$tmp/check.log" || { show check; fail "check --diff: no plan"; }
echo "  every host still on v1, nothing recorded; each reported changed, with the plan as a diff"

echo "== 2. v2, wave by wave, in inventory order"
play rollout rollout.yml -e uptrkv_manifest="$M/demo_v2.yaml"
[ $rc = 0 ] || { show rollout; fail "rollout: exit $rc"; }
[ "$(versions)" = "2 2 2 2" ] || fail "after the rollout: versions $(versions)"
waves=$(grep -oE '"msg": "wave: [a-z0-9,]+"' "$tmp/rollout.log" | sed 's/.*wave: //; s/"//' | tr '\n' ' ')
[ "$waves" = "host1 host2,host3 host4 " ] || { show rollout; fail "waves: '$waves'"; }
echo "  waves: $waves"

echo "== 3. a re-run changes nothing"
play rerun rollout.yml -e uptrkv_manifest="$M/demo_v2.yaml"
[ $rc = 0 ] || { show rerun; fail "re-run: exit $rc"; }
for h in $HOSTS; do [ "$(changed_of $h rerun)" = 0 ] || { show rerun; fail "re-run: $h changed"; }; done
echo "  all changed=0"

echo "== 5a. state: rolled_back to_version 1, then again"
play back rolled_back.yml -e uptrkv_name=demo -e uptrkv_to_version=1
[ $rc = 0 ] || { show back; fail "rolled_back: exit $rc"; }
[ "$(versions)" = "1 1 1 1" ] || fail "after rolled_back: versions $(versions)"
play back2 rolled_back.yml -e uptrkv_name=demo -e uptrkv_to_version=1
for h in $HOSTS; do [ "$(changed_of $h back2)" = 0 ] || { show back2; fail "rolled_back again: $h changed"; }; done
echo "  every host on v1; again: all changed=0"

echo "== 4. a health gate that fails on host3"
touch "$tmp/unhealthy-host3"
rev4=$(revisions host4)
play gate rollout.yml -e uptrkv_manifest="$M/demo_v2.yaml" \
	-e "uptrkv_health_command='test ! -e $tmp/unhealthy-{{ inventory_hostname }}'"
[ $rc != 0 ] || { show gate; fail "a failed gate: the play exited 0"; }
[ "$(versions)" = "2 2 1 1" ] || { show gate; fail "after the failed gate: versions $(versions), want 2 2 1 1"; }
[ "$(revisions host4)" = "$rev4" ] || fail "host4 was touched"
grep -q "TASK \[uptrkv.fleet.canary : Roll host3 back to version 1\]" "$tmp/gate.log" || { show gate; fail "no rollback of host3"; }
"$BUILD/uptrkv" --bpffs "${FS[host3]}" -j history demo |
	json /dev/stdin 'j["revisions"][-1]["outcome"] == "rolled_back" and j["revisions"][-1]["version"] == 1 and j["revisions"][-2]["version"] == 2' | grep -qx True ||
	fail "host3's history does not end with v2 then a rollback to v1"
grep -q "wave: host4" "$tmp/gate.log" && fail "the waves went on to host4"
echo "  exit $rc; host1-2 on v2, host3 rolled back to v1, host4 untouched"
sed -n '/TASK \[uptrkv.fleet.canary : Health gate/,$p' "$tmp/gate.log" | grep -vE '^\s*$' | sed 's/^/    /'

echo "== 5b. rolled_back to_version 1 after the failed wave"
play back3 rolled_back.yml -e uptrkv_name=demo -e uptrkv_to_version=1
[ $rc = 0 ] || { show back3; fail "rolled_back: exit $rc"; }
[ "$(versions)" = "1 1 1 1" ] || fail "versions $(versions)"
[ "$(changed_of host1 back3) $(changed_of host2 back3) $(changed_of host3 back3) $(changed_of host4 back3)" = "1 1 0 0" ] ||
	{ show back3; fail "rolled_back: changed per host"; }
echo "  host1-2 changed, host3-4 already there"

echo "== the module alone: what it returns, on success and on failure"
ansible-doc uptrkv.fleet.rollout > /dev/null || fail "ansible-doc cannot read the module's documentation"
ansible-galaxy collection build ansible --output-path "$tmp" > /dev/null || fail "the collection does not build"
# adhoc NAME ARGS: the module on host1; its JSON result in $tmp/NAME.json
adhoc() {
	set +e
	ansible host1 -i "$tmp/inventory.yml" -m uptrkv.fleet.rollout -a "$2 bpffs=${FS[host1]} uptrkv=$PWD/$BUILD/uptrkv" \
		> "$tmp/$1.log" 2>&1
	rc=$?
	set -e
	sed -n '/=> {/,$p' "$tmp/$1.log" | sed '1s/.*=> {/{/' > "$tmp/$1.json"
}
adhoc ok "manifest=$M/demo_v2.yaml"
[ $rc = 0 ] || fail "module: $(cat "$tmp/ok.log")"
[ "$(json "$tmp/ok.json" 'bool(j["changed"] and j["version"] == 2 and j["previous_version"] == 1 and j["plan"]["compatible"] and type(j["timing_ms"]["total"]) in (int, float) and j["result"] == "upgraded")')" = True ] ||
	fail "module result: $(cat "$tmp/ok.json")"
sed -e 's/resize: truncate.*//' "$M/demo_v3.yaml" > "$tmp/v3_no_truncate.yaml"
adhoc refused "manifest=$tmp/v3_no_truncate.yaml"
[ $rc != 0 ] || fail "module: an incompatible change succeeded"
grep -q "^host1 | FAILED! =>" "$tmp/refused.log" || fail "module: not reported failed: $(cat "$tmp/refused.log")"
[ "$(json "$tmp/refused.json" 'j["code"] == "incompatible" and match("nothing was changed", j["msg"]) and j["plan"]["compatible"] == False and j["version"] == 2')" = True ] ||
	fail "module failure: $(cat "$tmp/refused.json")"
[ "$(version host1)" = 2 ] || fail "module: host1 changed"
echo "  version, previous_version, plan, timing_ms; failed with code incompatible and the plan"

echo "== the workloads lost nothing"
for h in $HOSTS; do
	eval "WL_PID=\$PID_$h"; WL_REPORT=$tmp/$h.report.json
	stop_workload
done
echo PASS
