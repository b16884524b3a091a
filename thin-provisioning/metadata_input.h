// Opening a pool's metadata for the tools that read it.
#pragma once

#include "persistent-data/block_io.h"
#include "thin-provisioning/superblock.h"

#include <memory>
#include <string>

namespace thin {

// Opens PATH read-only.  Throws base::error with TOO_SMALL as the message
// when it cannot even hold a superblock (each tool words this its own way).
std::unique_ptr<pdata::file_block_io> open_metadata(const std::string &path,
                                                    const std::string &too_small);

// Reads the superblock at LOCATION; throws base::error with the first
// problem (e.g. "bad checksum in superblock, wanted N").
superblock read_superblock(pdata::block_io &io, pdata::block_address location = 0);

// True when the first bytes look like XML (a user handed XML to a tool
// that reads binary metadata).
bool looks_like_xml(pdata::block_io &io);

} // namespace thin
