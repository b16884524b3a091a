// The thin-pool superblock (doc/thin-format.md#superblock), at block 0 and, for a
// held metadata snapshot, at the block recorded in metadata_snap.
//
//   off size field                    off size field
//     0   4  csum (salt 160774)       192 128  metadata space map root
//     4   4  flags (1 = needs_check)  320   8  data_mapping_root
//     8   8  blocknr                  328   8  device_details_root
//    16  16  uuid                     336   4  data_block_size (sectors)
//    32   8  magic 27022010           340   4  metadata_block_size (8)
//    40   4  version (1 or 2)         344   8  metadata_nr_blocks
//    44   4  time                     352   4  compat_flags
//    48   8  trans_id                 356   4  compat_ro_flags
//    56   8  metadata_snap            360   4  incompat_flags
//    64 128  data space map root
#pragma once

#include "persistent-data/block.h"
#include "persistent-data/space_map.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace thin {

using pdata::block_address;

constexpr uint64_t SUPERBLOCK_MAGIC = 27022010;
constexpr block_address SUPERBLOCK_LOCATION = 0;
constexpr uint32_t NEEDS_CHECK_FLAG = 1;
constexpr size_t SM_ROOT_AREA = 128;

struct superblock {
	uint32_t flags = 0;
	block_address blocknr = 0;
	std::array<uint8_t, 16> uuid{};
	uint64_t magic = SUPERBLOCK_MAGIC;
	uint32_t version = 2;
	uint32_t time = 0;
	uint64_t trans_id = 0;
	block_address metadata_snap = 0;
	std::array<uint8_t, SM_ROOT_AREA> data_space_map_root{};
	std::array<uint8_t, SM_ROOT_AREA> metadata_space_map_root{};
	block_address data_mapping_root = 0;
	block_address device_details_root = 0;
	uint32_t data_block_size = 128;
	uint32_t metadata_block_size = pdata::SECTORS_PER_BLOCK;
	uint64_t metadata_nr_blocks = 0;
	uint32_t compat_flags = 0;
	uint32_t compat_ro_flags = 0;
	uint32_t incompat_flags = 0;

	bool needs_check() const { return flags & NEEDS_CHECK_FLAG; }
	pdata::sm_root data_sm() const { return pdata::decode_sm_root(data_space_map_root.data()); }
	pdata::sm_root metadata_sm() const {
		return pdata::decode_sm_root(metadata_space_map_root.data());
	}
};

superblock decode_superblock(const uint8_t *block);
// Encodes into a zeroed 4 KiB block and seals the checksum.
void encode_superblock(const superblock &sb, uint8_t *block);

// Whether the block's stored checksum is the superblock checksum of its
// contents (the first test superblock_problems makes).
bool superblock_checksum_holds(const uint8_t *block);

// Problems with a superblock block read from LOCATION, in the order the
// reference checker reports them; empty when it is sound.  Fatal all: what
// the kernel itself would refuse (a bad checksum, block number or magic,
// feature flags it does not know, a data block size no table can have),
// or roots the pool cannot do without.  DEVICE_BLOCKS: the device's size
// in blocks, for the range checks.  A held metadata snapshot's copy
// (LOCATION != 0) is judged only on what the kernel reads of it when the
// snapshot is released: checksum, block number, magic and its two roots.
std::vector<std::string> superblock_problems(const uint8_t *block, block_address location,
                                             block_address device_blocks);

// What is odd in a sound superblock but which the kernel accepts (it never
// reads the field, or reads it without judging it): an unknown version, a
// metadata block size other than 8 sectors, metadata_nr_blocks above the
// device (stale: the space map's root has the real size), compatible
// feature flags it does not know; in a snapshot's copy, whatever
// superblock_problems leaves out.  Checkers report these as non-fatal.
std::vector<std::string> superblock_warnings(const uint8_t *block, block_address location,
                                             block_address device_blocks);

} // namespace thin
