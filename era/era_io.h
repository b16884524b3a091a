// Opening era metadata for the era tools.
#pragma once

#include "era/superblock.h"
#include "persistent-data/block_io.h"

#include <memory>
#include <string>

namespace era {

std::unique_ptr<pdata::file_block_io> open_era_metadata(const std::string &path, const std::string &too_small);
// The superblock at LOCATION (0, or a metadata snapshot's copy); base::error
// naming the device and the first problem.
superblock read_era_superblock(pdata::block_io &io, block_address location = 0);
// As read_era_superblock for --repair, each field taken as evidence: a
// superblock whose only fault is its checksum is still used, since every
// field is checked all the same and the walks below verify what the roots
// lead to; one whose checksum holds has its wrong fields replaced (flags,
// block number, magic, version, metadata block size) or dropped (a current
// writeset, metadata snapshot, writeset tree or era array past the device's
// end).  NOTE says what was done.  Throws when the block cannot be trusted.
superblock read_era_superblock_for_repair(pdata::block_io &io, std::string &note);

} // namespace era
