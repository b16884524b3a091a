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

// REPAIR: read what can be read (array blocks by position, a cache block
// count from the mapping array, lost dirty bits as dirty), dropping a uuid
// that is no text; the superblock is read_cache_superblock_for_repair's.
dump_result dump_cache(pdata::block_manager &bm, superblock sb, emitter &out, bool repair = false);

// The hint width an image's hint array holds (its array blocks record their
// value size), or the superblock's policy_hint_size, or 4.
uint32_t hint_width_of(pdata::block_manager &bm, const superblock &sb);

} // namespace caching
