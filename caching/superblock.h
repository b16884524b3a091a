// The dm-cache superblock (doc/cache-format.md#superblock): block 0 of the metadata device.
#pragma once

#include "persistent-data/block.h"
#include "persistent-data/space_map.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace caching {

using pdata::block_address;

constexpr uint64_t CACHE_MAGIC = 1623043; // 06142003 octal
constexpr uint32_t CLEAN_SHUTDOWN = 1, NEEDS_CHECK = 2;
constexpr size_t POLICY_NAME_SIZE = 16;

struct superblock {
	uint32_t flags = 0;
	block_address blocknr = 0;
	std::array<uint8_t, 16> uuid{};
	uint64_t magic = CACHE_MAGIC;
	uint32_t version = 2;
	std::array<char, POLICY_NAME_SIZE> policy_name{};
	uint32_t policy_hint_size = 0;
	std::array<uint8_t, 128> metadata_space_map_root{};
	block_address mapping_root = 0, hint_root = 0, discard_root = 0;
	uint64_t discard_block_size = 0, discard_nr_blocks = 0;
	uint32_t data_block_size = 0, metadata_block_size = pdata::SECTORS_PER_BLOCK, cache_blocks = 0;
	uint32_t compat_flags = 0, compat_ro_flags = 0, incompat_flags = 0;
	uint32_t read_hits = 0, read_misses = 0, write_hits = 0, write_misses = 0;
	std::array<uint32_t, 3> policy_version{};
	block_address dirty_root = 0; // version 2 only

	std::string policy() const;
	pdata::sm_root metadata_sm() const { return pdata::decode_sm_root(metadata_space_map_root.data()); }
};

superblock decode_superblock(const uint8_t *block);
// Encodes into a zeroed 4 KiB block and seals the checksum.
void encode_superblock(const superblock &sb, uint8_t *block);

// Problems with a superblock read from block 0 of a device of DEVICE_BLOCKS
// blocks, in the reference's words where it has them; empty when sound.
std::vector<std::string> superblock_problems(const uint8_t *block, block_address device_blocks);

// The mapping value (doc/cache-format.md#mapping-array).
constexpr uint64_t M_VALID = 1, M_DIRTY = 2;
inline uint64_t mapping_origin(uint64_t v) { return v >> 16; }
inline uint64_t mapping_flags(uint64_t v) { return v & 0xffff; }
inline uint64_t pack_mapping(uint64_t origin, bool dirty) { return origin << 16 | M_VALID | (dirty ? M_DIRTY : 0); }

} // namespace caching
