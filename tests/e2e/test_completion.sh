#!/bin/bash
# completion/uptrkv driven as bash drives it (COMP_WORDS, COMP_CWORD, then
# _uptrkv, then COMPREPLY), against the uptrkv under test, root, real BPF,
# private bpffs (env.sh):
#  - the commands offered are exactly those `uptrkv help -j` lists, and a
#    prefix completes to its commands;
#  - a command's options are exactly those its --help gives;
#  - deployment names come from the --bpffs on the line (both spellings),
#    and none from another bpffs;
#  - dump offers the PID of an application that has a store;
#  - rollout offers manifests (*.yaml), gen offers "header", --progress its
#    modes.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# The completion runs "uptrkv" from PATH, as a user's shell would.
mkdir -p "$tmp/bin"
ln -s "$PWD/$BUILD/uptrkv" "$tmp/bin/uptrkv"
export PATH=$tmp/bin:$PATH
source completion/uptrkv

# comp WORD...: completes the last word; the candidates in $tmp/got, sorted.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	# As bash calls it: not under this script's set -e (a compgen that
	# finds nothing returns 1).
	_uptrkv || true
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort > "$tmp/got"
}
# same WHAT FILE: the candidates equal FILE's lines.
same() {
	sort "$2" | diff -u - "$tmp/got" > "$tmp/diff" || fail "$1: wanted (-), got (+): $(cat "$tmp/diff")"
	echo "ok   $1: $(tr '\n' ' ' < "$tmp/got")"
}
want() { printf '%s\n' "$@" > "$tmp/want"; }

uptrkv help -j > "$tmp/help.json"
json "$tmp/help.json" "chr(10).join(c['name'] for c in j['commands'])" > "$tmp/commands"
[ -s "$tmp/commands" ] || fail "uptrkv help -j lists no command"
comp uptrkv ""
same "commands = uptrkv help -j" "$tmp/commands"
comp uptrkv -j --bpffs "$bpffs" ""
same "commands after global options" "$tmp/commands"
grep '^ro' "$tmp/commands" > "$tmp/want"
comp uptrkv ro
same "prefix ro" "$tmp/want"

for c in rollout dump validate; do
	uptrkv "$c" --help | sed -nE 's/^ +(-[a-zA-Z], )?(--[a-z][a-z-]*).*/\2/p' > "$tmp/want"
	echo --help >> "$tmp/want"
	grep -qx -- --bpffs "$tmp/want" || fail "$c --help names no --bpffs: the option parsing here is wrong"
	comp uptrkv "$c" --
	same "$c options = $c --help" "$tmp/want"
done
comp uptrkv rollout --dr
want --dry-run; same "rollout --dr" "$tmp/want"

echo "== deployments from the bpffs on the line"
U rollout "$M/demo_v1.yaml" -q > /dev/null
mkdir -p "$tmp/other"
mount -t bpf bpf "$tmp/other"
EXTRA_BPFFS+=("$tmp/other")
want demo
comp uptrkv --bpffs "$bpffs" rollback ""
same "rollback, --bpffs DIR" "$tmp/want"
comp uptrkv --bpffs = "$bpffs" status ""	# how readline splits --bpffs=DIR
same "status, --bpffs=DIR" "$tmp/want"
comp uptrkv history --bpffs "$bpffs" ""
same "history, --bpffs after the command" "$tmp/want"
want deployed:demo
comp uptrkv --bpffs "$bpffs" diff deployed:
grep '^deployed:' "$tmp/got" > "$tmp/got2" || true; mv "$tmp/got2" "$tmp/got"
same "diff deployed:NAME" "$tmp/want"
want demo	# as readline splits deployed:d at the colon
comp uptrkv --bpffs "$bpffs" diff deployed : d
same "diff deployed : d" "$tmp/want"
comp uptrkv --bpffs "$bpffs" diff deployed :
same "diff deployed :" "$tmp/want"
: > "$tmp/want"
comp uptrkv --bpffs "$tmp/other" undeploy ""
same "undeploy on another bpffs: nothing" "$tmp/want"

echo "== dump: PIDs with a store"
start_workload wl -t 2
comp uptrkv dump ""
grep -qx "$WL_PID" "$tmp/got" || fail "dump: the workload's PID $WL_PID is not offered: $(tr '\n' ' ' < "$tmp/got")"
grep -qx "$$" "$tmp/got" && fail "dump: offers this shell's PID, which has no store"
echo "ok   dump offers the workload's PID $WL_PID ($(wc -l < "$tmp/got") offered)"
stop_workload > /dev/null

echo "== files and values"
mkdir -p "$tmp/m"
touch "$tmp/m/a.yaml" "$tmp/m/b.yaml" "$tmp/m/c.txt"
want "$tmp/m/a.yaml" "$tmp/m/b.yaml"
comp uptrkv rollout "$tmp/m/"
same "rollout: manifests only" "$tmp/want"
comp uptrkv gen header "$tmp/m/"
same "gen header: manifests" "$tmp/want"
want header
comp uptrkv gen ""
same "gen" "$tmp/want"
want auto json none plain
comp uptrkv rollout x.yaml --progress ""
same "--progress" "$tmp/want"
echo "PASS"
