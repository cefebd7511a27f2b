#!/bin/bash
# The Debian package (debian/), built as a user would, from a temp copy of
# the tree (what git tracks plus new files, as they are now):
#  - dpkg-buildpackage -us -uc -b builds uptrkv, libuptrkv0, libuptrkv-dev;
#  - lintian finds no error and no warning (its informational tags are printed);
#  - each package holds what it must (dpkg-deb -c), and nothing of another;
#  - the three, unpacked together into a temp root (dpkg -x; nothing is
#    installed on this machine), give a working uptrkv, a libuptrkv.so that
#    resolves to libuptrkv0's file, and a uptrkv.pc that pkg-config reads.
set -euo pipefail
cd "$(dirname "$0")/../.."
for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || { echo "missing $t: run 'make deps-deb'"; exit 1; }
done
tmp=$(mktemp -d /tmp/uptrkv-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
VER=$(dpkg-parsechangelog -l debian/changelog -S Version)

echo "== dpkg-buildpackage -us -uc -b in a copy of the tree"
mkdir "$tmp/src"
git ls-files -co --exclude-standard | grep -v '^build/' | tar -cf - -T - | tar -xf - -C "$tmp/src"
(cd "$tmp/src" && DEB_BUILD_OPTIONS="noddebs parallel=2" dpkg-buildpackage -us -uc -b) \
	> "$tmp/build.log" 2>&1 || fail "dpkg-buildpackage: $(tail -30 "$tmp/build.log")"
for p in uptrkv libuptrkv0 libuptrkv-dev; do
	[ -e "$tmp/${p}_${VER}_$ARCH.deb" ] || fail "no ${p}_${VER}_$ARCH.deb"
done
echo "ok   built: $(cd "$tmp" && ls ./*.deb | tr '\n' ' ')"

echo "== lintian"
lintian --fail-on error,warning "$tmp/uptrkv_${VER}_$ARCH.changes" > "$tmp/lintian" 2>&1 ||
	fail "lintian found errors or warnings: $(grep -E '^[EW]:' "$tmp/lintian" || cat "$tmp/lintian")"
! grep -qE '^[EW]:' "$tmp/lintian" || fail "lintian: $(grep -E '^[EW]:' "$tmp/lintian")"
echo "ok   lintian: no error, no warning ($(grep -c '^[IP]:' "$tmp/lintian" || true) informational tags)"

echo "== contents"
contents() { dpkg-deb -c "$tmp/${1}_${VER}_$ARCH.deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||'; }
has() {	# package path...
	local p=$1; shift
	contents "$p" > "$tmp/$p.list"
	for f in "$@"; do grep -qx "$f" "$tmp/$p.list" || fail "$p lacks $f"; done
}
lacks() {	# package regex: no path of the package matches
	if grep -E "$2" "$tmp/$1.list"; then fail "$1 holds files of another package (above)"; fi
}
has uptrkv /usr/bin/uptrkv /usr/share/man/man8/uptrkv.8.gz /usr/share/man/man8/uptrkv-rollout.8.gz \
	/usr/share/man/man5/uptrkv-manifest.5.gz /usr/share/bash-completion/completions/uptrkv \
	/usr/share/doc/uptrkv/copyright
for c in $(awk '/^## /{c = /^## COMMANDS/} c && /^### /{print $2}' docs/commands.md); do
	grep -qx "/usr/share/man/man8/uptrkv-$c.8.gz" "$tmp/uptrkv.list" || fail "uptrkv lacks the man page of $c"
done
lacks uptrkv '^/usr/(include|lib)/'
has libuptrkv0 "/usr/lib/$MA/libuptrkv.so.0" "/usr/lib/$MA/libuptrkv.so.0.1.0" \
	"/usr/lib/$MA/libuptrkv-app.so.0" "/usr/lib/$MA/libuptrkv-app.so.0.1.0"
lacks libuptrkv0 '^/usr/(bin|include|share/man)/|\.a$|/pkgconfig/|libuptrkv\.so$'
has libuptrkv-dev "/usr/lib/$MA/libuptrkv.so" "/usr/lib/$MA/libuptrkv.a" \
	"/usr/lib/$MA/pkgconfig/uptrkv.pc" "/usr/lib/$MA/libuptrkv-app.so" \
	"/usr/lib/$MA/libuptrkv-app.a" "/usr/lib/$MA/pkgconfig/uptrkv-app.pc" /usr/include/uptrkv/uptrkv.h \
	/usr/include/uptrkv/uptrkv.bpf.h /usr/include/uptrkv/uptrkv_layout.h \
	/usr/include/uptrkv/uptrkv_bind.h
lacks libuptrkv-dev '^/usr/bin/|libuptrkv\.so\.0|uptrkv_tool\.h|uptrkv_admin'
dpkg-deb -f "$tmp/uptrkv_${VER}_$ARCH.deb" Depends | grep -q libbpf || fail "uptrkv does not depend on libbpf"
dpkg-deb -f "$tmp/libuptrkv-dev_${VER}_$ARCH.deb" Depends | grep -q "libuptrkv0 (= $VER)" ||
	fail "libuptrkv-dev does not depend on libuptrkv0 (= $VER)"
echo "ok   uptrkv: tool, $(grep -c '/man[58]/' "$tmp/uptrkv.list") man pages, completion;" \
	"libuptrkv0: the .so.0s; libuptrkv-dev: headers, .a, .so, uptrkv.pc, uptrkv-app.pc"

echo "== unpacked into a temp root"
root=$tmp/root
for p in uptrkv libuptrkv0 libuptrkv-dev; do dpkg -x "$tmp/${p}_${VER}_$ARCH.deb" "$root"; done
"$root/usr/bin/uptrkv" version | grep -q "^uptrkv " || fail "the packaged uptrkv does not run"
[ "$(readlink -f "$root/usr/lib/$MA/libuptrkv.so")" = "$root/usr/lib/$MA/libuptrkv.so.0.1.0" ] ||
	fail "libuptrkv.so does not lead to libuptrkv0's library"
[ "$(objdump -p "$root/usr/lib/$MA/libuptrkv.so.0.1.0" | awk '/SONAME/{print $2}')" = libuptrkv.so.0 ] ||
	fail "SONAME is not libuptrkv.so.0"
PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$root/usr/lib/$MA/pkgconfig pkg-config --cflags --libs uptrkv \
	> "$tmp/pc" || fail "pkg-config uptrkv"
grep -q -- "-I$root/usr/include/uptrkv" "$tmp/pc" || fail "uptrkv.pc: $(cat "$tmp/pc")"
echo "#include <uptrkv/uptrkv.h>" | cc -fsyntax-only -I"$root/usr/include" -x c - ||
	fail "the packaged uptrkv.h does not compile"
echo "ok   uptrkv $("$root/usr/bin/uptrkv" version | head -1 | cut -d' ' -f2) runs; pkg-config: $(cat "$tmp/pc")"
echo "PASS"
