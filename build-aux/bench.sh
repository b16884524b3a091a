#!/bin/sh
# make bench: timings against the reference tools.  Later issues add rows;
# for now it measures what exists on the kernel-written example.
set -eu
bin=$1
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/dmpd-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
gzip -dc "$here/functional-tests/fixtures/kernel/thin-basic/meta.img.gz" > "$work/meta.img"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() {
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N)
		"$@" > /dev/null 2>&1 || true
		e=$(date +%s.%N)
		echo "$e - $s" | bc
	done | median
}

printf '%-12s %-14s %10s %10s %7s\n' tool image ours_s ref_s ratio
for t in thin_check thin_dump; do
	ours=$(time_of "$bin/$t" "$work/meta.img")
	ref=$(time_of "/usr/sbin/$t" "$work/meta.img")
	ratio=$(echo "scale=2; $ref / $ours" | bc)
	printf '%-12s %-14s %10s %10s %7s\n' "$t" thin-basic "$ours" "$ref" "$ratio"
done
