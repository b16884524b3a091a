#!/bin/bash
# kernel-scenario.sh [--install] NAME...
#
# Runs functional-tests/kernel-scenarios/NAME.sh in the kernel lab's VM
# (../shared/kernel-lab: Debian 12's 6.1 kernel under qemu) on fresh sparse
# disks, one per "#DISK serial size role" line of the script, and keeps what
# the kernel wrote in $HOLDOUT/NAME/ (default /tmp/dmpd-kernel-lab/results):
# manifest.txt, log.txt, dmesg.txt, images.txt and one <serial>.img.zst per
# disk.  That layout is the lab's own, so its consume.sh and reopen.sh take
# these results as they take its scenarios'.  The scenario gets NAME as its
# first argument (one script can serve several names, linked to it).
#
# With --install (or --install-only, for the disks of the last run) the images also go into functional-tests/fixtures/kernel/NAME/
# as <serial>.img.gz, or <serial>.img.bz2 where that is smaller (bzip2 packs
# the long zero runs of a large sparse cache or era device to almost
# nothing), beside manifest.txt and images.txt.  Raw metadata bytes differ
# from run to run (block placement depends on when commits happen), so a
# fixture is replaced only on purpose.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=${KERNEL_LAB:-$ROOT/../shared/kernel-lab}
WORK=${WORK:-${TMPDIR:-/tmp}/dmpd-kernel-lab}
HOLDOUT=${HOLDOUT:-$WORK/results}
install=0 run_vm=1
case "${1:-}" in
--install) install=1; shift ;;
--install-only) install=1; run_vm=0; shift ;; # the last run's disks, again
esac
[ $# -gt 0 ] || { echo "usage: $0 [--install|--install-only] NAME..." >&2; exit 2; }
[ -x "$LAB/run-vm.sh" ] || { echo "$0: no kernel lab at $LAB" >&2; exit 1; }
[ -e "$WORK/initrd-base.cpio.gz" ] || (cd "$LAB" && ./setup.sh)
export WORK
for name in "$@"; do
	script=$ROOT/functional-tests/kernel-scenarios/$name.sh
	[ -f "$script" ] || { echo "$0: no scenario $script" >&2; exit 1; }
	run=$WORK/runs/$name
	out=$HOLDOUT/$name
	if [ "$run_vm" = 1 ]; then
		rm -rf "$run"
		mkdir -p "$run"
		disks=()
		while read -r _ serial size role; do
			truncate -s "$size" "$run/$serial.img"
			disks+=("$serial=$run/$serial.img")
		done < <(grep '^#DISK ' "$script")
		t0=$(date +%s)
		rc=0
		"$LAB/run-vm.sh" "$script" "$run/out" "${disks[@]}" -- "$name" || rc=$?
		t1=$(date +%s)
		echo "$name: VM rc=$rc in $((t1 - t0)) s"
		rm -rf "$out"
		mkdir -p "$out"
		for f in manifest.txt log.txt dmesg.txt console.txt; do
			[ -e "$run/out/$f" ] && cp "$run/out/$f" "$out/$f"
		done
		cp "$script" "$out/scenario.sh"
		if [ "$rc" != 0 ]; then
			echo "$name FAILED; the end of its log:" >&2
			tail -25 "$out/log.txt" >&2 || true
			exit 1
		fi
		{
			echo "# scenario $name, host wall $((t1 - t0)) s"
			echo "# serial role raw_bytes raw_sha256 stored_file"
		} > "$out/images.txt"
		while read -r _ serial size role; do
			img=$run/$serial.img
			zstd -q -19 -T2 -f "$img" -o "$out/$serial.img.zst"
			echo "$serial $role $(stat -c %s "$img") $(sha256sum "$img" | cut -d' ' -f1) $serial.img.zst" >> "$out/images.txt"
		done < <(grep '^#DISK ' "$script")
		echo "$name: results in $out"
	fi
	[ "$install" = 1 ] || continue
	fix=$ROOT/functional-tests/fixtures/kernel/$name
	rm -rf "$fix"
	mkdir -p "$fix"
	cp "$out/manifest.txt" "$fix/"
	{
		echo "# scenario $name (functional-tests/kernel-scenarios/$name.sh), run $(date -u +%F)"
		echo "# serial role raw_bytes raw_sha256 stored_file"
	} > "$fix/images.txt"
	while read -r _ serial size role; do
		img=$run/$serial.img
		gzip -9 -c "$img" > "$fix/$serial.img.gz"
		bzip2 -9 -c "$img" > "$fix/$serial.img.bz2"
		if [ "$(stat -c %s "$fix/$serial.img.bz2")" -lt "$(stat -c %s "$fix/$serial.img.gz")" ]; then
			rm "$fix/$serial.img.gz"; stored=$serial.img.bz2
		else
			rm "$fix/$serial.img.bz2"; stored=$serial.img.gz
		fi
		echo "$serial $role $(stat -c %s "$img") $(sha256sum "$img" | cut -d' ' -f1) $stored" >> "$fix/images.txt"
	done < <(grep '^#DISK ' "$script")
	du -sh "$fix"
done
