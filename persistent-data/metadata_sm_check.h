// Compares a whole metadata space map with a recount, for a checker that
// has counted every reference its structures make into REFS (cache_check,
// era_check; thin_check drives the same reader and comparison itself, as
// its census reads the map's trees).  This adds the space map's own blocks
// and reports every block whose stored count differs.
#pragma once

#include "base/check_report.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/count_array.h"
#include "persistent-data/space_map.h"
#include "persistent-data/space_map_comparison.h"

#include <vector>

namespace pdata {

// Reports the map's damage and every count that differs (as
// report_space_map_comparison does); the leaks go into LEAKS.  Returns
// whether the map could be read whole and is itself sound, so that its
// counts can be trusted (and the leaks mended).
bool check_metadata_space_map(block_manager &bm, const sm_root &root, count_array &refs,
                              base::check_report &report, std::vector<sm_count_mismatch> &leaks);

// Adds a reference for every node of the btree at ROOT and, when
// LEAF_VALUES_ARE_BLOCKS, for every block its leaves point at (a dm-array's
// array blocks).  Damaged nodes are skipped (the caller's walk reports them).
void count_tree_references(block_manager &bm, block_address root, uint32_t value_size, bool leaf_values_are_blocks,
                           count_array &refs);

} // namespace pdata
