// Values stored in the thin-pool trees (doc/thin-format.md#value-encodings).
//
// Mapping leaf value, le64:   (data_block << 24) | time
//   bits 0..23   the snapshot time when the mapping was made
//   bits 24..63  the data block (40 bits)
//
// Device details, 24 bytes:
//   off size field
//     0   8  mapped_blocks
//     8   8  transaction_id (the pool's transaction when created)
//    16   4  creation_time
//    20   4  snapshotted_time
#pragma once

#include "base/endian.h"

#include <cstdint>

namespace thin {

constexpr uint32_t MAPPING_VALUE_SIZE = 8;
constexpr uint32_t DEVICE_DETAILS_SIZE = 24;
constexpr uint64_t MAX_DATA_BLOCK = (uint64_t(1) << 40) - 1;
constexpr uint32_t MAX_TIME = (1u << 24) - 1;

struct block_time {
	uint64_t data_block = 0;
	uint32_t time = 0;
	bool operator==(const block_time &) const = default;
};

inline uint64_t pack_block_time(block_time bt) { return bt.data_block << 24 | (bt.time & MAX_TIME); }
inline block_time unpack_block_time(uint64_t v) { return {v >> 24, uint32_t(v & MAX_TIME)}; }

struct device_details {
	uint64_t mapped_blocks = 0;
	uint64_t transaction_id = 0;
	uint32_t creation_time = 0;
	uint32_t snapshotted_time = 0;
	bool operator==(const device_details &) const = default;
};

inline device_details decode_device_details(const uint8_t *p) {
	return {base::load_le64(p), base::load_le64(p + 8), base::load_le32(p + 16),
	        base::load_le32(p + 20)};
}

inline void encode_device_details(const device_details &d, uint8_t *p) {
	base::store_le64(p, d.mapped_blocks);
	base::store_le64(p + 8, d.transaction_id);
	base::store_le32(p + 16, d.creation_time);
	base::store_le32(p + 20, d.snapshotted_time);
}

} // namespace thin
