#!/bin/bash
# Writes the rollout benchmark's results (the TSV that rollout_bench --tsv
# wrote in this run) into docs/benchmarks.md, between the markers
# "<!-- rollout-bench:begin -->" and "<!-- rollout-bench:end -->", and plots
# rollout time against threads, uptrkv beside the hand-written copy, to
# docs/bench-rollout.png (gnuplot). `make bench` runs it after the bench.
#   bench/report.sh RESULTS.tsv [DOC.md] [PLOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
tsv=$1
doc=${2:-docs/benchmarks.md}
plot=${3:-docs/bench-rollout.png}
command -v gnuplot >/dev/null || { echo "report: gnuplot is missing (make bench installs gnuplot-nox)"; exit 1; }
[ "$(wc -l < "$tsv")" -gt 1 ] || { echo "report: $tsv has no results"; exit 1; }
grep -q '^<!-- rollout-bench:begin -->$' "$doc" && grep -q '^<!-- rollout-bench:end -->$' "$doc" ||
	{ echo "report: $doc has no rollout-bench markers"; exit 1; }

tmp=$(mktemp -d /tmp/uptrkv-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# One data file per case (TOTAL:CHANGED): threads, uptrkv, hand-written.
awk -F'\t' -v d="$tmp" 'NR > 1 { f = d "/case-" $2 "-" $3 ".dat"; print $1, $4, $11 >> f }' "$tsv"
plots=()
for f in "$tmp"/case-*.dat; do
	c=$(basename "$f" .dat); c=${c#case-}; total=${c%-*}; changed=${c#*-}
	plots+=("'$f' using 1:2 with linespoints title 'uptrkv rollout, $changed of $total keys changed'")
	plots+=("'$f' using 1:3 with linespoints dashtype 2 pointtype 6 title 'hand-written copy, $changed of $total'")
done
{
	echo "set terminal pngcairo size 860,520 font 'sans,10'"
	echo "set output '$plot'"
	echo "set title 'Rollout time against live threads (make bench, one run)'"
	echo "set logscale xy"
	echo "set xlabel 'live threads'"
	echo "set ylabel 'ms (log)'"
	echo "set key left top"
	echo "set grid"
	(IFS=,; echo "plot ${plots[*]}")
} > "$tmp/plot.gp"
gnuplot "$tmp/plot.gp"

# The section: when, where, the table with its ratios.
{
	echo "<!-- rollout-bench:begin -->"
	echo "<!-- Written by bench/report.sh from one \`make bench\` run; do not edit by hand. -->"
	echo "Run: $(date -u +%Y-%m-%d) on $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo
	echo "| threads | keys | changed | rollout | preflight | migrate | switch | reclaim | rollback | dump | hand-written copy | rollout / copy | rollback / rollout | dump / batch lookup |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' 'NR > 1 { printf "| %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1fx | %.2fx | %.0fx |\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $4 / $11, $9 / $4, $10 / $12 }' "$tsv"
	echo
	echo "![rollout time against threads](bench-rollout.png)"
	echo "<!-- rollout-bench:end -->"
} > "$tmp/section.md"
awk -v sec="$tmp/section.md" '
	/^<!-- rollout-bench:begin -->$/ { while ((getline l < sec) > 0) print l; skip = 1; next }
	/^<!-- rollout-bench:end -->$/ { skip = 0; next }
	!skip { print }' "$doc" > "$tmp/doc.md"
cp "$tmp/doc.md" "$doc"
echo "report: wrote the rollout table into $doc and the plot into $plot"
