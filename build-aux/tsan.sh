#!/bin/sh
# tsan.sh BINDIR UNIT FUNC: the threaded code under ThreadSanitizer (the
# build in BINDIR made with SANITIZE=thread; FUNC, the functional tests'
# driver, only starts the tools and need not be).  Runs the unit tests (the XML
# reader in one and two threads, the batch reader, the census, the count
# feeder), the functional tests (every tool the tests run is the TSan build:
# thin_check, thin_dump, restores and repairs on the kernel corpus and the
# damage suites), then thin_check, thin_check -m, thin_dump, thin_ls,
# thin_repair and a two-thread thin_restore on a generated pool of 2M
# mappings (8 devices of TSAN_MAPPINGS, default 240000).  Any race report
# stops the binary with exit code 66, which fails its test or this script.
# Ends with "N passed, N failed".
set -eu
bin=$1 unit=$2 func=$3
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
src=$(cd "$(dirname "$0")/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/var/tmp}/dmpd-tsan.XXXXXX")
trap 'rm -rf "$work"' EXIT

# report RC_FILE BINARY: run-tests.sh's report as it goes, its verdict (a
# failure, or no test run) kept in RC_FILE: a pipe's status is tee's.
report() {
	{ "$src/build-aux/run-tests.sh" "$2"; echo $? > "$1"; } | tee -a "$work/log"
}
# TSAN_FUNC_FILTER picks the functional suites (a gtest filter); the unit
# tests always run whole, they take seconds.  By default every suite but the
# packaging tests (they check the release binary) and the field fuzz sample
# (the damage suites again, at many times the cost).
(unset GTEST_FILTER; report "$work/unit.rc" "$unit")
(export GTEST_FILTER="${TSAN_FUNC_FILTER:--Packaging.*:FieldFuzz.*}" DMPD_BIN="$bin" DMPD_SRC="$src"
	report "$work/func.rc" "$func")
status=0
[ "$(cat "$work/unit.rc")" = 0 ] && [ "$(cat "$work/func.rc")" = 0 ] || status=1
# (one total of both reports' last lines)
tests_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/log" |
	awk '{ p += $1; f += $3 } END { printf "%d passed, %d failed", p, f }')

img=$work/pool.img
truncate -s 1G "$img"
"$bin/thin_generate_metadata" -q -o "$img" --xml "$work/pool.xml" --devices 8 --mappings "${TSAN_MAPPINGS:-240000}" \
	--run-length 8 --snapshots 40 --writes 1000 --metadata-snap
passed=0 failed=0
step() {
	if "$@" > "$work/out" 2> "$work/err"; then
		passed=$((passed + 1))
	else
		echo "tsan: FAILED ($?): $*" >&2
		head -40 "$work/err" >&2
		failed=$((failed + 1))
	fi
}
step "$bin/thin_check" "$img"
step "$bin/thin_check" -m "$img"
step "$bin/thin_dump" -o "$work/dump.xml" "$img"
step "$bin/thin_dump" --repair -o "$work/repair.xml" "$img"
step "$bin/thin_ls" "$img"
truncate -s 1G "$work/restored.img" "$work/repaired.img"
step "$bin/thin_restore" -i "$work/pool.xml" -o "$work/restored.img"
step "$bin/thin_check" "$work/restored.img"
step "$bin/thin_repair" -i "$img" -o "$work/repaired.img"
echo "tsan on the generated pool (8 devices of ${TSAN_MAPPINGS:-240000} mappings): $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
echo "$tests_line (tests); $passed passed, $failed failed (generated pool)"
exit $status
