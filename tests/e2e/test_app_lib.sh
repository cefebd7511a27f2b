#!/bin/bash
# The app runtime links neither libyaml nor the rollout engine (Makefile
# APP_SRC; docs/design.md, "The app runtime"): the demo workload and
# tests/e2e/many_app link libuptrkv-app.a only, and libuptrkv-app.so needs
# only libbpf (and libc). Checked with ldd and nm on this build.
set -euo pipefail
needs_root=0
source "$(dirname "$0")/env.sh"
so=$BUILD/libuptrkv-app.so.0.1.0
need_built "$BUILD/uptrkv-demo-workload" "$BUILD/tests/e2e/many_app" "$so" "$BUILD/libuptrkv-app.a"
# Symbols of the manifest parser, the rollout engine and libyaml.
engine='yaml_|uptrkv_manifest__|uptrkv_rollout|uptrkv_rollback|uptrkv_plan__|uptrkv_deploy__|uptrkv_admin__|uptrkv_hist'

for bin in "$BUILD/uptrkv-demo-workload" "$BUILD/tests/e2e/many_app" "$so"; do
	echo "== $bin"
	libs=$(ldd "$bin" | awk '{print $1}' | tr '\n' ' ')
	echo "  ldd: $libs"
	! grep -q 'libyaml' <<< "$libs" || fail "$bin needs libyaml"
	grep -q 'libbpf' <<< "$libs" || fail "$bin does not need libbpf: is this the right file?"
	n=$(nm "$bin" 2>/dev/null | grep -cE " [TtU] ($engine)" || true)
	[ "$n" = 0 ] || fail "$bin holds $n symbols of the engine: $(nm "$bin" | grep -E " [TtU] ($engine)" | head -5)"
	nm "$bin" 2>/dev/null | grep -qE ' [Tt] uptrkv_thread__register$' || [ "$bin" = "$so" ] ||
		fail "$bin does not hold uptrkv_thread__register: the check would not see anything"
done

echo "== $so exports"
exports=$(nm -D --defined-only "$so" | awk '$3 ~ /^uptrkv_/ {sub(/@.*/, "", $3); print $3}' | sort)
want=$(grep -oE 'uptrkv_[a-z_]+;' lib/libuptrkv-app.map | tr -d ';' | sort)
[ "$exports" = "$want" ] || fail "exports differ from lib/libuptrkv-app.map: $(diff <(echo "$want") <(echo "$exports") | tr '\n' ' ')"
echo "  $(wc -l <<< "$exports") functions, as lib/libuptrkv-app.map lists"
undef=$(ldd -r "$so" 2>&1 | grep -c 'undefined symbol' || true)
[ "$undef" = 0 ] || fail "$so has undefined symbols: $(ldd -r "$so" 2>&1 | grep undefined | head -3)"

echo "== the archive: every object in it is a runtime one"
objs=$(ar t "$BUILD/libuptrkv-app.a" | sort | tr '\n' ' ')
echo "  $objs"
for o in manifest.o rollout.o deploy.o plan.o migrate.o admin.o; do
	! grep -qw "$o" <<< "$objs" || fail "libuptrkv-app.a holds $o"
done
echo "PASS"
