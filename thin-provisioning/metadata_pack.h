// The pack format of thin_metadata_pack / thin_metadata_unpack: the blocks
// of a metadata device that are in use, compressed, for sending to support
// or keeping beside a bug report.
//
// Layout (all integers little-endian):
//   bytes 0-7    magic "DMPDPAK1"
//   bytes 8-15   nr_blocks: the device's size in 4096-byte blocks
//   bytes 16-23  nr_packed: the number of blocks that follow
//   bytes 24-    a zlib stream of nr_packed records, each a u64 block
//                number (strictly ascending, below nr_blocks) followed by
//                the block's 4096 bytes
// Unpacking writes each record at its place and leaves every other block
// zero.  Which blocks are packed: those the metadata space map counts as in
// use (plus the superblock); when that space map cannot be read (damaged
// metadata is what support most wants to see), every block that is not all
// zeros.
#pragma once

#include "persistent-data/block_io.h"

#include <cstdint>
#include <string>

namespace thin {

struct pack_stats {
	uint64_t nr_blocks = 0, packed = 0, bytes_written = 0;
	bool used_space_map = false; // false: non-zero blocks were packed
};

// Writes IO's used blocks to the pack file OUT (created or truncated).
pack_stats pack_metadata(pdata::block_io &io, const std::string &out);

// The device size a pack file describes; throws base::error naming PATH
// when it is not a pack file.
uint64_t packed_device_blocks(const std::string &path);

// Writes the blocks of pack file IN to OUT, zeroing every other block of
// OUT's first nr_blocks blocks (unless OUT_IS_ZERO: a fresh sparse file).
// The superblock is written last.  Throws base::error on a damaged or
// truncated pack, naming it.
pack_stats unpack_metadata(const std::string &in, pdata::block_io &out, bool out_is_zero = false);

} // namespace thin
