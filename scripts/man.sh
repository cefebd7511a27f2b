#!/bin/bash
# Builds the man pages from the docs, so the two cannot drift (make man):
#   uptrkv(8)          docs/commands.md, whole
#   uptrkv-CMD(8)      its "### CMD ..." section of docs/commands.md: the
#                      heading is the synopsis, the "<!-- man: ... -->" line
#                      under it the NAME line
#   uptrkv-manifest(5) docs/manifest.md up to "<!-- man: end ... -->"
# Usage: scripts/man.sh OUTDIR VERSION. Needs pandoc.
set -euo pipefail
out=$1 version=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
PANDOC=${PANDOC:-pandoc}
# A reproducible page: the date of the docs' last change, not of the build.
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct -- docs 2>/dev/null || echo 0)}" +%Y-%m-%d)

# Markdown for a page from markdown for the docs: one heading level up (the
# page's sections are "##" in the docs), links to other docs as plain text.
promote() {
	sed -E -e 's/^#(#+ )/\1/' -e 's/\[([^]]+)\]\([^)]*\.md[^)]*\)/\1/g'
}

# page NAME SECTION < markdown > NAME.SECTION, rendered by man without a
# warning on an 80-column terminal: pandoc sizes tables for 70 columns,
# scaled here to 60 to leave room for the indent; a comma or | inside text
# gets a break point (\:), and so do / and :, so that long JSON shapes and
# paths in code spans wrap; and
# text is left-aligned (.ad l), since a line of one long code span cannot be
# justified; and on a terminal the page is one long page (.pl), so that no
# table cell has to fit between two page breaks (groff warns "table text
# block will not fit on one page" at some widths, lintian's 120 among them).
page() {
	"$PANDOC" -f markdown-smart-implicit_header_references -t man -s \
		-M title="$(echo "$1" | tr a-z A-Z)" -M section="$2" -M header="uptrkv manual" \
		-M footer="uptrkv $version" -M date="$date" |
		sed -E -e "/^[.']/!s/([,|/:])([^ ])/\1\\\\:\2/g" -e '/^\.TH /a .ad l' -e '/^\.TH /a .if n .pl 100000v' |
		awk '/^l.*w\([0-9.]+n\)/ {
			while (match($0, /w\([0-9.]+n\)/)) {
				w = substr($0, RSTART + 2, RLENGTH - 4) * 60 / 70
				$0 = substr($0, 1, RSTART - 1) sprintf("W(%.1fn)", w) substr($0, RSTART + RLENGTH)
			}
			gsub(/W\(/, "w(")
		} { print }' > "$out/$1.$2"
}

# The commands: a page each.
cmds=$(awk '/^## /{c = /^## COMMANDS/} c && /^### /{print $2}' docs/commands.md)
[ -n "$cmds" ] || { echo "man.sh: no command in docs/commands.md" >&2; exit 1; }
for c in $cmds; do
	awk -v c="$c" '
		/^## / { if (body) exit }
		/^### / { if (body) exit; if ($2 == c) { syn = substr($0, 5); next } }
		syn != "" && !body && /^<!-- man: / {
			sub(/^<!-- man: /, ""); sub(/ -->$/, "")
			printf "# NAME\n\nuptrkv-%s - %s\n\n# SYNOPSIS\n\n**uptrkv** [*GLOBAL OPTIONS*] %s\n\n# DESCRIPTION\n", c, $0, syn
			body = 1; next
		}
		body { print }
	' docs/commands.md > "$out/$c.md"
	grep -q '^# DESCRIPTION' "$out/$c.md" || { echo "man.sh: $c has no <!-- man: --> line" >&2; exit 1; }
	printf '\n# SEE ALSO\n\n**uptrkv**(8), **uptrkv-manifest**(5)\n' >> "$out/$c.md"
	promote < "$out/$c.md" | sed 's/^###/##/' | page "uptrkv-$c" 8
	rm "$out/$c.md"
done

# uptrkv(8): the whole reference, the title line left to .TH.
{
	tail -n +2 docs/commands.md | promote
	echo
	echo "The commands' own pages: $(for c in $cmds; do printf '**uptrkv-%s**(8), ' "$c"; done)"
	echo "and **uptrkv-manifest**(5) for the manifest."
} | page uptrkv 8

# uptrkv-manifest(5).
awk '
	NR == 1 { next }
	/^<!-- man: end/ { exit }
	/^<!-- man: / { sub(/^<!-- man: /, ""); sub(/ -->$/, "")
		printf "# NAME\n\nuptrkv-manifest - %s\n\n# DESCRIPTION\n", $0; next }
	{ print }
' docs/manifest.md | promote > "$out/manifest.md"
printf '\n# SEE ALSO\n\n**uptrkv**(8), **uptrkv-validate**(8), **uptrkv-diff**(8), **uptrkv-gen**(8)\n' >> "$out/manifest.md"
page uptrkv-manifest 5 < "$out/manifest.md"
rm "$out/manifest.md"
