// Reading dm-era metadata: the writesets (archived ones from the writeset
// tree, then the live one) and the era array; era_dump, era_invalidate and
// era_check's walk all go through here.  Damage is collected, not thrown.
#pragma once

#include "era/emitter.h"
#include "era/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/block_manager.h"

#include <string>
#include <vector>

namespace era {

struct writeset_entry {
	uint32_t era;
	writeset ws;
};

// The archived writesets in ascending era, then the live one (with era
// current_era) when the superblock has one and LIVE is set (a metadata
// snapshot's copy points its live writeset at freed blocks: never follow it).
// A writeset has a bit per block: one whose nr_bits is not the superblock's
// nr_blocks is damage, and read as nr_blocks bits.
std::vector<writeset_entry> writesets_of(pdata::block_manager &bm, const superblock &sb, bool live,
                                         std::vector<std::string> &damage);

// The bits of a writeset (unreadable words read as LOST_SET; HOW: array.h).
std::vector<bool> writeset_bits(pdata::block_manager &bm, const writeset &ws, std::vector<std::string> &damage,
                                pdata::array_read how = pdata::array_read::strict, bool lost_set = false);

// The era array (unreadable entries read as 0).
std::vector<uint32_t> era_array_of(pdata::block_manager &bm, const superblock &sb, std::vector<std::string> &damage,
                                   pdata::array_read how = pdata::array_read::strict);

// LOGICAL: the writesets folded into the era array, writesets left out.
// An era above the current one is damage; REPAIR lowers it to the current
// era, which keeps the block in every list era_invalidate can give.
// REPAIR also takes the number of blocks from the era array when the
// superblock's disagrees.
void dump_era(pdata::block_manager &bm, superblock sb, bool logical, bool live, emitter &out,
              std::vector<std::string> &damage, bool repair = false);

// Blocks written in era SINCE or later: by the era array, or set in a
// writeset of such an era.
std::vector<bool> written_since(pdata::block_manager &bm, const superblock &sb, uint32_t since, bool live,
                                std::vector<std::string> &damage);

} // namespace era
