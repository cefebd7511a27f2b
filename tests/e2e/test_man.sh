#!/bin/bash
# The man pages `make man` builds from docs/ (scripts/man.sh):
#  - every command `uptrkv help -j` lists has its uptrkv-CMD(8), and no page
#    names a command uptrkv does not have;
#  - uptrkv(8) and uptrkv-manifest(5) are there;
#  - every page renders with man -l, on an 80-column terminal, with every
#    groff warning on, without one warning;
#  - each command page says its own name and synopsis, and carries its
#    section of docs/commands.md (the first line of text under the heading).
set -euo pipefail
needs_root=0
source "$(dirname "$0")/env.sh"
MAN=$BUILD/man
need_built "$MAN/.stamp"
command -v man >/dev/null || skip "no man (apt-get install man-db)"

"$BUILD/uptrkv" help -j > "$tmp/help.json"
json "$tmp/help.json" "chr(10).join(c['name'] for c in j['commands'])" | sort > "$tmp/commands"
[ -s "$tmp/commands" ] || fail "uptrkv help -j lists no command"
(cd "$MAN" && ls uptrkv-*.8) | sed 's/^uptrkv-//; s/\.8$//' | sort > "$tmp/pages"
diff -u "$tmp/commands" "$tmp/pages" > "$tmp/diff" ||
	fail "commands (-) and their man pages (+) differ: $(cat "$tmp/diff")"
echo "ok   a page for each of the $(wc -l < "$tmp/commands") commands: $(tr '\n' ' ' < "$tmp/commands")"

pages=("$MAN"/uptrkv.8 "$MAN"/uptrkv-manifest.5 "$MAN"/uptrkv-*.8)
for p in "${pages[@]}"; do
	[ -s "$p" ] || fail "missing $p"
	MANWIDTH=80 man -l --warnings=w -E UTF-8 "$p" > "$tmp/out" 2> "$tmp/err" || fail "man -l $p failed: $(cat "$tmp/err")"
	[ ! -s "$tmp/err" ] || fail "man -l $(basename "$p") warns: $(head -5 "$tmp/err")"
	# And as lintian checks a page (Lintian/Check/Documentation/Manual.pm,
	# at 80 columns; lintian itself uses 120, see the Debian package test).
	env -i PATH="$PATH" LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$p" > /dev/null 2> "$tmp/err" || true
	[ ! -s "$tmp/err" ] || fail "man -Tutf8 -Z $(basename "$p") warns: $(head -5 "$tmp/err")"
	[ "$(wc -l < "$tmp/out")" -gt 10 ] || fail "$(basename "$p") is nearly empty"
done
echo "ok   ${#pages[@]} pages render with man -l, every warning on, none given"

while read -r c; do
	MANWIDTH=1000 man -l "$MAN/uptrkv-$c.8" 2>/dev/null | sed 's/^ *//' > "$tmp/page"
	grep -q "^uptrkv-$c - " "$tmp/page" || fail "uptrkv-$c(8) has no NAME line"
	syn=$(awk -v c="$c" '/^### /{ if ($2 == c) { print substr($0, 5); exit } }' docs/commands.md)
	grep -qF "uptrkv [GLOBAL OPTIONS] $syn" "$tmp/page" || fail "uptrkv-$c(8): no synopsis '$syn'"
	# The first line of the section's text, without its markdown.
	first=$(awk -v c="$c" '/^### /{ on = ($2 == c); next } on && /^[A-Za-z`]/ { print; exit }' docs/commands.md |
		tr -d '`*' | cut -d' ' -f1-6)
	grep -qF "$first" "$tmp/page" || fail "uptrkv-$c(8) lacks its docs text: '$first'"
done < "$tmp/commands"
MANWIDTH=1000 man -l "$MAN/uptrkv-manifest.5" 2>/dev/null | grep -q "apiVersion" || fail "uptrkv-manifest(5) lacks the fields"
echo "ok   each command page has its NAME, synopsis and docs text"
echo "PASS"
