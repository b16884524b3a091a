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

# TSAN_FUNC_FILTER picks the functional suites (a gtest filter); the unit
# tests always run whole, they take seconds.  By default every suite but the
# packaging tests (they check the release binary) and the field fuzz sample
# (the damage suites again, at many times the cost).
status=0
log=$(mktemp)
env -u GTEST_FILTER "$src/build-aux/run-tests.sh" "$unit" | tee "$log" || status=1
unit_line=$(tail -n 1 "$log")
GTEST_FILTER="${TSAN_FUNC_FILTER:--Packaging.*:FieldFuzz.*}" DMPD_BIN=$bin DMPD_SRC=$src \
	"$src/build-aux/run-tests.sh" "$func" | tee "$log" || status=1
func_line=$(tail -n 1 "$log")
rm -f "$log"
# One total of both runs, in run-tests.sh's words.  (A pipe's status is
# tee's, so the verdict comes from the totals: a failure, or no test run.)
tests_line=$(printf '%s\n%s\n' "$unit_line" "$func_line" |
	awk '{ p += $1; f += $3 } END { printf "%d passed, %d failed", p, f }')
for line in "$unit_line" "$func_line"; do
	case $line in "0 passed,"*) status=1 ;; *" passed, 0 failed") ;; *) status=1 ;; esac
done

work=$(mktemp -d "${TMPDIR:-/var/tmp}/dmpd-tsan.XXXXXX")
trap 'rm -rf "$work"' EXIT
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
