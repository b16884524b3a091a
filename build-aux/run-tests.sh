#!/bin/sh
# Runs every test binary given, lets each print its own report, and ends
# with one line that totals all suites: "N passed, N failed".
# Exits non-zero when any test failed or a binary did not complete.
set -u
passed=0
failed=0
broken=0
for t in "$@"; do
	log=$(mktemp)
	"$t" 2>&1 | tee "$log"
	rc=$?
	# tee hides the binary's status; recover it from the report itself.
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) tests\{0,1\}.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) tests\{0,1\}, listed below.*/\1/p' "$log" | tail -n 1)
	if ! grep -q '^\[==========\] .* ran\.' "$log"; then
		echo "error: $t did not complete its run" >&2
		broken=$((broken + 1))
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	rm -f "$log"
	: "$rc"
done
failed=$((failed + broken))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
