// Writes dm-cache metadata from emitter events (cache_restore, the writing
// half of cache_repair): mapping array, hint array, discard bitset, the
// format-2 dirty bitset, the metadata space map, and the superblock last.
#pragma once

#include "caching/emitter.h"
#include "persistent-data/block_manager.h"

#include <memory>

namespace caching {

struct build_options {
	uint32_t version = 2;        // the newer line's default; the reference 0.9.0 writes 1
	bool clean_shutdown = true;  // --omit-clean-shutdown clears it
};

// Throws base::xml_input_error for what the stream says wrong (a cache block
// mapped twice, an origin block mapped twice).
std::unique_ptr<emitter> make_cache_builder(pdata::block_manager &bm, const build_options &opts);

} // namespace caching
