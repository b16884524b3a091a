// Block checksums and validators.
//
// Every metadata block starts with a le32 checksum of bytes 4..4095:
//     crc32c_raw(seed 0xffffffff, bytes 4..4095) ^ salt
// (no final inversion; the salt tells the block kinds apart).  All blocks
// but superblocks also record their own location, so a block read from the
// wrong address is caught.
#pragma once

#include "persistent-data/block.h"

#include <optional>
#include <string>

namespace pdata {

namespace salt {
constexpr uint32_t thin_superblock = 160774;
constexpr uint32_t cache_superblock = 9031977;
constexpr uint32_t era_superblock = 146538381;
constexpr uint32_t btree_node = 121107;
constexpr uint32_t bitmap = 240779;
constexpr uint32_t index = 160478;
constexpr uint32_t array = 595846735;
} // namespace salt

uint32_t block_checksum(const uint8_t *block, uint32_t salt);
bool checksum_matches(const uint8_t *block, uint32_t salt);
void seal_checksum(uint8_t *block, uint32_t salt);

// Decides whether a block just read is acceptable, and prepares a block
// (self location, checksum) just before it is written.
class validator {
public:
	virtual ~validator() = default;
	// Empty when acceptable; otherwise the reason, e.g. "bad checksum in btree node".
	virtual std::optional<std::string> check(const uint8_t *data, block_address where) const = 0;
	virtual void prepare(uint8_t *data, block_address where) const = 0;
};

// Accepts anything, writes bytes as they are (raw data, superblocks that the
// caller seals itself).
const validator &no_validator();

// Checksum with SALT at offset 0 and, when BLOCKNR_OFFSET is set, the block's
// own location as le64 at that offset.  KIND names the block in messages.
class checksum_validator : public validator {
public:
	checksum_validator(std::string kind, uint32_t salt, std::optional<size_t> blocknr_offset);
	std::optional<std::string> check(const uint8_t *data, block_address where) const override;
	void prepare(uint8_t *data, block_address where) const override;
	uint32_t salt() const { return salt_; }

private:
	std::string kind_;
	uint32_t salt_;
	std::optional<size_t> blocknr_offset_;
};

// The shared validators of persistent-data's own block kinds (node
// validation beyond the checksum lives in btree_node.h).
const checksum_validator &bitmap_validator();
const checksum_validator &index_validator();
const checksum_validator &array_block_validator();

} // namespace pdata
