#!/bin/sh
# make bench: our tools against the reference (/usr/sbin) on the same
# machine, medians of several runs, with peak memory and read calls.
#
# Images are generated once and cached outside the repository, in
# ${DMPD_BENCH_DIR:-/var/tmp/dmpd-bench}.  Sizes: BENCH_SIZES (default
# "100k 2M 20M snap300" mappings), CACHE_SIZES (default "1M 10M" cache
# blocks), ERA_SIZES, SNAP_SIZES; BENCH_THIN_TOOLS (default "check dump
# restore ls delta").  RUNS: runs per measurement (default 5).
set -eu
bin=$1
cache=${DMPD_BENCH_DIR:-/var/tmp/dmpd-bench}
sizes=${BENCH_SIZES-"100k 2M 20M snap300"}
runs=${RUNS:-5}
mkdir -p "$cache"
PATH="$bin:$PATH"

# shape <size>: generator arguments with heavy snapshot sharing.
shape() {
	case $1 in
	100k) echo "--devices 4 --mappings 20000 --run-length 8 --snapshots 20 --writes 200" ;;
	# 300 snapshots of one origin, sharing nodes as the kernel shares them.
	snap300) echo "--devices 1 --mappings 20000 --run-length 8 --snapshots 300 --writes 20" ;;
	2M) echo "--devices 8 --mappings 240000 --run-length 8 --snapshots 40 --writes 1000" ;;
	20M) echo "--devices 8 --mappings 2500000 --run-length 8 --snapshots 4 --writes 5000" ;;
	*) echo "unknown size $1" >&2; exit 1 ;;
	esac
}

image() {
	img=$cache/thin-$1.img
	if [ ! -s "$img.done" ]; then
		echo "generating $1-mapping image in $cache ..." >&2
		rm -f "$img" "$img.xml"
		truncate -s 4G "$img"
		# shellcheck disable=SC2046
		thin_generate_metadata -q -o "$img" --xml "$img.xml" $(shape "$1")
		echo ok > "$img.done"
	fi
	echo "$img"
}

# median of "seconds kb" lines: prints "median_seconds max_kb"
summarise() {
	sort -n | awk '{t[NR]=$1; if ($2>m) m=$2} END {print t[int((NR+1)/2)], m}'
}

measure() {
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f "%e %M" -o /tmp/dmpd-bench-time "$@" > /dev/null 2>&1 || true
		cat /tmp/dmpd-bench-time
		i=$((i + 1))
	done | summarise
}

printf '%-14s %5s %10s %10s %7s %10s %10s\n' tool size ours_s ref_s ratio ours_kb ref_kb
row() {
	name=$1 size=$2
	shift 2
	ours=$(measure "$@")
	ref_cmd=$(echo "$*" | sed "s|$bin/|/usr/sbin/|")
	# shellcheck disable=SC2086
	ref=$(measure $ref_cmd)
	set -- $ours $ref
	ratio=$(awk -v a="$1" -v b="$3" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "-" }')
	printf '%-14s %5s %10s %10s %7s %10s %10s\n' "$name" "$size" "$1" "$3" "$ratio" "$2" "$4"
	last_ours=$1
}

# parse_floor <xml>: expat parsing the XML with no work per element, the
# least a restore can cost, set beside the restore just measured.
parse_floor() {
	set -- $(measure "$bin/pdata_tools" xml_parse_floor "$1")
	awk -v f="$1" -v r="$last_ours" 'BEGIN { printf "   floor (expat parse, no work per element): %s s: restore %.2fx the floor (goal: 2x)\n", f, (f > 0 ? r / f : 0) }'
}

# cache_image <blocks>: cache metadata (format 1, which the reference reads
# fully) with 3 of 4 blocks mapped, a quarter of those dirty, 4-byte hints.
cache_image() {
	img=$cache/cache-$1.img
	if [ ! -s "$img.done" ]; then
		echo "generating a cache of $1 blocks in $cache ..." >&2
		awk -v n="$1" 'BEGIN {
			printf "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"%d\" policy=\"smq\" hint_width=\"4\">\n  <mappings>\n", n
			for (i = 0; i < n; i++) if (i % 4 != 3)
				printf "    <mapping cache_block=\"%d\" origin_block=\"%d\" dirty=\"%s\"/>\n", i, i * 3 + 7, (i % 8 == 1) ? "true" : "false"
			printf "  </mappings>\n  <hints>\n"
			for (i = 0; i < n; i++) if (i % 4 != 3)
				printf "    <hint cache_block=\"%d\" data=\"AQAAAA==\"/>\n", i
			printf "  </hints>\n</superblock>\n"
		}' > "$img.xml"
		rm -f "$img"
		truncate -s 1G "$img"
		cache_restore -q --metadata-version 1 -i "$img.xml" -o "$img"
		echo ok > "$img.done"
	fi
	echo "$img"
}

cache_sizes=${CACHE_SIZES-"1M 10M"}
for size in $cache_sizes; do
	case $size in 1M) n=1000000 ;; 10M) n=10000000 ;; *[!0-9]* | "") echo "bad cache size '$size'" >&2; exit 1 ;; *) n=$size ;; esac
	img=$(cache_image "$n")
	row cache_check "$size" "$bin/cache_check" -q "$img"
	row cache_dump "$size" "$bin/cache_dump" -o /dev/null "$img"
	out=$cache/cache-restore-$size.img
	[ -e "$out" ] || truncate -s 1G "$out"
	row cache_restore "$size" "$bin/cache_restore" -q -i "$img.xml" -o "$out"
	parse_floor "$img.xml"
done

# era_image <blocks>: era metadata with 8 archived writesets.
era_image() {
	img=$cache/era-$1.img
	if [ ! -s "$img.done" ]; then
		echo "generating era metadata of $1 blocks in $cache ..." >&2
		awk -v n="$1" 'BEGIN {
			printf "<superblock uuid=\"\" block_size=\"128\" nr_blocks=\"%d\" current_era=\"10\">\n", n
			for (e = 2; e < 10; e++) {
				printf "  <writeset era=\"%d\" nr_bits=\"%d\">\n", e, n
				for (i = 0; i < n; i++) printf "    <bit block=\"%d\" value=\"%s\"/>\n", i, ((i * 7 + e) % 13 == 0) ? "true" : "false"
				printf "  </writeset>\n"
			}
			printf "  <era_array>\n"
			for (i = 0; i < n; i++) printf "    <era block=\"%d\" era=\"%d\"/>\n", i, i % 2
			printf "  </era_array>\n</superblock>\n"
		}' > "$img.xml"
		rm -f "$img"
		truncate -s 1G "$img"
		era_restore -q -i "$img.xml" -o "$img"
		echo ok > "$img.done"
	fi
	echo "$img"
}

for size in ${ERA_SIZES-"1M"}; do
	case $size in 1M) n=1000000 ;; *[!0-9]* | "") echo "bad era size '$size'" >&2; exit 1 ;; *) n=$size ;; esac
	img=$(era_image "$n")
	row era_check "$size" "$bin/era_check" -q "$img"
	row era_invalidate "$size" "$bin/era_invalidate" --written-since 5 -o /dev/null "$img"
	out=$cache/era-restore-$size.img
	[ -e "$out" ] || truncate -s 1G "$out"
	row era_restore "$size" "$bin/era_restore" -q -i "$img.xml" -o "$out"
	parse_floor "$img.xml"
done

# snap_image <exceptions>: a dm-snapshot store (4 KiB chunks); there is no
# reference tool to compare with.
snap_image() {
	img=$cache/snap-$1.img
	if [ ! -s "$img.done" ]; then
		echo "generating a snapshot store of $1 exceptions in $cache ..." >&2
		awk -v n="$1" 'BEGIN {
			print "<snapshot_store chunk_size=\"8\" valid=\"true\" version=\"1\">"
			for (i = 0; i < n; i++) {
				a = int(i / 256); k = i % 256
				printf "  <exception old_chunk=\"%d\" new_chunk=\"%d\"/>\n", i * 2, 1 + a * 257 + 1 + k
			}
			print "</snapshot_store>"
		}' > "$img.xml"
		rm -f "$img"
		truncate -s 5G "$img"
		snap_restore -i "$img.xml" -o "$img"
		echo ok > "$img.done"
	fi
	echo "$img"
}

for size in ${SNAP_SIZES-"1M"}; do
	case $size in 1M) n=1000000 ;; *[!0-9]* | "") echo "bad snapshot size '$size'" >&2; exit 1 ;; *) n=$size ;; esac
	img=$(snap_image "$n")
	set -- $(measure "$bin/snap_check" -q "$img")
	printf '%-14s %5s %10s %10s %7s %10s %10s\n' snap_check "$size" "$1" - - "$2" -
done

# BENCH_THIN_TOOLS: which thin rows (default all; the reference takes
# minutes on the 20M image for restore).
thin_tools=${BENCH_THIN_TOOLS-"check dump restore ls delta"}
want() {
	case " $thin_tools " in *" $1 "*) return 0 ;; esac
	return 1
}

for size in $sizes; do
	img=$(image "$size")
	out=$cache/restore-$size.img
	[ -e "$out" ] || truncate -s 4G "$out"
	want check && row thin_check "$size" "$bin/thin_check" -q "$img"
	want dump && row thin_dump "$size" "$bin/thin_dump" -o /dev/null "$img"
	if want restore; then
		row thin_restore "$size" "$bin/thin_restore" -q -i "$img.xml" -o "$out"
		parse_floor "$img.xml"
	fi
	want ls && row thin_ls "$size" "$bin/thin_ls" -o DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS "$img"
	want delta && row thin_delta "$size" "$bin/thin_delta" --thin1 0 --thin2 1 "$img"
	floor=$(measure "$bin/pdata_tools" thin_read_floor "$img")
	echo "   floor (read and checksum each used block once): $floor"
	# thin_check against the floor, runs interleaved (so drift in the
	# machine's speed hits both), in milliseconds.
	i=0
	: > /tmp/dmpd-bench-pairs
	while [ $i -lt $((runs * 3)) ]; do
		t0=$(date +%s%N)
		"$bin/pdata_tools" thin_read_floor "$img" > /dev/null
		t1=$(date +%s%N)
		"$bin/thin_check" -q "$img" || true
		t2=$(date +%s%N)
		echo "$(((t1 - t0) / 1000)) $(((t2 - t1) / 1000))" >> /tmp/dmpd-bench-pairs
		i=$((i + 1))
	done
	f=$(cut -d' ' -f1 /tmp/dmpd-bench-pairs | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	c=$(cut -d' ' -f2 /tmp/dmpd-bench-pairs | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	awk -v f="$f" -v c="$c" 'BEGIN { printf "   thin_check %.1f ms, floor %.1f ms: %.2fx the floor (goal: 2x)\n", c / 1000, f / 1000, c / f }'
	if command -v strace > /dev/null; then
		calls=$(strace -f -c -e trace=pread64,read,preadv "$bin/thin_check" -q "$img" 2>&1 >/dev/null |
			awk '/pread64|preadv|read$/ {n += $4} END {print n+0}')
		used=$("$bin/pdata_tools" thin_read_floor --count "$img")
		echo "   thin_check read calls: $calls for $used used blocks"
	fi
done
