#!/bin/sh
# fuzz-fields.sh BINDIR FUNCTIONAL_TESTS TABLE: every field of every on-disk
# structure, every mutation, on every image of the field fuzz suite
# (functional-tests/field_fuzz_test.cc); prints the table (also kept in
# TABLE) and its totals.  Exits non-zero when any case went wrong.
set -u
bin=$1 tests=$2 table=$3
start=$(date +%s)
DMPD_BIN=$bin DMPD_SRC=$(cd "$(dirname "$0")/.." && pwd) DMPD_FUZZ_FIELDS=all DMPD_FUZZ_FIELDS_TABLE=$table \
	"$tests" --gtest_filter='FieldFuzz.*' > "$table.log" 2>&1
rc=$?
column -t -s "$(printf '\t')" "$table"
echo
echo "by structure (cases, detected by us, by the reference, repairs that recovered fewer than the reference):"
awk -F'\t' 'NR > 1 && NF >= 10 {
	split($2, f, "."); s = f[1] "." f[2]
	n[s]++; d[s] += $5 == "yes"; r[s] += $6 == "yes"; w[s] += $10 != "ok"
} END { for (s in n) printf "  %-36s %5d %5d %5d %3d wrong\n", s, n[s], d[s], r[s], w[s] }' "$table" | sort
grep -E "^(cases|recovered) " "$table"
echo "fuzz-fields: $(( $(date +%s) - start )) s; gtest log in $table.log"
exit $rc
