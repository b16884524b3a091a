#!/bin/bash
# kernel-test.sh BINDIR: the real kernel reads what our tools wrote.
#
# For each kernel-written fixture (functional-tests/fixtures/kernel/), our
# dump of the kernel's metadata is restored by our restore tool into a fresh
# metadata image, and the kernel lab's VM (../shared/kernel-lab, Debian 12's
# 6.1 kernel under qemu) opens that image with the fixture's data devices:
#   thin   consume.sh activates every device the manifest lists and compares
#          its sha256 with the one the kernel recorded when it wrote the pool
#          (then takes a snapshot, writes, and tears down cleanly); for
#          thin-many's image with the metadata snapshot held, the held
#          snapshot's dump (thin_dump -m) is restored and checked too, against
#          the state the snapshot holds;
#   cache, era   reopen.sh opens the target on the restored metadata and
#          compares the sha256 of the whole device.
# Minutes, not seconds (the VM emulates its CPUs), so `make kernel-test`
# runs it, not `make test`.  Exits non-zero when any image does not match.
set -euo pipefail
BIN=$(cd "${1:?usage: kernel-test.sh BINDIR}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=${KERNEL_LAB:-$ROOT/../shared/kernel-lab}
FIX=$ROOT/functional-tests/fixtures/kernel
export WORK=${WORK:-${TMPDIR:-/tmp}/dmpd-kernel-lab}
[ -x "$LAB/consume.sh" ] || { echo "kernel-test: no kernel lab at $LAB" >&2; exit 1; }
[ -e "$WORK/initrd-base.cpio.gz" ] || (cd "$LAB" && ./setup.sh)
T=$(mktemp -d /tmp/dmpd-kernel-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
results=()
failed=0

unpack() { # SRC DST (.gz or .bz2)
	case $1 in
	*.bz2) bzip2 -dc "$1" | cp --sparse=always /dev/stdin "$2" ;;
	*.gz) gzip -dc "$1" | cp --sparse=always /dev/stdin "$2" ;;
	esac
}
disk() { ls "$FIX/$1/$2".img.* | head -1; } # FIXTURE SERIAL
# The manifest as it applies to one metadata image: the image's own
# "image SERIAL KEY ..." lines replace the general ones of the same key.
image_manifest() { # FIXTURE SERIAL
	local m=$FIX/$1/manifest.txt own
	own=$(sed -n "s/^image $2 //p" "$m")
	if [ -z "$own" ]; then
		grep -v '^image ' "$m"
		return
	fi
	grep -v '^image ' "$m" | grep -v -E "^($(echo "$own" | awk '{print $1}' | sort -u | paste -sd'|'))( |$)"
	echo "$own"
}
record() { # NAME SECONDS VERDICT
	results+=("$(printf '%-24s %5s s  %s' "$1" "$2" "$3")")
	[ "$3" = MATCH ] || failed=1
}

thin_case() { # FIXTURE SERIAL [-m]
	local f=$1 s=$2 m=${3:-} name=$1/$2${3:+ -m} dir=$T/$1-$2${3:-}
	mkdir -p "$dir"
	unpack "$(disk "$f" "$s")" "$dir/kernel.img"
	unpack "$(disk "$f" data)" "$dir/data.img"
	image_manifest "$f" "$s" > "$dir/manifest.txt"
	local state=()
	[ -n "$m" ] && state=(--state "$(awk '$1 == "metadata_snap_state" {print $2}' "$dir/manifest.txt")")
	"$BIN/thin_dump" $m "$dir/kernel.img" > "$dir/dump.xml"
	truncate -s "$(stat -c %s "$dir/kernel.img")" "$dir/ours.img"
	"$BIN/thin_restore" -i "$dir/dump.xml" -o "$dir/ours.img"
	local t0=$SECONDS verdict=MISMATCH
	if "$LAB/consume.sh" --manifest "$dir/manifest.txt" "${state[@]}" --out "$dir/consume" \
		"$dir/ours.img" "$dir/data.img" > "$dir/consume.log" 2>&1; then
		verdict=MATCH
	fi
	echo "== $name: $(grep -c '^MATCH thin' "$dir/consume.log") devices match, $(grep -c '^MISMATCH' "$dir/consume.log") do not"
	grep -E '^(MISMATCH|consume:)' "$dir/consume.log" || tail -5 "$dir/consume.log"
	record "$name" $((SECONDS - t0)) $verdict
}

reopen_case() { # FIXTURE: cache or era, restored by our tool
	local f=$1 tool dir=$T/$1 hold=$T/holdout
	mkdir -p "$dir" "$hold/$f"
	cp "$FIX/$f/manifest.txt" "$hold/$f/"
	: > "$hold/$f/images.txt"
	while read -r serial role raw sha stored; do
		case $serial in \#*) continue ;; esac
		unpack "$FIX/$f/$stored" "$dir/$serial.img"
		zstd -q -T2 -f "$dir/$serial.img" -o "$hold/$f/$serial.img.zst"
		echo "$serial $role $raw $sha $serial.img.zst" >> "$hold/$f/images.txt"
	done < "$FIX/$f/images.txt"
	case $f in cache-*) tool=cache ;; *) tool=era ;; esac
	"$BIN/${tool}_dump" "$dir/meta.img" > "$dir/dump.xml"
	truncate -s "$(stat -c %s "$dir/meta.img")" "$dir/ours.img"
	local version=()
	[ "$f" = cache-v1 ] && version=(--metadata-version 1)
	"$BIN/${tool}_restore" "${version[@]}" -i "$dir/dump.xml" -o "$dir/ours.img"
	local t0=$SECONDS verdict=MISMATCH
	if HOLDOUT=$hold "$LAB/reopen.sh" "$f" "$dir/ours.img" > "$dir/reopen.log" 2>&1; then
		verdict=MATCH
	fi
	echo "== $f: $(grep -E '^(written|status open|reopen)' "$dir/reopen.log" | tr '\n' ';')"
	record "$f" $((SECONDS - t0)) $verdict
}

thin_case thin-many held
thin_case thin-many held -m
thin_case thin-many deleted
thin_case thin-many meta
thin_case thin-basic meta
thin_case thin-discard meta
thin_case thin-meta-grow meta
thin_case thin-no-space meta
reopen_case cache-v1
reopen_case cache-v2
reopen_case era-snap

echo
echo "kernel-test: what the kernel read back from our restored metadata"
printf '%s\n' "${results[@]}"
[ "$failed" = 0 ] && echo "kernel-test: ALL MATCH" || echo "kernel-test: MISMATCHES"
exit $failed
