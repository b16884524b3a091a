// Opening cache metadata for the cache tools.
#pragma once

#include "caching/superblock.h"
#include "persistent-data/block_io.h"

#include <memory>
#include <string>

namespace caching {

// PATH read-only; base::error with TOO_SMALL when it cannot hold a superblock.
std::unique_ptr<pdata::file_block_io> open_cache_metadata(const std::string &path, const std::string &too_small);

// The superblock; base::error naming PATH and the first problem.
superblock read_cache_superblock(pdata::block_io &io);

} // namespace caching
