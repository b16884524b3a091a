// What every checker (thin, cache, era) returns beside its report (whose
// tally decides the exit code): whether the superblock could be read,
// whether the space maps were read whole and compared with the recount, and
// the blocks whose stored count is above the real one - the leaks a checker
// may mend (thin_check --auto-repair, cache_check --auto-repair) by setting
// each to its real count.  Each target's checker extends it with what its
// own tools need.
#pragma once

#include "persistent-data/space_map_comparison.h"

#include <vector>

namespace pdata {

struct checker_result {
	bool superblock_ok = false;
	bool space_maps_checked = false;
	std::vector<sm_count_mismatch> metadata_leaks;
};

} // namespace pdata
