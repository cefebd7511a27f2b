#!/bin/bash
# One deployment, five kinds of hooks switched together by the generation
# word: tp_btf/sys_enter, raw_tp/sys_enter, a uprobe on libc's sendto(), XDP
# on lo and cgroup_skb egress on the cgroup v2 root. A sender sends UDP
# packets to a test port (seen by the uprobe, on egress and on ingress) and
# calls getpgid(47999) (seen by raw_tp), while versions are switched back
# and forth. On each hook the counts summed over versions must equal what
# was sent (no event handled by no program, none by two), and every version
# must have handled some.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# The libc the sender (python3) really maps, for the uprobe.
LIBC=$(python3 -c "print(next(l.split()[-1] for l in open('/proc/self/maps') if '/libc.so' in l or '/libc-' in l))")
[ -f "$LIBC" ] || fail "cannot find the libc python3 uses"
CGROUP=/sys/fs/cgroup/unified
[ "$(stat -f -c %T "$CGROUP" 2>/dev/null)" = cgroup2fs ] || CGROUP=/sys/fs/cgroup
[ "$(stat -f -c %T "$CGROUP" 2>/dev/null)" = cgroup2fs ] || skip "no cgroup v2 hierarchy"
# The layouts the objects were built for (the Makefile generates their
# headers from these files), with this machine's programs and targets.
for v in 1 2; do
	sed "s|^object: .*|object: $PWD/$BUILD/bpf/mixed_v$v.bpf.o|" tests/e2e/manifests/mixed_v$v.yaml > "$M/mixed_v$v.yaml"
	cat >> "$M/mixed_v$v.yaml" <<YAML
programs:
  - on_enter
  - on_raw_enter
  - name: on_sendto
    attach: uprobe:$LIBC:sendto
  - name: on_xdp
    attach: xdp:lo
  - name: on_egress
    attach: cgroup:$CGROUP
YAML
done

echo "== an XDP program without attach: is refused with a clear error"
sed '/name: on_xdp/,+1d; s/  - on_enter/  - on_enter\n  - on_xdp/' "$M/mixed_v1.yaml" > "$M/bad.yaml"
set +e; U rollout "$M/bad.yaml" 2> "$tmp/bad.err"; rc=$?; set -e
[ $rc = 1 ] || fail "xdp without attach: exit $rc"
grep -q "needs a target" "$tmp/bad.err" || fail "message: $(cat "$tmp/bad.err")"

echo "== deploy v1: one entry per hook: tp_btf, raw_tp, uprobe, XDP, cgroup_skb"
U rollout "$M/mixed_v1.yaml"
U status mixed -j > "$tmp/st.json"
json "$tmp/st.json" '"\n".join("  %s on %s via %s link" % (p["name"], p["hook"], p["link_type"]) for p in j["deployments"][0]["programs"])'
[ "$(json "$tmp/st.json" 'sorted(p["link_type"] for p in j["deployments"][0]["programs"])')" = "['cgroup', 'perf_event', 'raw_tracepoint', 'raw_tracepoint', 'xdp']" ] || fail "links"

echo "== send UDP packets and getpgid(47999) calls while switching versions"
python3 - "$tmp/sent" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n, end = 0, time.time() + 4
while time.time() < end:
    s.sendto(b"x", ("127.0.0.1", 47999))
    try:
        os.getpgid(47999)
    except OSError:
        pass
    n += 1
open(sys.argv[1], "w").write(str(n))
PY
sender=$!
sleep 0.3
U rollout "$M/mixed_v2.yaml" > /dev/null
switches=1
for _ in $(seq 6); do sleep 0.2; U rollback mixed > /dev/null; switches=$((switches + 1)); done
wait $sender
sleep 0.2	# the last packets are handled by now

stats=$(bpftool map dump pinned "$bpffs/uptrkv/mixed/maps/mixed_stats" -j)
python3 - "$(cat "$tmp/sent")" "$switches" <<PY
import json, sys
sent, switches = int(sys.argv[1]), int(sys.argv[2])
d = {}
for e in json.loads('''$stats'''):
    f = e.get("formatted")
    d[f["key"]] = f["value"]
print(f"  {sent} packets and getpgid calls across {switches} switches")
for hook, base in (("XDP lo ingress", 0), ("cgroup_skb egress", 4),
                   ("raw_tp sys_enter getpgid", 12), ("uprobe libc sendto", 16)):
    v1, v2 = d.get(base + 1, 0), d.get(base + 2, 0)
    print(f"  {hook}: handled by v1: {v1}, by v2: {v2}")
    if v1 + v2 != sent:
        sys.exit(f"FAIL: {hook}: {v1 + v2} handled != {sent} sent")
    if not v1 or not v2:
        sys.exit(f"FAIL: {hook}: one version handled nothing")
PY
U undeploy mixed
echo PASS
