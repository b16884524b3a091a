#!/bin/bash
# compare-check-output.sh OLD NEW: what thin_check, cache_check and era_check
# print (stderr and exit code) for every kind of damage our generators make,
# from two builds (OLD/pdata_tools, NEW/pdata_tools) on the same images
# (made by OLD's generators).  Prints each case whose output differs, as a
# diff, and a last line "N cases, N differ".  Used to show that a refactor
# changed no verdict and only the wording it meant to.
set -u
old=$1 new=$2
fx=$(dirname "$0")/../functional-tests/fixtures/kernel
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=0 differ=0

# compare NAME TOOL ARGS... (the image is the last argument)
compare() {
	name=$1
	shift
	cases=$((cases + 1))
	"$old/pdata_tools" "$@" > /dev/null 2> "$tmp/old.err"
	echo "exit $?" >> "$tmp/old.err"
	"$new/pdata_tools" "$@" > /dev/null 2> "$tmp/new.err"
	echo "exit $?" >> "$tmp/new.err"
	if ! cmp -s "$tmp/old.err" "$tmp/new.err"; then
		differ=$((differ + 1))
		echo "=== $name: $*"
		diff "$tmp/old.err" "$tmp/new.err" | head -20
	fi
}

# thin: one base with snapshots (shared subtrees, counts of 3 and more) and
# a held metadata snapshot.
base=$tmp/thin-base.img
truncate -s 16M "$base"
"$old/pdata_tools" thin_generate_metadata -q -o "$base" --devices 3 --mappings 2000 --run-length 5 \
	--snapshots 3 --writes 200 --metadata-snap
thin_case() {
	name=$1
	shift
	cp "$base" "$tmp/t.img"
	"$old/pdata_tools" thin_generate_damage "$tmp/t.img" --seed 7 "$@" > /dev/null 2>&1 || return 0
	compare "$name" thin_check "$tmp/t.img"
	compare "$name -m" thin_check -m "$tmp/t.img"
	compare "$name --super-block-only" thin_check --super-block-only "$tmp/t.img"
}
for role in superblock snapshot-superblock details-node top-level-node mapping-internal mapping-leaf \
	metadata-sm-index metadata-sm-bitmap metadata-sm-ref-counts data-sm-index data-sm-bitmap data-sm-ref-counts; do
	for k in bad-checksum zero-block; do
		thin_case "$k $role" --kind "$k" --target "$role"
	done
done
for w in live snapshot; do
	thin_case "zero-block live $w" --kind zero-block --target mapping-leaf --where "$w"
	thin_case "drop-details $w" --kind drop-details --where "$w"
	thin_case "double-ref $w" --kind double-ref --where "$w"
done
for k in keys-out-of-order mapping-past-end mapped-blocks cycle zero-superblock stale-superblock needs-check \
	metadata-nr-blocks truncate; do
	thin_case "$k" --kind "$k"
done
for sm in metadata data; do
	for k in count-high count-low overflow-high overflow-low overflow-drop; do
		thin_case "$k $sm" --kind "$k" --sm "$sm"
	done
done
for n in 1 3 10 30; do
	thin_case "random $n" --kind random --count "$n"
done
for f in "$fx"/thin-*/*.img.bz2; do
	bzcat "$f" > "$tmp/k.img"
	compare "kernel $f" thin_check "$tmp/k.img"
done

# cache and era: the kernel's images, damaged by kind.
for c in cache-v1 cache-v2; do
	for k in "bad-checksum --target superblock" "bad-checksum --target mapping" "bad-checksum --target hint" \
		"bad-checksum --target discard" "bad-checksum --target dirty" "bad-checksum --target mapping-index" \
		count-high count-low bad-mapping-flags duplicate-origin needs-check; do
		bzcat "$fx/$c/meta.img.bz2" > "$tmp/c.img"
		# shellcheck disable=SC2086
		"$old/pdata_tools" cache_generate_damage "$tmp/c.img" --kind $k > /dev/null 2>&1 || continue
		compare "$c $k" cache_check "$tmp/c.img"
	done
done
for k in "bad-checksum --target superblock" "bad-checksum --target writeset-tree" "bad-checksum --target writeset" \
	"bad-checksum --target era-array" "bad-checksum --target era-array-index" count-high count-low era-too-high; do
	bzcat "$fx/era-snap/meta.img.bz2" > "$tmp/e.img"
	# shellcheck disable=SC2086
	"$old/pdata_tools" era_generate_damage "$tmp/e.img" --kind $k > /dev/null 2>&1 || continue
	compare "era $k" era_check "$tmp/e.img"
done
echo "$cases cases, $differ differ"
