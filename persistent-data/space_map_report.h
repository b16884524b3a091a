// How every checker (thin, cache, era) reports a space-map comparison: the
// map's own damage, then each block whose stored count differs from the
// recount - stored below it is fatal (a decrement would drop below zero),
// above it a leak - in block order, at most check_report::MAX_LINES lines
// of each kind and a count of the rest.
#pragma once

#include "base/check_report.h"
#include "persistent-data/space_map_comparison.h"

#include <vector>

namespace pdata {

// Finishes CMP and reports what it found; the leaks go into LEAKS too (a
// checker that mends them sets each to its real count).  Returns whether
// the map itself is sound (no problem beyond counts that differ).
bool report_space_map_comparison(base::check_report &report, sm_comparison &cmp,
                                 std::vector<sm_count_mismatch> &leaks);

} // namespace pdata
