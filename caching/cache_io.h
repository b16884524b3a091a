// Opening cache metadata for the cache tools.
#pragma once

#include "caching/superblock.h"
#include "persistent-data/block_io.h"

#include <memory>
#include <string>
#include <vector>

namespace caching {

// PATH read-only; base::error with TOO_SMALL when it cannot hold a superblock.
std::unique_ptr<pdata::file_block_io> open_cache_metadata(const std::string &path, const std::string &too_small);

// The superblock; base::error naming PATH and the first problem.
superblock read_cache_superblock(pdata::block_io &io);

// As read_cache_superblock for a repair, each field taken as evidence: a
// superblock whose only fault is its checksum is still used (its fields are
// all sound); one whose checksum holds has each wrong field replaced by what
// the kernel would use (flags, block number, magic, metadata block size,
// policy name, hint size, feature flags) or what the device shows (the
// format, from the dirty bitset's root), or dropped (hint, discard or dirty
// roots past the device's end: with the dirty bitset lost, every cached
// block counts as dirty).  NOTES says what was done.  Throws when the
// superblock cannot be used at all.
superblock read_cache_superblock_for_repair(pdata::block_io &io, std::vector<std::string> &notes);

} // namespace caching
