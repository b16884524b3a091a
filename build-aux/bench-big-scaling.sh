#!/bin/sh
# bench-big-scaling.sh [RESULTS...]: the scaling table of make bench-big's
# committed results (default: bench/results/thin-big-*g-*.txt without the
# reference's): for each tool and cache state, seconds of wall time per GiB
# of metadata in use at each size.  Linear cost shows as a flat row.
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- $(ls bench/results/thin-big-*g-*.txt | grep -v -- '-ref\.txt$' |
	awk -F'thin-big-' '{ split($2, a, "g"); print a[1] " " $0 }' | sort -n | cut -d' ' -f2)
awk '
FNR == 1 {
	# "image: NAME: N metadata blocks in use (M MiB), ..."
	match($0, /\(([0-9]+) MiB\)/)
	gib = substr($0, RSTART + 1, RLENGTH - 6) / 1024
	col = ++ncols
	size[col] = gib
	next
}
$2 == "warm" || $2 == "cold" {
	row = $1 " " $2
	if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
	w = $3; sub(/!$/, "", w)
	per[row, col] = w / size[col]
}
END {
	printf "%-18s", "s per GiB"
	for (c = 1; c <= ncols; c++) printf " %9.2f GiB", size[c]
	printf "  %s\n", "largest/smallest"
	for (r = 1; r <= nrows; r++) {
		printf "%-18s", rows[r]
		for (c = 1; c <= ncols; c++) printf " %13.3f", per[rows[r], c]
		printf "  %16.2f\n", (per[rows[r], 1] > 0 ? per[rows[r], ncols] / per[rows[r], 1] : 0)
	}
}' "$@"
