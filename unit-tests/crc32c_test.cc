#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

// Published CRC-32C check values (RFC 3720 appendix B.4 and the usual
// "123456789" check).
TEST(Crc32c, KnownVectors) {
	EXPECT_EQ(base::crc32c("123456789", 9), 0xe3069283u);
	std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32), dec(32);
	for (int i = 0; i < 32; i++) {
		inc[i] = uint8_t(i);
		dec[i] = uint8_t(31 - i);
	}
	EXPECT_EQ(base::crc32c(zeros.data(), 32), 0x8a9136aau);
	EXPECT_EQ(base::crc32c(ones.data(), 32), 0x62a8ab43u);
	EXPECT_EQ(base::crc32c(inc.data(), 32), 0x46dd794eu);
	EXPECT_EQ(base::crc32c(dec.data(), 32), 0x113fdb5cu);
	EXPECT_EQ(base::crc32c("", 0), 0u);
}

TEST(Crc32c, TableAndHardwareAgree) {
	std::mt19937 rng(7);
	for (size_t len : {0, 1, 7, 8, 9, 63, 4092, 4096, 10007}) {
		std::vector<uint8_t> buf(len);
		for (auto &b : buf)
			b = uint8_t(rng());
		for (uint32_t seed : {0u, 0xffffffffu, 0x12345678u})
			EXPECT_EQ(base::crc32c_raw_table(seed, buf.data(), len),
			          base::crc32c_raw_hw(seed, buf.data(), len))
			    << "len " << len;
	}
}

TEST(Crc32c, IncrementalEqualsWhole) {
	std::string s = "The quick brown fox jumps over the lazy dog";
	uint32_t whole = base::crc32c_raw(0xffffffffu, s.data(), s.size());
	uint32_t part = base::crc32c_raw(0xffffffffu, s.data(), 10);
	part = base::crc32c_raw(part, s.data() + 10, s.size() - 10);
	EXPECT_EQ(whole, part);
	EXPECT_EQ(~whole, 0x22620404u);
}

} // namespace
