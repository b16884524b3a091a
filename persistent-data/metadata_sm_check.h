// Compares a metadata space map with a recount (the cache and era
// checkers; thin_check has its own, streaming, version for very large
// pools).  The caller counts every reference its structures make into
// REFS; this adds the space map's own blocks and reports every block whose
// stored count differs.
#pragma once

#include "persistent-data/block_manager.h"
#include "persistent-data/count_array.h"
#include "persistent-data/space_map.h"

#include <string>
#include <vector>

namespace pdata {

struct sm_count_mismatch {
	block_address block;
	uint32_t stored, expected; // stored < expected: a decrement would go below zero
};

struct metadata_sm_report {
	std::vector<std::string> problems; // the map itself is damaged (fatal)
	std::vector<sm_count_mismatch> mismatches;
};

metadata_sm_report check_metadata_space_map(block_manager &bm, const sm_root &root, count_array &refs);

// Adds a reference for every node of the btree at ROOT and, when
// LEAF_VALUES_ARE_BLOCKS, for every block its leaves point at (a dm-array's
// array blocks).  Damaged nodes are skipped (the caller's walk reports them).
void count_tree_references(block_manager &bm, block_address root, uint32_t value_size, bool leaf_values_are_blocks,
                           count_array &refs);

} // namespace pdata
