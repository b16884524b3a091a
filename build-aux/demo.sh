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
