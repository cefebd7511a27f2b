#!/bin/bash
# `uptrkv dump` end to end (root, real BPF, private bpffs):
#  - a multi-threaded workload (tests/e2e/dump_app.c) registers stores through
#    lib/store.c with keys of every type, incl. 4096-byte bytes and string
#    values; a BPF program adds to one key; the workload writes its own view;
#    dump's JSON (parsed) and text (parsed) must match it exactly;
#  - --key filters, a thread id, a bare store (--store, with and without
#    --manifest), several deployments holding one process;
#  - errors: no store (1), no such PID (2), bad PID (2), unknown key (2),
#    unknown deployment (2), foreign magic / format (1, refused), no CAP_BPF;
#  - consistency: a 4 KiB value rewritten without pause is never torn;
#  - size: 64 threads x 1024 keys, every value checked (the time is printed,
#    not asserted; make bench measures it).
set -euo pipefail
source "$(dirname "$0")/env.sh"
E=$BUILD/tests/e2e
need_built "$E/dump_app" "$E/dump_mkdeploy"
fs=$bpffs
app_pids=() app_fds=()
# The apps end on SIGTERM, the way they are meant to, before env.sh's cleanup.
stop_apps() { local p; for p in "${app_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
at_exit stop_apps

# spawn IN OUT ERR CMD...: runs CMD in the background with those files as
# stdin, stdout and stderr, and without the write ends of the apps' stdin
# fifos, which would keep those apps from ever seeing EOF. The redirections
# happen in the child: opening a fifo blocks until its other end is open.
spawn() {
	local in=$1 out=$2 err=$3; shift 3
	(
		for f in "${app_fds[@]}"; do eval "exec $f>&-"; done
		exec "$@" <"$in" >"$out" 2>"$err"
	) &
	app_pids+=("$!")
}

# start_app NAME ARGS...: runs dump_app with stdin on a fifo kept open by
# this shell (closing it ends the app); waits for "ready"; sets APP_PID and
# APP_FD.
start_app() {
	local name=$1; shift
	mkfifo "$tmp/$name.in"
	spawn "$tmp/$name.in" "$tmp/$name.out" "$tmp/$name.err" "$E/dump_app" "$@"
	APP_PID=$!
	exec {APP_FD}>"$tmp/$name.in"
	app_fds+=("$APP_FD")
	wait_line 30 ready "$tmp/$name.out" "$APP_PID" && return 0
	cat "$tmp/$name.err" >&2
	fail "dump_app $name did not get ready"
}

# stop_app PID FD: closes its stdin and checks it exited cleanly (ASan too).
stop_app() {
	eval "exec $2>&-"
	wait "$1" || fail "dump_app $1 exited with $?"
}

# expect_exit CODE PATTERN CMD...: runs CMD, checks status and stderr.
expect_exit() {
	local code=$1 pat=$2 rc=0; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$code" ] || { cat "$tmp/err" >&2; fail "$* exited $rc, expected $code"; }
	grep -q -- "$pat" "$tmp/err" || { cat "$tmp/err" >&2; fail "$*: stderr lacks '$pat'"; }
}

# ---------------------------------------------------------------- setup
"$E/dump_app" manifest "$PWD/$BUILD/bpf/test_dump.bpf.o" >"$tmp/dumptest.yaml"
"$UPTRKV" validate "$tmp/dumptest.yaml" >/dev/null
dir=$("$E/dump_mkdeploy" "$fs" "$tmp/dumptest.yaml")

start_app run run "$dir" "$tmp/view.json" 4
run_pid=$APP_PID run_fd=$APP_FD

# ------------------------------------------------------- JSON and text
U dump "$run_pid" --json >"$tmp/dump.json"
U dump "$run_pid" >"$tmp/dump.txt"
python3 - "$tmp/view.json" "$tmp/dump.json" "$tmp/dump.txt" <<'EOF'
import json, sys
view = json.load(open(sys.argv[1]))
dump = json.load(open(sys.argv[2]))
text = open(sys.argv[3]).read().splitlines()

def fail(msg):
    sys.exit("mismatch: " + msg)

for f in ("pid", "deployment", "version"):
    if dump[f] != view[f]:
        fail(f"{f}: dump {dump[f]!r} view {view[f]!r}")
if [t["tid"] for t in dump["threads"]] != [t["tid"] for t in view["threads"]]:
    fail("threads %r vs %r" % ([t["tid"] for t in dump["threads"]],
                               [t["tid"] for t in view["threads"]]))
nkeys = 0
for dt, vt in zip(dump["threads"], view["threads"]):
    if len(dt["keys"]) != len(vt["keys"]):
        fail(f"tid {vt['tid']}: {len(dt['keys'])} keys, expected {len(vt['keys'])}")
    for dk, vk in zip(dt["keys"], vt["keys"]):
        if "changing" in dk:
            fail(f"tid {vt['tid']} key {vk['id']} reported changing")
        got = {f: dk[f] for f in ("id", "name", "type", "size", "value")}
        if got != vk:
            fail(f"tid {vt['tid']} key {vk['id']}: {got!r} != {vk!r}"[:600])
        nkeys += 1

# The text table, rebuilt from the view with dump's documented rules.
def text_value(k):
    t, v = k["type"], k["value"]
    if t == "bool":
        return "true" if v else "false"
    if t == "string":
        b = v.encode()
        cut = len(b) > 64
        out = ""
        for c in b[:64]:
            ch = chr(c)
            if ch == '"': out += '\\"'
            elif ch == '\\': out += '\\\\'
            elif ch == '\n': out += '\\n'
            elif ch == '\t': out += '\\t'
            elif ch == '\r': out += '\\r'
            elif c < 0x20 or c >= 0x7f: out += "\\x%02x" % c
            else: out += ch
        return '"' + out + ('"...' if cut else '"')
    if t == "bytes":
        h = v[2:]
        return "0x" + h[:64] + ("..." if len(h) > 64 else "")
    return str(v)

rows, tid = {}, None
for line in text:
    s = line.split()
    if len(s) >= 2 and s[0] == "tid":
        tid = int(s[1].rstrip(":"))
        continue
    if tid is None or not s or not s[0].isdigit():
        continue
    kid, name, typ, size, val = line.split(None, 4)
    rows[(tid, int(kid))] = (None if name == "-" else name, typ, int(size), val)
if not text[0].startswith(f"PID {view['pid']}: deployment dumptest, version 3"):
    fail("text header: " + text[0])
for vt in view["threads"]:
    for vk in vt["keys"]:
        want = (vk["name"], vk["type"], vk["size"], text_value(vk))
        got = rows.pop((vt["tid"], vk["id"]), None)
        if got != want:
            fail(f"text tid {vt['tid']} key {vk['id']}: {got!r} != {want!r}"[:600])
if rows:
    fail(f"text has extra rows {list(rows)[:5]}")
print(f"{len(view['threads'])} threads, {nkeys} keys equal in JSON and text")
EOF
ok "dump matches the workload's own view (JSON and text, every type, 4 KiB values, BPF-written key)"

# ------------------------------------------------------------- filters
U dump "$run_pid" --key c_u64 --key 40 --key big_str -j >"$tmp/f.json"
python3 - "$tmp/f.json" "$tmp/view.json" <<'EOF'
import json, sys
d, v = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for dt, vt in zip(d["threads"], v["threads"]):
    want = [k for k in vt["keys"] if k["id"] in (3, 12, 40)]
    got = [{f: k[f] for f in ("id", "name", "type", "size", "value")} for k in dt["keys"]]
    assert got == want, (got, want)
EOF
ok "--key by name and by id"

tid=$(json "$tmp/view.json" 'j["threads"][1]["tid"]')
U dump "$tid" -j >"$tmp/t.json"
python3 - "$tmp/t.json" "$tmp/view.json" "$tid" <<'EOF'
import json, sys
d, v, tid = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert d["pid"] == tid, d["pid"]
assert [t["tid"] for t in d["threads"]] == [tid], [t["tid"] for t in d["threads"]]
vt = [t for t in v["threads"] if t["tid"] == tid][0]
got = [{f: k[f] for f in ("id", "name", "type", "size", "value")} for k in d["threads"][0]["keys"]]
assert got == vt["keys"]
EOF
ok "a thread id dumps only that thread"

# A bare store: by id as bytes, then decoded by a manifest given by hand.
U dump "$run_pid" --store "$dir/store" -j >"$tmp/b.json"
U dump "$run_pid" --store "$dir/store" --manifest "$tmp/dumptest.yaml" -j >"$tmp/bm.json"
python3 - "$tmp/b.json" "$tmp/bm.json" "$tmp/dump.json" <<'EOF'
import json, struct, sys
b, bm, full = (json.load(open(p)) for p in sys.argv[1:4])
assert b["deployment"] is None and b["version"] is None
fmt = {"u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q", "s8": "<b", "s16": "<h",
       "s32": "<i", "s64": "<q", "bool": "<?"}
for bt, ft in zip(b["threads"], full["threads"]):
    assert bt["tid"] == ft["tid"]
    for bk, fk in zip(bt["keys"], ft["keys"]):
        assert bk["id"] == fk["id"] and bk["size"] == fk["size"]
        assert bk["name"] is None and bk["type"] == "bytes", bk
        raw = bytes.fromhex(bk["value"][2:])
        if fk["type"] in fmt:
            assert struct.unpack(fmt[fk["type"]], raw)[0] == fk["value"], (bk, fk)
        elif fk["type"] == "string":
            s = fk["value"].encode()
            assert raw[:len(s)] == s and (len(s) == len(raw) or raw[len(s)] == 0), (fk["id"], raw[:40], s[:40])
        else:
            assert bk["value"] == fk["value"]
for x, y in zip(bm["threads"], full["threads"]):
    for kx, ky in zip(x["keys"], y["keys"]):
        assert kx == ky, (str(kx)[:200], str(ky)[:200])
assert len(bm["threads"]) == len(full["threads"])
assert bm["version"] == 3
EOF
ok "bare store by id as bytes; with --manifest decoded like the deployment"

# ---------------------------------------------------------------- errors
spawn /dev/null /dev/null /dev/null sleep 1000
nostore=$!
expect_exit 1 "no uptrkv store registered for PID $nostore" U dump "$nostore"
rc=0; U dump "$nostore" --json >"$tmp/e.json" 2>/dev/null || rc=$?
[ $rc = 1 ] && [ "$(json "$tmp/e.json" 'match("no uptrkv store registered", j["error"])')" = True ] ||
	fail "--json error document: rc $rc $(cat "$tmp/e.json")"
ok "PID without a store: exit 1 (text and JSON)"

gone=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
while [ -e "/proc/$gone" ]; do gone=$((gone - 1)); done
expect_exit 2 "no such process" U dump "$gone"
expect_exit 2 "not a PID" U dump abc
expect_exit 2 "expected a PID" U dump
expect_exit 2 "no key of that name" U dump "$run_pid" --key no_such_key
expect_exit 2 "not deployed" U dump "$run_pid" --deployment nosuch
ok "no such PID, bad PID, unknown key, unknown deployment: exit 2"

start_app badmagic badmagic "$dir/store"
expect_exit 1 "magic 0xdeadbeef" U dump "$APP_PID"
grep -q "refusing" "$tmp/err" || fail "foreign magic: no refusal"
stop_app "$APP_PID" "$APP_FD"
start_app badformat badformat "$dir/store"
# dump_app writes the format this build reads, plus 7
fmt=$(sed -n 's/^#define UPTRKV_FORMAT[[:space:]]*\([0-9]*\)u.*/\1/p' bpf/uptrkv_layout.h)
expect_exit 1 "format $((fmt + 7)) is not understood" U dump "$APP_PID"
stop_app "$APP_PID" "$APP_FD"
ok "foreign magic and unknown format are refused"

expect_exit 1 "CAP_BPF" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$UPTRKV" --bpffs "$fs" dump "$run_pid"
ok "without privileges the error names CAP_BPF"

# Two deployments holding one process: {"pid", "deployments": [...]}.
sed -e 's/^name: dumptest/name: dumptwo/' "$tmp/dumptest.yaml" >"$tmp/dumptwo.yaml"
dir2=$("$E/dump_mkdeploy" "$fs" "$tmp/dumptwo.yaml")
start_app two run "$dir2" "$tmp/view2.json" 2
U dump "$APP_PID" -j >"$tmp/one.json"
[ "$(json "$tmp/one.json" 'j["deployment"] == "dumptwo" and len(j["threads"]) == 2')" = True ] ||
	fail "one matching deployment: $(head -c 300 "$tmp/one.json")"
stop_app "$APP_PID" "$APP_FD"
ok "of several deployments only the one holding the PID is dumped"

start_app both two "$dir" "$dir2" 2
U dump "$APP_PID" -j >"$tmp/both.json"
python3 - "$tmp/both.json" "$APP_PID" <<'EOF'
import json, sys
d, pid = json.load(open(sys.argv[1])), int(sys.argv[2])
assert set(d) == {"pid", "deployments"} and d["pid"] == pid, list(d)
assert [x["deployment"] for x in d["deployments"]] == ["dumptest", "dumptwo"]
for x, want in zip(d["deployments"], (1, 2)):
    assert x["version"] == 3 and len(x["threads"]) == 2, x
    for t in x["threads"]:
        assert [(k["name"], k["value"]) for k in t["keys"]] == [("c_u8", want)], t
EOF
U dump "$APP_PID" --deployment dumptwo -j >"$tmp/both2.json"
[ "$(json "$tmp/both2.json" 'j["deployment"] == "dumptwo" and [t["keys"][0]["value"] for t in j["threads"]] == [2, 2]')" = True ] ||
	fail "--deployment dumptwo: $(cat "$tmp/both2.json")"
stop_app "$APP_PID" "$APP_FD"
ok "a process in two deployments: {pid, deployments: [...]}; --deployment gives the spec's shape"

# ----------------------------------------------------------- consistency
# churn_dumps PAUSE_US TRIES: 20 dumps of a value rewritten every PAUSE_US;
# fails on a torn value reported as stable; sets CHANGING to the number of
# dumps that marked it changing.
churn_dumps() {
	start_app "churn$1" churn "$dir" "$1"
	CHANGING=0
	for _ in $(seq 20); do
		U dump "$APP_PID" --key big_blob --tries "$2" -j >"$tmp/c.json"
		c=$(python3 - "$tmp/c.json" <<'EOF'
import json, sys
k = json.load(open(sys.argv[1]))["threads"][0]["keys"][0]
h = k["value"][2:]
if k.get("changing"):
    print(1)
elif h != h[:2] * 4096:
    sys.exit("torn value reported as stable: " + h[:80])
else:
    print(0)
EOF
)
		CHANGING=$((CHANGING + c))
	done
	stop_app "$APP_PID" "$APP_FD"
}
churn_dumps 0 8
ok "a 4 KiB value rewritten without pause: never torn ($CHANGING of 20 dumps marked it changing)"
churn_dumps 50 8
[ "$CHANGING" -le 2 ] || fail "a value rewritten every 50 us was changing in $CHANGING of 20 dumps"
ok "a 4 KiB value rewritten every 50 us: read stable by retrying ($CHANGING of 20 dumps marked it changing)"

stop_app "$run_pid" "$run_fd"

# ----------------------------------------------------------- performance
"$E/dump_app" perf-manifest "$PWD/$BUILD/bpf/test_dump.bpf.o" >"$tmp/perf.yaml"
pdir=$("$E/dump_mkdeploy" "$fs" "$tmp/perf.yaml")
start_app perf perf "$pdir" 64
# Best of three, so that other load on the machine does not decide it.
best_ms() {
	local best=999999 t0 ms
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		U dump "$APP_PID" --deployment dumpperf "$@" >"$tmp/p.out"
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$ms" -lt "$best" ] && best=$ms
	done
	echo "$best"
}
jms=$(best_ms -j)
cp "$tmp/p.out" "$tmp/p.json"
tms=$(best_ms)
python3 - "$tmp/p.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["threads"]) == 64, len(d["threads"])
for t in d["threads"]:
    assert [k["value"] for k in t["keys"]] == [(t["tid"] << 32) | i for i in range(1024)]
EOF
stop_app "$APP_PID" "$APP_FD"
# A test asserts no time on a shared machine: the figure is printed, and
# make bench measures dump beside its baselines (docs/benchmarks.md).
echo "dump 64 threads x 1024 keys: json ${jms} ms, text ${tms} ms, best of 3 ($(wc -c <"$tmp/p.json") bytes of JSON)"
ok "64 threads x 1024 keys dumped, every value checked"
echo "all dump tests passed"
