#!/bin/bash
# docs/first-program.md, run as written, so the guide cannot rot (root,
# real BPF, private bpffs; env.sh):
#  - `make install` into a temp DESTDIR with PREFIX=/usr/local, as the guide
#    assumes; PATH, PKG_CONFIG_PATH/PKG_CONFIG_SYSROOT_DIR and the loader
#    path point at it (in place of `sudo make install` and `ldconfig`);
#  - every "<!-- file: NAME -->" block is written as NAME in an empty folder;
#  - every ```sh block runs there, in order, in one bash with -e, and with
#    BPFFS set to the private bpffs; the test fails if any block fails,
#    and names it.
# It also checks that the guide has its blocks (a guide with none would pass).
set -euo pipefail
source "$(dirname "$0")/env.sh"
GUIDE=docs/first-program.md
root=$tmp/root
W=$tmp/work
mkdir -p "$W"

SAN= SANITIZE=0
if nm "$BUILD/libuptrkv.a" 2>/dev/null | grep __asan_ >/dev/null; then
	SAN=1 SANITIZE=1
fi
make --no-print-directory -s BUILD="$BUILD" SANITIZE=$SANITIZE install DESTDIR="$root" PREFIX=/usr/local \
	> "$tmp/install.out" 2>&1 || fail "make install: $(tail -20 "$tmp/install.out")"

# The guide's blocks: files into $W, sh blocks into one script that says
# which block it is in.
python3 - "$GUIDE" "$W" "$tmp/guide.sh" <<'PY'
import re, sys
guide, work, script = sys.argv[1:]
lines = open(guide).read().split("\n")
files, blocks, i, pending = 0, 0, 0, None
out = ["set -eE",
       "trap 'echo \"FAIL: the guide'\"'\"'s sh block $BLOCK (line $LINE of the guide) failed\"' ERR",
       # The app the guide starts (APP), if a block failed before it was stopped.
       "trap 'if [ -n \"${APP:-}\" ] && kill -0 \"$APP\" 2>/dev/null; then kill -KILL \"$APP\"; fi' EXIT"]
while i < len(lines):
    m = re.match(r"<!-- file: (\S+) -->$", lines[i])
    if m:
        pending = m.group(1)
        i += 1
        continue
    m = re.match(r"```(\w*)$", lines[i])
    if m:
        start = i
        j = i + 1
        while lines[j] != "```":
            j += 1
        body = "\n".join(lines[i + 1:j]) + "\n"
        if pending:
            open(f"{work}/{pending}", "w").write(body)
            files += 1
        elif m.group(1) == "sh":
            blocks += 1
            out.append(f"BLOCK={blocks} LINE={start + 1}")
            out.append(f"echo '== block {blocks} (line {start + 1})'")
            out.append(body)
        pending = None
        i = j + 1
        continue
    if lines[i].strip():
        pending = None if not lines[i].startswith("<!--") else pending
    i += 1
out.append("echo GUIDE-DONE")
open(script, "w").write("\n".join(out) + "\n")
print(f"{files} files, {blocks} sh blocks")
if files < 4 or blocks < 8:
    sys.exit("the guide has too few blocks to be a walk-through")
PY

# What `sudo make install` and `sudo ldconfig` would give a shell.
export PATH=$root/usr/local/bin:$PATH
export PKG_CONFIG_PATH=$root/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
export LD_LIBRARY_PATH=$root/usr/local/lib
export BPFFS=$bpffs
command -v uptrkv | grep -q "^$root/" || fail "uptrkv is not the installed one"
# A sanitized libuptrkv needs the sanitizer runtime in the app: cc gets
# -fsanitize through a wrapper first in PATH (the guide's line is unchanged).
if [ -n "$SAN" ]; then
	mkdir -p "$tmp/bin"
	printf '#!/bin/sh\nexec /usr/bin/cc -fsanitize=address,undefined "$@"\n' > "$tmp/bin/cc"
	chmod +x "$tmp/bin/cc"
	export PATH=$tmp/bin:$PATH
	export ASAN_OPTIONS=detect_leaks=0
fi

(cd "$W" && bash "$tmp/guide.sh") > "$tmp/guide.out" 2>&1 || {
	rc=$?
	tail -40 "$tmp/guide.out"
	fail "the guide's blocks failed (exit $rc)"
}
cat "$tmp/guide.out"
grep -q '^GUIDE-DONE$' "$tmp/guide.out" || fail "the guide's script stopped early"
# What the guide says it shows: the app's greeting in the dumps, and the
# count as a u32, then an 8-byte u64 after v2, then a u32 again.
[ "$(grep -c 'greeting  *string  *16  *"hi there"' "$tmp/guide.out")" = 3 ] ||
	fail "not 3 dumps with the app's greeting"
grep -E '^ +0 +calls +(u32 +4|u64 +8) ' "$tmp/guide.out" | awk '{print $3}' | tr '\n' ' ' > "$tmp/types"
[ "$(cat "$tmp/types")" = "u32 u64 u32 " ] || fail "calls in the dumps: $(cat "$tmp/types"), not u32 u64 u32"
[ ! -e "$bpffs/uptrkv/hello" ] || fail "the guide's cleanup left the deployment"
echo "PASS"
