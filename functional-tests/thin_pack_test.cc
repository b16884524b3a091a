// thin_metadata_pack / thin_metadata_unpack: the used blocks survive the
// trip byte for byte, nothing else is carried, damaged metadata is packed
// whole, and bad pack files fail with one line naming them.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace {

constexpr size_t BLOCK = 4096;

class ThinPack : public ::testing::Test {
protected:
	void SetUp() override {
		ft::make_zero_file(meta(), 16 << 20);
		auto r = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", meta(), "--devices", "3", "--mappings",
		                  "4000", "--snapshots", "4", "--writes", "100", "--metadata-snap"});
		ASSERT_EQ(r.status, 0) << r.err;
	}
	std::string meta() const { return dir.path("meta.img"); }
	std::string pack() const { return dir.path("meta.pack"); }
	std::string out() const { return dir.path("out.img"); }
	ft::result pack_it(const std::string &in) {
		return ft::run({ft::tool("thin_metadata_pack"), "-i", in, "-o", pack()});
	}
	ft::result unpack_it() { return ft::run({ft::tool("thin_metadata_unpack"), "-i", pack(), "-o", out()}); }
	// Blocks of OUT are either OLD's or zero; returns how many are not zero.
	static size_t compare_blocks(const std::string &old_image, const std::string &new_image) {
		std::string a = ft::read_file(old_image), b = ft::read_file(new_image);
		EXPECT_EQ(a.size(), b.size());
		size_t non_zero = 0;
		std::string zero(BLOCK, '\0');
		for (size_t off = 0; off + BLOCK <= std::min(a.size(), b.size()); off += BLOCK) {
			std::string nb = b.substr(off, BLOCK);
			if (nb == zero)
				continue;
			non_zero++;
			EXPECT_TRUE(nb == a.substr(off, BLOCK)) << "block " << off / BLOCK << " differs";
		}
		return non_zero;
	}
	ft::scratch dir;
};

TEST_F(ThinPack, UsedBlocksSurviveTheRoundTripByteForByte) {
	auto p = pack_it(meta());
	ASSERT_EQ(p.status, 0) << p.err;
	EXPECT_EQ(p.err, "");
	auto u = unpack_it();
	ASSERT_EQ(u.status, 0) << u.err;
	// Exactly the blocks in use, unchanged; the rest zero.
	auto used = ft::run({ft::tool("pdata_tools"), "thin_read_floor", "--count", meta()});
	size_t nr_used = std::stoul(used.out);
	EXPECT_EQ(compare_blocks(meta(), out()), nr_used);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), out()}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out()}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), out()}).out, ft::run({ft::tool("thin_dump"), meta()}).out);
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), "-m", out()}).out, ft::run({ft::tool("thin_dump"), "-m", meta()}).out);
	// Compressed: well below the used blocks' size.
	struct stat st;
	ASSERT_EQ(::stat(pack().c_str(), &st), 0);
	EXPECT_LT(uint64_t(st.st_size), nr_used * BLOCK / 2);
}

TEST_F(ThinPack, DamagedMetadataIsPackedWhole) {
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), meta(), "--kind", "zero-block", "--target",
	                   "metadata-sm-bitmap"})
	              .status,
	          0);
	auto p = pack_it(meta());
	ASSERT_EQ(p.status, 0) << p.err;
	EXPECT_NE(p.err.find("metadata space map unreadable: packed every non-zero block"), std::string::npos) << p.err;
	ASSERT_EQ(unpack_it().status, 0);
	// Every non-zero block of the original is there.
	std::string a = ft::read_file(meta()), zero(BLOCK, '\0');
	size_t non_zero = 0;
	for (size_t off = 0; off < a.size(); off += BLOCK)
		non_zero += a.substr(off, BLOCK) != zero;
	EXPECT_EQ(compare_blocks(meta(), out()), non_zero);
}

TEST_F(ThinPack, BadInputFailsWithOneLineAndLeavesNoValidOutput) {
	auto no_in = ft::run({ft::tool("thin_metadata_pack"), "-o", pack()});
	EXPECT_EQ(no_in.status, 1);
	EXPECT_EQ(no_in.err.rfind("No input file provided.", 0), 0u) << no_in.err;
	auto no_out = ft::run({ft::tool("thin_metadata_unpack"), "-i", pack()});
	EXPECT_EQ(no_out.status, 1);
	EXPECT_EQ(no_out.err.rfind("No output file provided.", 0), 0u) << no_out.err;
	auto self = ft::run({ft::tool("thin_metadata_pack"), "-i", meta(), "-o", meta()});
	EXPECT_EQ(self.status, 1);
	EXPECT_NE(self.err.find("refusing to overwrite"), std::string::npos) << self.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), "-q", meta()}).status, 0);

	ft::write_file(pack(), std::string(5000, 'x'));
	auto garbage = unpack_it();
	EXPECT_EQ(garbage.status, 1);
	EXPECT_EQ(garbage.err, pack() + ": not a thin_metadata_pack file\n");
	EXPECT_NE(::access(out().c_str(), F_OK), 0) << "an output was made from garbage";

	ASSERT_EQ(pack_it(meta()).status, 0);
	std::string whole = ft::read_file(pack());
	ft::write_file(pack(), whole.substr(0, whole.size() / 2));
	auto truncated = unpack_it();
	EXPECT_EQ(truncated.status, 1);
	EXPECT_NE(truncated.err.find(pack() + ": truncated"), std::string::npos) << truncated.err;
	EXPECT_NE(ft::run({ft::tool("thin_check"), "-q", out()}).status, 0) << "a truncated pack gave valid metadata";

	std::string flipped = whole;
	flipped[whole.size() / 2] ^= 0x40;
	ft::write_file(pack(), flipped);
	auto damaged = unpack_it();
	EXPECT_EQ(damaged.status, 1);
	EXPECT_NE(damaged.err.find(pack() + ": "), std::string::npos) << damaged.err;
	EXPECT_EQ(std::count(damaged.err.begin(), damaged.err.end(), '\n'), 1) << damaged.err;
}

} // namespace
