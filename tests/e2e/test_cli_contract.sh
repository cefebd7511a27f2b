#!/bin/bash
# The CLI contract scripts rely on (docs/commands.md, "Exit status", "JSON",
# "Error codes"), point by point, in a private bpffs under a live workload:
# exit codes the same for every command (argp errors included), exactly one
# JSON document with -j whatever happens, stable error codes, one type per
# field, --timeout and the lock-wait message, --progress, -q, help, version,
# prefixes, "did you mean", and a --bpffs that is not a bpffs.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# err_doc CODE WHAT: the one document is an error with that code
err_doc() { one_doc "$2"; json_true "j['error'] != '' and j['code'] == '$1'" "$2: code $1"; }
UU="$BUILD/uptrkv"	# without --bpffs, for the argp and bpffs cases

echo "== exit 2 and a usage document for every argp error"
run "$UU"; expect_rc 2 "no arguments"
run "$UU" -q; expect_rc 2 "-q alone"
run "$UU" -j; expect_rc 2 "-j alone"; err_doc usage "-j alone"
run "$UU" --nosuch -j; expect_rc 2 "unknown global option before -j"; err_doc usage "--nosuch -j"
for c in validate diff rollout rollback history status dump gen undeploy help version; do
	run "$UU" -j "$c" --nosuch
	expect_rc 2 "$c --nosuch"
	err_doc usage "$c --nosuch"
	grep -q "unrecognized option '--nosuch'" "$tmp/err" && ok "$c --nosuch: argp's text on stderr" ||
		bad "$c --nosuch: stderr: $(cat "$tmp/err")"
done
run "$UU" --timeout soon status; expect_rc 2 "--timeout soon"
run "$UU" -j --progress=loud status; expect_rc 2 "--progress=loud"; err_doc usage "--progress=loud"
run "$UU" rollback; expect_rc 2 "rollback without a name"

echo "== positional arguments: declared in the command table, counted by cmd_parse"
run "$UU" status a b; expect_rc 2 "status with two names"
grep -q "too many arguments: expected \[NAME\]" "$tmp/err" && ok "status a b: too many" || bad "status a b: $(cat "$tmp/err")"
run "$UU" -j version extra; expect_rc 2 "version with an argument"; err_doc usage "version extra"
run "$UU" -j diff "$M/demo_v1.yaml"; expect_rc 2 "diff with one operand"; err_doc usage "diff with one operand"
json_true 'match("too few arguments: expected OLD NEW", j["error"])' "diff with one operand: says what it expects"
run "$UU" -j rollout; expect_rc 2 "rollout without a manifest"; err_doc usage "rollout without a manifest"
json_true 'match("no manifest given", j["error"])' "rollout without a manifest: says so"
run "$UU" gen header "$M/demo_v1.yaml" extra; expect_rc 2 "gen header with three arguments"
run "$UU" history a b; expect_rc 2 "history with two names"

echo "== one manifest loader, one wording"
for c in "rollout" "diff $M/demo_v1.yaml" "gen header -o $tmp/g.h"; do
	run "$UU" -j $c tests/unit/manifests/bad_many.yaml
	expect_rc 2 "$c: an invalid manifest"
	grep -q "bad_many.yaml:4:10: version" "$tmp/err" && ok "$c: every problem on stderr" || bad "$c: $(cat "$tmp/err")"
done
for c in rollout "diff $M/demo_v1.yaml" "gen header -o $tmp/g.h"; do
	run "$UU" -j $c tests/unit/manifests/bad_many.yaml
	json_true 'j["code"] == "invalid_manifest" and match(": tests/unit/manifests/bad_many.yaml: invalid manifest \\(5 errors\\)$", j["error"])' "$c: the one wording"
	run "$UU" -j $c "$tmp/missing.yaml"
	json_true 'j["code"] == "invalid_manifest" and match("missing.yaml: cannot read: No such file", j["error"])' "$c: a missing manifest"
done

echo "== help, version, prefixes, did you mean"
run "$UU" help; expect_rc 0 "help"; grep -q "^Usage: uptrkv " "$tmp/out" && ok "help: usage" || bad "help text"
run "$UU" -j help; expect_rc 0 "help -j"; one_doc "help -j"
json_true 'j["command"] == "uptrkv" and match("Usage:", j["help"]) and "rollout" in [c["name"] for c in j["commands"]]' "help -j: commands"
json_true 'all(c["summary"] and c["synopsis"].startswith(c["name"]) and c["example"].startswith("uptrkv " + c["name"]) for c in j["commands"])' "help -j: every command has its synopsis, summary and example"
"$UU" help > "$tmp/help.txt"
for c in $(json "$tmp/out" '" ".join(c["name"] for c in j["commands"])'); do
	grep -qE "^  $c( |$)" "$tmp/help.txt" || bad "help: $c not listed"
done
ok "help lists every command of help -j"
run "$UU" help roll; expect_rc 2 "help roll (ambiguous)"; grep -q "ambiguous command 'roll': could be rollout, rollback" "$tmp/err" && ok "ambiguous prefix named" || bad "ambiguous: $(cat "$tmp/err")"
run "$UU" -j help st; expect_rc 0 "help st -j"; json_true 'j["command"] == "uptrkv status" and match("Exit status", j["help"])' "help st -j: status's help"
run "$UU" status --help -j; expect_rc 0 "status --help -j"; one_doc "status --help -j"
run "$UU" --version; expect_rc 0 "--version"
grep -qE '^uptrkv [0-9.]+ \(git [^)]+\), libbpf v?[0-9]' "$tmp/out" && ok "--version: uptrkv, git, libbpf" || bad "--version: $(cat "$tmp/out")"
run "$UU" -j --version; expect_rc 0 "-j --version"; one_doc "-j --version"
json_true 'isinstance(j["version"], str) and len(j["git"]) > 0 and len(j["libbpf"]) > 0' "-j --version: fields"
run "$UU" version -p; expect_rc 0 "version -p"; json_true 'j["git"] and j["libbpf"]' "version -p"
run "$UU" --bpffs "$bpffs" st -j; expect_rc 0 "st = status"; json_true 'j["deployments"] == []' "st -j: no deployments"
run "$UU" stauts; expect_rc 2 "stauts"
grep -q "unknown command 'stauts': did you mean 'status'?" "$tmp/err" && ok "did you mean status" || bad "typo: $(cat "$tmp/err")"
run "$UU" -j frobnicate; expect_rc 2 "unknown command"; err_doc usage "unknown command"

echo "== a --bpffs that is not a bpffs: an error for every command but rollout"
mkdir "$tmp/plain"
for fs in "$tmp/typo" "$tmp/plain"; do
	code=not_found; [ "$fs" = "$tmp/plain" ] && code=not_bpffs
	for c in "status" "status demo" "history demo" "dump $$" "diff deployed:demo $M/demo_v1.yaml" "rollback demo" "undeploy demo"; do
		run "$UU" --bpffs "$fs" -j $c
		expect_rc 2 "--bpffs ${fs##*/} $c"
		err_doc $code "--bpffs ${fs##*/} $c"
	done
done
run "$UU" --bpffs "$tmp/typo" status; grep -q "no deployments" "$tmp/out" && bad "status on a typo says no deployments" || ok "status on a typo does not say 'no deployments'"
[ -e "$tmp/typo" ] && bad "a read-only command created $tmp/typo" || ok "nothing created at the typo"
# rollout alone mounts; -q keeps the note about it off stderr
run "$UU" --bpffs "$tmp/fresh" -q rollout "$M/demo_v1.yaml"
expect_rc 0 "rollout -q mounts a fresh bpffs"
[ -s "$tmp/err" ] && bad "rollout -q: stderr: $(cat "$tmp/err")" || ok "rollout -q: nothing on stderr"
"$UU" --bpffs "$tmp/fresh" undeploy demo >/dev/null; umount "$tmp/fresh"
run "$UU" --bpffs "$tmp/fresh2" rollout "$M/demo_v1.yaml"
grep -q "mounted bpffs at $tmp/fresh2" "$tmp/err" && ok "rollout without -q says it mounted" || bad "mount note: $(cat "$tmp/err")"
"$UU" --bpffs "$tmp/fresh2" undeploy demo >/dev/null; umount "$tmp/fresh2"

echo "== v1 deployed under a live workload; --progress"
run U rollout "$M/demo_v1.yaml" --progress=plain
expect_rc 0 "rollout v1 --progress=plain"
grep -q "^uptrkv: preflight: " "$tmp/err" && ok "plain: the preflight phase" || bad "plain: $(cat "$tmp/err")"
start_workload main -t 2
run U -j status demo
expect_rc 0 "status -j"; one_doc "status -j"
json_true 'match("^0x[0-9a-f]{8,16}$", j["deployments"][0]["layout_hash"]) and match("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", j["deployments"][0]["deployed_at"])' \
	"status: layout_hash hex string, deployed_at RFC 3339 UTC"
run U -j status nosuch; expect_rc 1 "status nosuch"; err_doc not_found "status nosuch"
run U -j history nosuch; expect_rc 1 "history nosuch"; err_doc not_found "history nosuch"

echo "== layout hashes are hex strings everywhere"
run U -j validate "$M/demo_v2.yaml"; json_true 'match("^0x[0-9a-f]{8,16}$", j["manifests"][0]["layout_hash"])' "validate: layout_hash"
run U -j diff deployed:demo "$M/demo_v2.yaml"; expect_rc 1 "diff deployed:demo v2"
json_true 'match("^0x[0-9a-f]{8}", j["old_hash"]) and match("^0x[0-9a-f]{8}", j["new_hash"])' "diff: old_hash, new_hash"
run U -j gen header "$M/demo_v2.yaml" -o "$tmp/h.h"; json_true 'match("^0x[0-9a-f]{8}", j["layout_hash"])' "gen header: layout_hash"
run U -j history demo; json_true 'all(match("^0x[0-9a-f]{8}", r["layout_hash"]) for r in j["revisions"])' "history: layout_hash"
json_true 'all(match("^[0-9-]{10}T[0-9:]{8}Z$", r["when"]) for r in j["revisions"])' "history: when RFC 3339 UTC"

echo "== diff: 0 same, 1 can be rolled out, 2 error, 3 cannot be rolled out"
sed -e 's/resize: truncate.*//' "$M/demo_v3.yaml" >"$tmp/v3_no_truncate.yaml"
run U diff deployed:demo "$M/demo_v1.yaml"; expect_rc 0 "diff: no difference"
run U diff deployed:demo "$M/demo_v2.yaml"; expect_rc 1 "diff: compatible"
run U diff deployed:demo "$tmp/missing.yaml"; expect_rc 2 "diff: missing file"
run U diff "$M/demo_v2.yaml" "$tmp/v3_no_truncate.yaml"; expect_rc 3 "diff: incompatible"

echo "== error codes of refused rollouts; a refused dry run carries its plan"
run U rollout "$M/demo_v2.yaml" --progress=plain
expect_rc 0 "rollout v2 --progress=plain"
grep -qE "^uptrkv: migrate: ([0-9]+)/\1 stores$" "$tmp/err" && ok "plain: one count line for migrate" || bad "plain: $(cat "$tmp/err")"
grep -q $'\r' "$tmp/err" && bad "plain progress has carriage returns" || ok "plain: no carriage returns"
# what a refusal must not change
deployment_state() { U -j status demo >"$tmp/st.json" && json -c "$tmp/st.json" '[j["deployments"][0][k] for k in ("version", "generation", "programs")]'; }
state_before=$(deployment_state)
run U -j rollout "$tmp/v3_no_truncate.yaml" --dry-run
expect_rc 1 "rollout --dry-run incompatible"; err_doc incompatible "rollout --dry-run incompatible"
json_true 'j["plan"]["compatible"] == False and len([c for c in j["plan"]["changes"] if c.get("refused")]) == 1' "refused dry run: the plan shows why"
run U -j rollout "$tmp/v3_no_truncate.yaml"; expect_rc 1 "rollout incompatible"; err_doc incompatible "rollout incompatible"
sed "s|^object: .*|object: $PWD/$BUILD/bpf/demo_bad_verifier.bpf.o|; s/^version: 2/version: 5/" "$M/demo_v2.yaml" >"$tmp/bad_verifier.yaml"
run U -j rollout "$tmp/bad_verifier.yaml"; expect_rc 1 "rollout: verifier rejects"; err_doc verifier "verifier"
sed "s|^object: .*|object: $PWD/$BUILD/bpf/demo_v1.bpf.o|" "$M/demo_v3.yaml" >"$tmp/mismatch.yaml"
run U -j rollout "$tmp/mismatch.yaml"; expect_rc 1 "rollout: object of another layout"; err_doc object_mismatch "object_mismatch"
run U -j rollout "$tmp/missing.yaml"; expect_rc 2 "rollout: missing manifest"; err_doc invalid_manifest "missing manifest"
[ "$(deployment_state)" = "$state_before" ] &&
	ok "refusals changed nothing" || bad "refusals changed the deployment"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/uptrkv" --bpffs "$bpffs" -j status demo
expect_rc 1 "status as nobody"; err_doc permission "status as nobody"
stop_workload

echo "== no_space: a store without room for the new layout"
U rollback demo >/dev/null
start_workload small -t 1 --reserve 4096
run U -j rollout "$M/demo_v2.yaml"; expect_rc 1 "rollout: no space"; err_doc no_space "no_space"
stop_workload

echo "== --timeout and the lock-wait message"
# A rollout that holds the lock for 2 s (paused at the switch).
UPTRKV_TEST_PAUSE_AT=switch "$BUILD/uptrkv" --bpffs "$bpffs" rollout "$M/demo_v2.yaml" >"$tmp/holder.out" 2>"$tmp/holder.err" &
holder=$!
wait_for 5 grep -q "paused at switch" "$tmp/holder.err" || fail "the holder never paused: $(cat "$tmp/holder.err")"
run U -j --timeout 0 rollback demo
expect_rc 1 "--timeout 0 while another holds the lock"; err_doc lock_timeout "--timeout 0"
grep -q "waiting for the lock" "$tmp/err" && bad "--timeout 0 waited" || ok "--timeout 0 does not wait"
run U --timeout "$(scaled 30)" rollout "$M/demo_v2.yaml"
expect_rc 0 "--timeout 30 waits for the holder"
grep -qE "^uptrkv: waiting for the lock on deployment demo held by pid $holder \(.*uptrkv .*rollout .*demo_v2.yaml\)$" "$tmp/err" &&
	ok "the wait names the holder's pid and command" || bad "wait message: $(cat "$tmp/err")"
wait $holder || fail "the holder failed: $(cat "$tmp/holder.err")"

echo "== --progress=json: one object per line on stderr"
run U rollback demo --progress=json
expect_rc 0 "rollback --progress=json"
json_lines_true 'isinstance(j["phase"], str)' "progress json: one object per line" "$tmp/err"
run U rollout "$M/demo_v2.yaml" --progress=none
[ -s "$tmp/err" ] && bad "--progress=none: $(cat "$tmp/err")" || ok "--progress=none: quiet"

