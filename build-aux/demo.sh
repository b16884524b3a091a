#!/bin/sh
# make demo: the tools at work on a bundled example - a pool's metadata as
# the Linux kernel wrote it (functional-tests/fixtures/kernel/thin-basic).
set -eu
bin=$1
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/dmpd-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
PATH="$bin:$PATH"

step() { printf '\n$ %s\n' "$*"; "$@"; }

gzip -dc "$here/functional-tests/fixtures/kernel/thin-basic/meta.img.gz" > "$work/meta.img"
echo "A thin pool's metadata written by the kernel: 5 thin devices, snapshots of"
echo "snapshots, a held metadata snapshot ($work/meta.img)."

step thin_check "$work/meta.img"
step thin_dump --format human_readable --dev-id 0 "$work/meta.img"
echo
echo "Back it up as XML, restore it into a new metadata file, and check that:"
step thin_dump -o "$work/backup.xml" "$work/meta.img"
truncate -s 8M "$work/new.img"
step thin_restore -i "$work/backup.xml" -o "$work/new.img"
step thin_check -q "$work/new.img"
echo "exit code $?"
thin_dump "$work/new.img" > "$work/again.xml"
if cmp -s "$work/backup.xml" "$work/again.xml"; then
	echo "the restored metadata dumps to the same XML ($(wc -l < "$work/backup.xml") lines)"
else
	echo "MISMATCH between the backup and the restored metadata" >&2
	exit 1
fi

echo
echo "Now damage a copy: flip a bit in one of its mapping leaves."
cp "$work/meta.img" "$work/damaged.img"
step pdata_tools thin_generate_damage "$work/damaged.img" --kind bad-checksum --target mapping-leaf --where live --seed 3
echo
echo "thin_check finds it and names the block (exit 1 is expected here):"
if thin_check "$work/damaged.img"; then
	echo "thin_check missed the damage" >&2
	exit 1
fi
echo
echo "thin_repair salvages every readable mapping into a fresh metadata file:"
truncate -s 8M "$work/repaired.img"
step thin_repair -i "$work/damaged.img" -o "$work/repaired.img"
step thin_check "$work/repaired.img"
echo
echo "What was recovered, device by device (before, then after the repair):"
step thin_ls -o DEV,MAPPED_BLOCKS "$work/meta.img"
step thin_ls -o DEV,MAPPED_BLOCKS "$work/repaired.img"
echo
echo "Even a lost superblock: zero it, and thin_repair finds the trees by scanning."
cp "$work/meta.img" "$work/nosb.img"
step pdata_tools thin_generate_damage "$work/nosb.img" --kind zero-superblock
truncate -s 8M "$work/fromscan.img"
step thin_repair -i "$work/nosb.img" -o "$work/fromscan.img"
step thin_check -q "$work/fromscan.img"
if [ "$(thin_dump "$work/fromscan.img" | tail -n +2)" = "$(tail -n +2 "$work/backup.xml")" ]; then
	echo "every device and mapping recovered"
else
	echo "the scan lost mappings" >&2
	exit 1
fi
