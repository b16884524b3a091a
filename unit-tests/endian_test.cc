#include "base/endian.h"

#include <gtest/gtest.h>

#include <array>

namespace {

TEST(Endian, LittleEndianByteOrder) {
	std::array<uint8_t, 8> b{};
	base::store_le64(b.data(), 0x0102030405060708ull);
	EXPECT_EQ(b[0], 0x08);
	EXPECT_EQ(b[7], 0x01);
	EXPECT_EQ(base::load_le64(b.data()), 0x0102030405060708ull);
	base::store_le32(b.data(), 0xa1b2c3d4u);
	EXPECT_EQ(b[0], 0xd4);
	EXPECT_EQ(base::load_le32(b.data()), 0xa1b2c3d4u);
	base::store_le16(b.data(), 0xbeef);
	EXPECT_EQ(b[0], 0xef);
	EXPECT_EQ(base::load_le16(b.data()), 0xbeef);
}

TEST(Endian, ReaderAndWriterCheckBounds) {
	std::array<uint8_t, 16> b{};
	base::le_writer w(b);
	w.u64(8, 42);
	EXPECT_THROW(w.u64(9, 1), base::out_of_bounds);
	EXPECT_THROW(w.u32(16, 1), base::out_of_bounds);
	EXPECT_THROW(w.u8(SIZE_MAX, 1), base::out_of_bounds);
	base::le_reader r(b);
	EXPECT_EQ(r.u64(8), 42u);
	EXPECT_THROW(r.u64(12), base::out_of_bounds);
	EXPECT_THROW(r.bytes(15, 2), base::out_of_bounds);
	EXPECT_NO_THROW(r.bytes(16, 0));
}

} // namespace
