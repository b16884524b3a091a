// Walks dm-cache metadata into an emitter: the engine of cache_dump (and,
// with repair, the reading half of cache_repair).  Damage is collected as
// lines naming blocks; damaged parts are skipped.
#pragma once

#include "caching/emitter.h"
#include "caching/superblock.h"
#include "persistent-data/block_manager.h"

#include <string>
#include <vector>

namespace caching {

struct dump_result {
	std::vector<std::string> damage;
};

dump_result dump_cache(pdata::block_manager &bm, const superblock &sb, emitter &out);

// The hint width an image's hint array holds (its array blocks record their
// value size), or the superblock's policy_hint_size, or 4.
uint32_t hint_width_of(pdata::block_manager &bm, const superblock &sb);

} // namespace caching
