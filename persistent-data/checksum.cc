#include "persistent-data/checksum.h"

#include "base/crc32c.h"
#include "base/endian.h"

namespace pdata {

uint32_t block_checksum(const uint8_t *block, uint32_t salt) {
	return base::crc32c_raw(0xffffffffu, block + 4, BLOCK_SIZE - 4) ^ salt;
}

bool checksum_matches(const uint8_t *block, uint32_t salt) {
	return base::load_le32(block) == block_checksum(block, salt);
}

void seal_checksum(uint8_t *block, uint32_t salt) {
	base::store_le32(block, block_checksum(block, salt));
}

namespace {

class null_validator : public validator {
public:
	std::optional<std::string> check(const uint8_t *, block_address) const override { return {}; }
	void prepare(uint8_t *, block_address) const override {}
};

} // namespace

const validator &no_validator() {
	static const null_validator v;
	return v;
}

checksum_validator::checksum_validator(std::string kind, uint32_t salt,
                                       std::optional<size_t> blocknr_offset)
    : kind_(std::move(kind)), salt_(salt), blocknr_offset_(blocknr_offset) {}

std::optional<std::string> checksum_validator::check(const uint8_t *data,
                                                     block_address where) const {
	if (!checksum_matches(data, salt_))
		return "bad checksum in " + kind_;
	if (blocknr_offset_ && base::load_le64(data + *blocknr_offset_) != where)
		return "bad block nr in " + kind_ + " (says " +
		       std::to_string(base::load_le64(data + *blocknr_offset_)) + ")";
	return {};
}

void checksum_validator::prepare(uint8_t *data, block_address where) const {
	if (blocknr_offset_)
		base::store_le64(data + *blocknr_offset_, where);
	seal_checksum(data, salt_);
}

const checksum_validator &bitmap_validator() {
	static const checksum_validator v("space map bitmap", salt::bitmap, 8);
	return v;
}

const checksum_validator &index_validator() {
	static const checksum_validator v("space map index", salt::index, 8);
	return v;
}

const checksum_validator &array_block_validator() {
	static const checksum_validator v("array block", salt::array, 16);
	return v;
}

} // namespace pdata
