#!/bin/bash
# Small values come home to data page 0 (issue 16; root, real BPF, private
# bpffs; tests/e2e/env.sh). A BPF get of a value of up to 8 bytes takes its
# fast path only in page 0 (docs/store.md), so a rollout moves a kept small
# value that lives elsewhere into page 0 when page 0 has room:
#  - v1: 1024 u64 keys in each thread of a real app (lib/store.c): 512 in
#    page 0, 512 in page 1, as `dump -j` shows ("page");
#  - v2 drops k0..k99: their units in page 0 stay owned by v1 during that
#    rollout, so nothing moves yet;
#  - v3 adds a 16-byte key: now page 0 has room for 100 of the page-1 keys,
#    and exactly 100 of them come home, every value intact; the rollout
#    reports them moved;
#  - a rollback to v2 leaves them home: it is a layout, not a placement.
set -euo pipefail
source "$(dirname "$0")/env.sh"
E=$BUILD/tests/e2e
need_built "$E/dump_app" "$BUILD/bpf/bench_rollout.bpf.o"
obj=$PWD/$BUILD/bpf/bench_rollout.bpf.o
app_pid=

# manifest VERSION FIRST [EXTRA]: keys kFIRST..k1023 (u64), plus EXTRA lines.
manifest() {
	{
		printf 'apiVersion: uptrkv/v1\nname: dumpperf\nversion: %s\nobject: %s\nkeys:\n' "$1" "$obj"
		for ((k = $2; k < 1024; k++)); do printf '  - {id: %d, name: k%d, size: 8, type: u64}\n' "$k" "$k"; done
		[ -z "${3:-}" ] || printf '%s\n' "$3"
	} >"$M/home_v$1.yaml"
}
manifest 1 0
manifest 2 100
manifest 3 100 '  - {id: 0, name: wide, size: 16}'

stop_app() { [ -z "$app_pid" ] || kill "$app_pid" 2>/dev/null || true; }
at_exit stop_app

# The object is the benchmark's, built for no one layout in particular.
U rollout "$M/home_v1.yaml" --allow-unbound-object >/dev/null
mkfifo "$tmp/app.in"
"$E/dump_app" perf "$bpffs/uptrkv/dumpperf" 3 <"$tmp/app.in" >"$tmp/app.out" 2>"$tmp/app.err" &
app_pid=$!
exec {app_fd}>"$tmp/app.in"
wait_line 30 ready "$tmp/app.out" "$app_pid" || { cat "$tmp/app.err" >&2; fail "dump_app did not get ready"; }

# pages WANT_PAGE0 WANT_PAGE1 LABEL: every thread's keys by page, and every
# value as the app wrote it (tid << 32 | id).
pages() {
	U dump "$app_pid" -j >"$tmp/d.json"
	python3 - "$tmp/d.json" "$1" "$2" <<'EOF' && ok "$3" || bad "$3"
import json, sys
d = json.load(open(sys.argv[1]))
want = (int(sys.argv[2]), int(sys.argv[3]))
assert len(d["threads"]) == 3, len(d["threads"])
for t in d["threads"]:
    small = [k for k in t["keys"] if k["size"] == 8]
    got = (sum(k["page"] == 0 for k in small), sum(k["page"] == 1 for k in small))
    assert got == want, (t["tid"], got, want)
    for k in small:
        assert k["value"] == (t["tid"] << 32) | k["id"], (t["tid"], k)
print(f"{len(d['threads'])} threads: {want[0]} small keys in page 0, {want[1]} in page 1, values intact")
EOF
}

pages 512 512 "v1: 512 keys in page 0, 512 in page 1"
U rollout "$M/home_v2.yaml" --allow-unbound-object -j >"$tmp/r2.json"
pages 412 512 "v2: dropped keys' space was still v1's, nothing moved"
U rollout "$M/home_v3.yaml" --allow-unbound-object -j >"$tmp/r3.json"
pages 512 412 "v3: 100 small keys came home to page 0"
json_true 'j["moved"] == 300 and j["move_pending"] == 0' \
	"the rollout reports the 300 moves (100 in each of 3 threads), none pending" "$tmp/r3.json"
U rollback dumpperf --allow-unbound-object >/dev/null
pages 512 412 "rolled back to v2: they stay home"
exec {app_fd}>&-
wait "$app_pid" || fail "dump_app exited with $?"
app_pid=
