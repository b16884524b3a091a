#!/bin/sh
# make bench-big: the reference's own kind of benchmark - one pool whose
# metadata fills most of a 16 GiB device, thousands of thin devices made as
# snapshots of snapshots (so they share subtrees), a metadata snapshot held
# - and thin_check, thin_check -m, thin_dump, thin_ls and thin_repair on it,
# ours against the reference (/usr/sbin) and against the read floor, with
# a warm and with a cold page cache.
#
# The image is generated once (sparse) in ${DMPD_BENCH_DIR:-/var/tmp/dmpd-bench}.
# BIG_SNAPSHOTS (default 4000) sets its size: each snapshot is written to in
# BIG_WRITES (default 1000) places spread over the origin, so it unshares
# about that many leaves (4 KiB each): 4000 x 1000 leaves fill ~16 GiB.
# BIG_TOOLS narrows the rows (default "check check-m dump ls repair");
# BIG_REFERENCE=0 leaves the reference out (it takes many minutes a row).
#
# Cold: the image's pages are dropped before each run (posix_fadvise
# DONTNEED through dd's nocache flag, and /proc/sys/vm/drop_caches when we
# may write it).  On a virtual machine the host may still cache the disk, so
# "cold" means cold in this kernel's page cache.  One run per cell: a run
# takes long enough that noise is small against it.
set -eu
bin=$1
cache=${DMPD_BENCH_DIR:-/var/tmp/dmpd-bench}
snapshots=${BIG_SNAPSHOTS:-4000}
writes=${BIG_WRITES:-1000}
tools=${BIG_TOOLS-"check check-m dump ls repair"}
reference=${BIG_REFERENCE:-1}
mkdir -p "$cache"
img=$cache/thin-big-$snapshots-$writes.img
out=$cache/thin-big-repaired.img

if [ ! -s "$img.done" ]; then
	echo "generating the big image ($snapshots snapshots, $writes writes each) in $cache ..." >&2
	rm -f "$img"
	truncate -s 16G "$img"
	start=$(date +%s)
	"$bin/thin_generate_metadata" -q -o "$img" --devices 1 --mappings 126000 --run-length 16 \
		--snapshots "$snapshots" --snapshot-shape chain --writes "$writes" --metadata-snap
	echo "generated in $(( $(date +%s) - start )) s" >&2
	echo ok > "$img.done"
fi
[ -e "$out" ] || truncate -s 16G "$out"

drop_cache() {
	sync
	dd if="$1" iflag=nocache count=0 status=none 2>/dev/null || true
	[ -w /proc/sys/vm/drop_caches ] && echo 1 > /proc/sys/vm/drop_caches || true
}

# run COLD CMD...: prints "seconds max_kb" of one run.
run() {
	cold=$1
	shift
	if [ "$cold" = cold ]; then
		drop_cache "$img"
	else
		# (Every block in use read once: warm for whatever tool runs next.)
		"$bin/pdata_tools" thin_read_floor "$img" > /dev/null
	fi
	/usr/bin/time -f "%e %M" -o /tmp/dmpd-bench-big-time "$@" > /dev/null 2>&1 || true
	cat /tmp/dmpd-bench-big-time
}

used=$("$bin/pdata_tools" thin_read_floor --count "$img")
devices=$("$bin/thin_ls" --no-headers -o DEV "$img" | wc -l)
echo "image: $img, $used metadata blocks in use ($(( used * 4 / 1024 )) MiB), $devices thin devices, a metadata snapshot held"
printf '%-14s %5s %10s %10s %7s %10s %10s %9s\n' tool cache ours_s ref_s ratio ours_kb ref_kb x_floor

for cache_state in warm cold; do
	set -- $(run "$cache_state" "$bin/pdata_tools" thin_read_floor "$img")
	floor=$1
	printf '%-14s %5s %10s %10s %7s %10s %10s %9s\n' read_floor "$cache_state" "$1" - - "$2" - 1.00
	for t in $tools; do
		case $t in
		check) name=thin_check args="-q $img" ;;
		check-m) name=thin_check args="-q -m $img" ;;
		dump) name=thin_dump args="-o /dev/null $img" ;;
		ls) name=thin_ls args="-o DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS $img" ;;
		repair) name=thin_repair args="-i $img -o $out" ;;
		*) echo "unknown tool $t" >&2; exit 1 ;;
		esac
		# shellcheck disable=SC2086
		set -- $(run "$cache_state" "$bin/$name" $args)
		ours_s=$1 ours_kb=$2
		ref_s=- ref_kb=- ratio=-
		if [ "$reference" = 1 ]; then
			# shellcheck disable=SC2086
			set -- $(run "$cache_state" "/usr/sbin/$name" $args)
			ref_s=$1 ref_kb=$2
			ratio=$(awk -v a="$ours_s" -v b="$ref_s" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "-" }')
		fi
		xf=$(awk -v a="$ours_s" -v f="$floor" 'BEGIN { if (f > 0) printf "%.2f", a / f; else print "-" }')
		printf '%-14s %5s %10s %10s %7s %10s %10s %9s\n' "$t" "$cache_state" "$ours_s" "$ref_s" "$ratio" "$ours_kb" "$ref_kb" "$xf"
	done
done
