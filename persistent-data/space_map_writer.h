// Writes complete space maps in one pass from counts gathered in memory.
//
// Writers that build metadata from scratch (restore, repair) count every
// reference while they build, then lay the maps down here: bitmaps, their
// index, and the overflow tree of counts >= 3 - no per-block read-modify-
// write through the transactional maps.
#pragma once

#include "persistent-data/count_array.h"
#include "persistent-data/space_map.h"
#include "persistent-data/transaction_manager.h"

namespace pdata {

// The data device's map: COUNTS holds one count per data block.  Its blocks
// are allocated through TM (whose space map counts them).
sm_root write_disk_space_map(transaction_manager &tm, const count_array &counts);

// The metadata device's own map.  COUNTS is the core map TM allocates from,
// holding every metadata block's count; the map's own blocks (bitmaps, index
// block, overflow tree) are allocated from it first, so they count
// themselves.  Nothing may be allocated through TM afterwards.
sm_root write_metadata_space_map(transaction_manager &tm, core_space_map &counts);

} // namespace pdata
