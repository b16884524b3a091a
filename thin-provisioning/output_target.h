// The output of a tool that writes new metadata (restore, repair).
//
// It must already exist (a block device or a file: we never create one, as
// the reference tools do not), be large enough, and not be the input.  The
// superblock is zeroed first so that a failed write never leaves an image
// that looks valid.
#pragma once

#include "persistent-data/block_io.h"

#include <memory>
#include <string>

namespace thin {

// Opens OUTPUT for writing after the checks above.  MIN_BLOCKS: the least
// size accepted.  INPUT: the tool's input path ("" if none) - refused as
// output.  Throws base::error with the reference's wording.
std::unique_ptr<pdata::file_block_io> open_output(const std::string &output,
                                                  const std::string &input, uint64_t min_blocks);

// Overwrites block 0 with zeroes and syncs (called first, and again when a
// writer fails).
void invalidate_superblock(pdata::block_io &io);

extern const char OUTPUT_EXPLANATION[];

} // namespace thin
