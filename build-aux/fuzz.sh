#!/bin/sh
# make fuzz: runs each libFuzzer target for FUZZ_TIME seconds (default 60),
# starting from seed corpora made with the generator and the kept
# regression inputs.  A crash stops with the input saved in the working
# corpus directory; copy it to unit-tests/fuzz-regressions/<target>/ once
# fixed, so the unit tests replay it.
set -eu
fuzzbin=$1
tools=$2
time=${FUZZ_TIME:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${DMPD_FUZZ_DIR:-/var/tmp/dmpd-fuzz}
mkdir -p "$work"

seed_images() {
	dir=$1
	[ -e "$dir/.seeded" ] && return
	i=0
	for args in "--devices 1 --mappings 50" "--devices 2 --mappings 300 --snapshots 2 --writes 10 --metadata-snap" \
		"--devices 3 --mappings 100 --run-length 1"; do
		truncate -s 256K "$dir/seed$i"
		# shellcheck disable=SC2086
		"$tools/pdata_tools" thin_generate_metadata -q -o "$dir/seed$i" $args
		[ "$1" = "$work/thin_xml" ] && { "$tools/thin_dump" "$dir/seed$i" > "$dir/seed$i.xml"; rm "$dir/seed$i"; }
		i=$((i + 1))
	done
	touch "$dir/.seeded"
}

status=0
for t in superblock_decoder btree_node_decoder thin_image thin_xml cache_image era_image snap_store; do
	corpus=$work/$t
	mkdir -p "$corpus"
	case $t in thin_image | thin_xml) seed_images "$corpus" ;; esac
	[ "$t" = era_image ] && [ ! -e "$corpus/kernel" ] && gzip -dc "$here/functional-tests/fixtures/kernel/era-basic/meta.img.gz" | head -c 262144 > "$corpus/kernel"
	[ "$t" = cache_image ] && [ ! -e "$corpus/kernel" ] && gzip -dc "$here/functional-tests/fixtures/kernel/cache-basic/meta.img.gz" | head -c 262144 > "$corpus/kernel"
	echo "== $t: ${time}s"
	if ! "$fuzzbin/fuzz-$t" -max_total_time="$time" -max_len=262144 -rss_limit_mb=4096 \
		-artifact_prefix="$work/crash-$t-" -print_final_stats=1 \
		"$corpus" "$here/unit-tests/fuzz-regressions/$t" 2>"$work/$t.log"; then
		tail -n 40 "$work/$t.log"
		echo "fuzz-$t found a failure: $work/crash-$t-*" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/$t.log" | sed "s/^/  /"
	fi
done
exit $status
