// The dm-era superblock (doc/era-format.md#superblock) and writeset value
// (doc/era-format.md#writesets).
#pragma once

#include "persistent-data/block.h"
#include "persistent-data/space_map.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace era {

using pdata::block_address;

constexpr uint64_t ERA_MAGIC = 2126579579;
constexpr uint32_t WRITESET_SIZE = 12;

struct superblock {
	uint32_t flags = 0;
	block_address blocknr = 0;
	std::array<uint8_t, 16> uuid{};
	uint64_t magic = ERA_MAGIC;
	uint32_t version = 1;
	std::array<uint8_t, 128> metadata_space_map_root{};
	uint32_t data_block_size = 0, metadata_block_size = pdata::SECTORS_PER_BLOCK, nr_blocks = 0;
	uint32_t current_era = 0, current_writeset_bits = 0;
	block_address current_writeset_root = 0, writeset_tree_root = 0, era_array_root = 0, metadata_snap = 0;

	pdata::sm_root metadata_sm() const { return pdata::decode_sm_root(metadata_space_map_root.data()); }
};

superblock decode_superblock(const uint8_t *block);
void encode_superblock(const superblock &sb, uint8_t *block);
// Problems with a superblock read from LOCATION; empty when sound.  Without
// VERIFY_CHECKSUM the fields alone are judged (era_dump --repair).
std::vector<std::string> superblock_problems(const uint8_t *block, block_address location,
                                             block_address device_blocks, bool verify_checksum = true);

struct writeset {
	uint32_t nr_bits;
	block_address root;
};
writeset decode_writeset(const uint8_t *v);
void encode_writeset(const writeset &w, uint8_t *v);

} // namespace era
