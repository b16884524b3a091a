// Writes dm-era metadata from emitter events (era_restore): each writeset's
// bitset, the writeset tree, the era array, the metadata space map, and the
// superblock last.
#pragma once

#include "era/emitter.h"
#include "persistent-data/block_manager.h"

#include <memory>

namespace era {

std::unique_ptr<emitter> make_era_builder(pdata::block_manager &bm);

} // namespace era
