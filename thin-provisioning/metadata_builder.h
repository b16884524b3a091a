// Builds fresh binary metadata from the emitter stream: the writing half of
// thin_restore and thin_repair.
//
// Trees are built bottom-up from sorted input with full leaves; reference
// counts are gathered in memory while building and both space maps are
// written in one pass at the end; the superblock is written last, so a
// failure at any point leaves the output without a valid superblock.
#pragma once

#include "persistent-data/block_manager.h"
#include "thin-provisioning/emitter.h"

#include <memory>
#include <optional>

namespace thin {

struct build_overrides {
	std::optional<uint64_t> transaction_id, nr_data_blocks;
	std::optional<uint32_t> data_block_size;
};

// The kernel's limit on the metadata device: the metadata space map's index
// block holds 255 bitmaps of 16320 blocks.
constexpr uint64_t MAX_METADATA_BLOCKS = 255 * 16320;

// Blocks the metadata must have at least (a generous minimum for an empty
// pool: superblock, space maps, trees).
constexpr uint64_t MIN_METADATA_BLOCKS = 64;

// An emitter that writes metadata to BM's device.  Semantic errors in the
// stream (duplicate device, mapping beyond nr_data_blocks, overlapping
// mappings) throw input_error.  The superblock is written by end_superblock.
std::unique_ptr<emitter> make_metadata_builder(pdata::block_manager &bm,
                                               const build_overrides &overrides);

} // namespace thin
