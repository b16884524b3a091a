#!/bin/sh
# make bench-big: one pool whose metadata fills most of a BIG_GIB (default
# 16) GiB device - thousands of thin devices in chains of snapshots of
# snapshots sharing subtrees, three-level mapping trees, a held metadata
# snapshot - and thin_check, thin_check -m, thin_dump, thin_ls and
# thin_repair on it with a warm and with a cold page cache: wall time, CPU
# time (user + system) and peak RSS, beside the read floor (every block in
# use read once) and the dump floor (that, plus writing as many bytes as
# the dump writes).
#
# The image is written once by thin_generate_big (sparse) into
# ${DMPD_BENCH_DIR:-/var/tmp/dmpd-bench}, named by its parameters:
# BIG_GIB, BIG_MAPPINGS (per device, default 100000), BIG_WRITES (per
# snapshot, default 1000), BIG_CHAIN (snapshots a chain, default 100),
# BIG_SEED (default 1).  BIG_TOOLS narrows the rows (default "check check-m
# dump ls repair").  BIG_REFERENCE=1 adds the reference's rows
# (/usr/sbin; make bench-big-ref, at 2 GiB: it takes many minutes a row).
# The table is also written to bench/results/NAME.txt (NAME-ref.txt with the
# reference's rows), or to BIG_RESULTS.
#
# Cold: the image's pages are dropped before each run (posix_fadvise
# DONTNEED through dd's nocache flag, and /proc/sys/vm/drop_caches when we
# may write it).  On a virtual machine the host may still cache the disk, so
# "cold" means cold in this kernel's page cache.  One run per cell.
set -eu
bin=$1
cache=${DMPD_BENCH_DIR:-/var/tmp/dmpd-bench}
gib=${BIG_GIB:-16}
mappings=${BIG_MAPPINGS:-100000}
writes=${BIG_WRITES:-1000}
chain=${BIG_CHAIN:-100}
seed=${BIG_SEED:-1}
tools=${BIG_TOOLS-"check check-m dump ls repair"}
reference=${BIG_REFERENCE:-0}
mkdir -p "$cache"
name=thin-big-${gib}g-m$mappings-w$writes-c$chain-s$seed
suffix=
[ "$reference" = 1 ] && suffix=-ref
results=${BIG_RESULTS:-$(cd "$(dirname "$0")/.." && pwd)/bench/results/$name$suffix.txt}
img=$cache/$name.img
out=$cache/thin-big-repaired.img
start_all=$(date +%s)

if [ ! -s "$img.done" ] || [ ! -s "$img" ]; then
	echo "generating $img ..." >&2
	rm -f "$img"
	truncate -s "${gib}G" "$img"
	start=$(date +%s)
	/usr/bin/time -f "%e s, %M KB" -o "$cache/generate.time" "$bin/thin_generate_big" -q -o "$img" \
		--mappings "$mappings" --writes "$writes" --chain-length "$chain" --seed "$seed"
	echo "generated in $(( $(date +%s) - start )) s ($(cat "$cache/generate.time"))" >&2
	echo ok > "$img.done"
fi
rm -f "$out"
truncate -s "${gib}G" "$out"

drop_cache() {
	sync
	for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none 2>/dev/null || true; done
	[ -w /proc/sys/vm/drop_caches ] && echo 1 > /proc/sys/vm/drop_caches || true
}

# run COLD CMD...: prints "wall_s cpu_s max_kb" of one run; a run that
# fails has a '!' after its wall time, and what it last said (and how it
# ended) is kept for the notes under the table.
run() {
	cold=$1
	shift
	if [ "$cold" = cold ]; then
		drop_cache "$img" "$out"
	else
		# (Every block in use read once: warm for whatever tool runs next.)
		"$bin/pdata_tools" thin_read_floor "$img" > /dev/null
	fi
	/usr/bin/time -f "%e %U %S %M" -o /tmp/dmpd-bench-big-time "$@" > /dev/null 2> /tmp/dmpd-bench-big-err || true
	# (time writes "Command exited with non-zero status N" or "Command
	# terminated by signal N" above its figures when the run failed.)
	if [ "$(wc -l < /tmp/dmpd-bench-big-time)" -gt 1 ]; then
		echo "${1##*/} ($cold): $(head -n 1 /tmp/dmpd-bench-big-time); it said: $(tail -n 1 /tmp/dmpd-bench-big-err)" >> "$failures"
		tail -n 1 /tmp/dmpd-bench-big-time | awk '{ printf "%s! %.2f %s\n", $1, $2 + $3, $4 }'
	else
		awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' /tmp/dmpd-bench-big-time
	fi
}

used=$("$bin/pdata_tools" thin_read_floor --count "$img")
devices=$("$bin/thin_ls" --no-headers -o DEV "$img" | wc -l)
dump_bytes=$("$bin/thin_dump" "$img" | wc -c)
table=$(mktemp)
failures=$(mktemp)
trap 'rm -f "$table" "$failures"' EXIT
{
	echo "image: $name: $used metadata blocks in use ($(( used * 4 / 1024 )) MiB), $devices thin devices," \
		"$mappings mappings each, a metadata snapshot held; dump $(( dump_bytes / 1048576 )) MiB"
	printf '%-12s %5s %9s %9s %10s %9s %9s %10s %8s %8s\n' tool cache wall_s cpu_s rss_kb ref_wall ref_cpu ref_rss_kb \
		ratio x_floor
} | tee "$table"

for cache_state in warm cold; do
	set -- $(run "$cache_state" "$bin/pdata_tools" thin_read_floor "$img")
	floor=$1
	printf '%-12s %5s %9s %9s %10s %9s %9s %10s %8s %8s\n' read_floor "$cache_state" "$1" "$2" "$3" - - - - 1.00 |
		tee -a "$table"
	set -- $(run "$cache_state" "$bin/pdata_tools" thin_read_floor --write-bytes "$dump_bytes" "$img")
	dump_floor=$1
	xf=$(awk -v a="$1" -v f="$floor" 'BEGIN { if (f > 0) printf "%.2f", a / f; else print "-" }')
	printf '%-12s %5s %9s %9s %10s %9s %9s %10s %8s %8s\n' dump_floor "$cache_state" "$1" "$2" "$3" - - - - "$xf" |
		tee -a "$table"
	for t in $tools; do
		case $t in
		check) name_=thin_check args="-q $img" ;;
		check-m) name_=thin_check args="-q -m $img" ;;
		dump) name_=thin_dump args="-o /dev/null $img" ;;
		ls) name_=thin_ls args="-o DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS $img" ;;
		repair) name_=thin_repair args="-i $img -o $out" ;;
		*) echo "unknown tool $t" >&2; exit 1 ;;
		esac
		# shellcheck disable=SC2086
		set -- $(run "$cache_state" "$bin/$name_" $args)
		wall=$1 cpu=$2 rss=$3
		ref_wall=- ref_cpu=- ref_rss=- ratio=-
		if [ "$reference" = 1 ]; then
			# shellcheck disable=SC2086
			set -- $(run "$cache_state" "/usr/sbin/$name_" $args)
			ref_wall=$1 ref_cpu=$2 ref_rss=$3
			ratio=$(awk -v a="$wall" -v b="$ref_wall" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "-" }')
			case $ref_wall in *!) ratio=failed ;; esac
		fi
		# (The dump is measured against the dump floor, the rest against
		# the read floor.)
		f=$floor
		[ "$t" = dump ] && f=$dump_floor
		xf=$(awk -v a="$wall" -v f="$f" 'BEGIN { if (f > 0) printf "%.2f", a / f; else print "-" }')
		printf '%-12s %5s %9s %9s %10s %9s %9s %10s %8s %8s\n' "$t" "$cache_state" "$wall" "$cpu" "$rss" \
			"$ref_wall" "$ref_cpu" "$ref_rss" "$ratio" "$xf" | tee -a "$table"
	done
done
[ -s "$failures" ] && sed 's/^/failed: /' "$failures" | tee -a "$table"
echo "bench-big: $(( $(date +%s) - start_all )) s in all" | tee -a "$table"
mkdir -p "$(dirname "$results")"
cp "$table" "$results"
echo "bench-big: the table is in $results"
