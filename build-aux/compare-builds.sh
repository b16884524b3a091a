#!/bin/sh
# compare-builds.sh IMAGE RUNS DIR...: thin_check and the read floor of
# several builds of pdata_tools (DIR/pdata_tools each) on one image, the
# runs of all builds interleaved so that drift in the machine's speed hits
# them alike.  Prints each build's medians, the check's ratio to its floor,
# and the fastest run of each (less disturbed by a noisy machine).
# Used to measure a change: save the old binary in one directory, the new
# one in another.
set -eu
img=$1
runs=$2
shift 2
# (The timed runs ignore exit codes: thin_check exits 1 on a damaged image.
# So first make sure every build can read the image at all.)
for d in "$@"; do
	"$d/pdata_tools" thin_read_floor "$img" > /dev/null ||
		{ echo "compare-builds.sh: $d/pdata_tools cannot read $img" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ms() { # runs "$@", prints its wall time in microseconds
	t0=$(date +%s%N)
	"$@" > /dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
i=0
while [ "$i" -lt "$runs" ]; do
	n=0
	for d in "$@"; do
		ms "$d/pdata_tools" thin_read_floor "$img" >> "$out/floor.$n"
		ms "$d/pdata_tools" thin_check -q "$img" >> "$out/check.$n"
		n=$((n + 1))
	done
	i=$((i + 1))
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
fastest() { sort -n "$1" | head -1; }
n=0
for d in "$@"; do
	awk -v d="$d" -v f="$(median "$out/floor.$n")" -v c="$(median "$out/check.$n")" \
	    -v mf="$(fastest "$out/floor.$n")" -v mc="$(fastest "$out/check.$n")" 'BEGIN {
		printf "%s: check %.1f ms, floor %.1f ms: %.2fx (fastest: %.1f / %.1f ms)\n",
		       d, c / 1000, f / 1000, c / f, mc / 1000, mf / 1000 }'
	n=$((n + 1))
done
