#include "base/base64.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

std::string enc(const std::string &s) { return base::base64_encode(reinterpret_cast<const uint8_t *>(s.data()), s.size()); }

TEST(Base64, Rfc4648Vectors) {
	EXPECT_EQ(enc(""), "");
	EXPECT_EQ(enc("f"), "Zg==");
	EXPECT_EQ(enc("fo"), "Zm8=");
	EXPECT_EQ(enc("foo"), "Zm9v");
	EXPECT_EQ(enc("foob"), "Zm9vYg==");
	EXPECT_EQ(enc("fooba"), "Zm9vYmE=");
	EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
	const uint8_t hint[4] = {1, 0, 0, 0}; // a cache hint as the kernel writes it
	EXPECT_EQ(base::base64_encode(hint, 4), "AQAAAA==");
}

TEST(Base64, DecodesWhatItEncodesAndRejectsTheRest) {
	for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
		auto d = base::base64_decode(enc(s));
		ASSERT_TRUE(d) << s;
		EXPECT_EQ(std::string(d->begin(), d->end()), s);
	}
	for (std::string bad : {"Zg=", "Z===", "Zg==Zg==", "Zm9*", "A=AA"})
		EXPECT_FALSE(base::base64_decode(bad)) << bad;
}

} // namespace
