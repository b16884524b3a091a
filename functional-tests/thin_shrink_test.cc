// thin_shrink: every mapping still reads the same data after the pool is
// made to fit fewer data blocks; shared blocks stay shared; a shrink that
// cannot fit changes nothing.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <unistd.h>

namespace {

constexpr uint64_t OLD_SIZE = 3000;
constexpr uint64_t BLOCK_BYTES = 128 * 512;

using mapping_table = std::map<std::pair<uint64_t, uint64_t>, uint64_t>; // (dev, vblock) -> data

mapping_table mappings_in(const std::string &xml) {
	mapping_table t;
	std::regex dev_re("<device dev_id=\"([0-9]+)\""),
	    range_re("origin_begin=\"([0-9]+)\" data_begin=\"([0-9]+)\" length=\"([0-9]+)\""),
	    single_re("origin_block=\"([0-9]+)\" data_block=\"([0-9]+)\"");
	uint64_t dev = 0;
	std::istringstream in(xml);
	for (std::string line; std::getline(in, line);) {
		std::smatch m;
		if (std::regex_search(line, m, dev_re))
			dev = std::stoull(m[1]);
		else if (std::regex_search(line, m, range_re))
			for (uint64_t i = 0; i < std::stoull(m[3]); i++)
				t[{dev, std::stoull(m[1]) + i}] = std::stoull(m[2]) + i;
		else if (std::regex_search(line, m, single_re))
			t[{dev, std::stoull(m[1])}] = std::stoull(m[2]);
	}
	return t;
}

class ThinShrink : public ::testing::Test {
protected:
	void SetUp() override {
		ft::make_zero_file(dir.path("gen.img"), 8 << 20);
		auto r = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", dir.path("gen.img"), "--devices", "4",
		                  "--mappings", "300", "--run-length", "4", "--snapshots", "2", "--writes", "20", "--delete",
		                  "2", "--nr-data-blocks", std::to_string(OLD_SIZE), "--xml", xml()});
		ASSERT_EQ(r.status, 0) << r.err;
		// Every data block says which it is.
		std::string data;
		for (uint64_t b = 0; b < OLD_SIZE; b++) {
			char tag[9];
			snprintf(tag, sizeof(tag), "%08llu", static_cast<unsigned long long>(b));
			for (uint64_t i = 0; i < BLOCK_BYTES / 8; i++)
				data += tag;
		}
		ft::write_file(data_file(), data);
		original_data = data;
	}
	std::string xml() const { return dir.path("meta.xml"); }
	std::string data_file() const { return dir.path("data.img"); }
	std::string block_of(const std::string &data, uint64_t b) { return data.substr(b * BLOCK_BYTES, BLOCK_BYTES); }

	void expect_same_data(const std::string &before_xml, const std::string &after_xml, uint64_t new_size) {
		auto before = mappings_in(before_xml), after = mappings_in(after_xml);
		ASSERT_EQ(before.size(), after.size());
		std::string data = ft::read_file(data_file());
		std::set<uint64_t> distinct_before, distinct_after;
		for (const auto &[key, old_block] : before) {
			ASSERT_TRUE(after.count(key));
			uint64_t nb = after[key];
			EXPECT_LT(nb, new_size);
			EXPECT_EQ(block_of(data, nb), block_of(original_data, old_block))
			    << "dev " << key.first << " block " << key.second;
			distinct_before.insert(old_block);
			distinct_after.insert(nb);
		}
		EXPECT_EQ(distinct_before.size(), distinct_after.size()) << "shared blocks are no longer shared";
	}

	ft::scratch dir;
	std::string original_data;
};

TEST_F(ThinShrink, XmlMappingsMoveBelowTheNewSizeWithTheirData) {
	auto r = ft::run({ft::tool("thin_shrink"), "-i", xml(), "-o", dir.path("out.xml"), "--data", data_file(),
	                  "--nr-blocks", "1000"});
	ASSERT_EQ(r.status, 0) << r.err;
	std::string out = ft::read_file(dir.path("out.xml"));
	EXPECT_NE(out.find("nr_data_blocks=\"1000\""), std::string::npos);
	expect_same_data(ft::read_file(xml()), out, 1000);
	// The result restores and checks clean.
	ft::make_zero_file(dir.path("out.img"), 8 << 20);
	ASSERT_EQ(ft::run({ft::tool("thin_restore"), "-i", dir.path("out.xml"), "-o", dir.path("out.img")}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), dir.path("out.img")}).status, 0);
}

TEST_F(ThinShrink, BinaryMetadataInAndOut) {
	ft::make_zero_file(dir.path("in.img"), 8 << 20);
	ft::make_zero_file(dir.path("out.img"), 8 << 20);
	ASSERT_EQ(ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", dir.path("in.img")}).status, 0);
	auto r = ft::run({ft::tool("thin_shrink"), "--binary", "-i", dir.path("in.img"), "-o", dir.path("out.img"),
	                  "--data", data_file(), "--nr-blocks", "960"}); // exactly the blocks in use
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), dir.path("out.img")}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), dir.path("out.img")}).status, 0);
	expect_same_data(ft::read_file(xml()), ft::run({ft::tool("thin_dump"), dir.path("out.img")}).out, 960);
}

TEST_F(ThinShrink, NoCopyChangesOnlyTheMetadata) {
	auto r = ft::run({ft::tool("thin_shrink"), "-i", xml(), "-o", dir.path("out.xml"), "--no-copy", "--nr-blocks",
	                  "1000"});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_TRUE(ft::read_file(data_file()) == original_data);
	for (const auto &[key, b] : mappings_in(ft::read_file(dir.path("out.xml"))))
		EXPECT_LT(b, 1000u);
}

TEST_F(ThinShrink, TooSmallChangesNothing) {
	auto r = ft::run({ft::tool("thin_shrink"), "-i", xml(), "-o", dir.path("out.xml"), "--data", data_file(),
	                  "--nr-blocks", "300"});
	EXPECT_EQ(r.status, 1);
	EXPECT_NE(r.err.find("insufficient space"), std::string::npos) << r.err;
	EXPECT_NE(::access(dir.path("out.xml").c_str(), F_OK), 0) << "an output was written";
	EXPECT_TRUE(ft::read_file(data_file()) == original_data);

	auto bigger = ft::run({ft::tool("thin_shrink"), "-i", xml(), "-o", dir.path("out.xml"), "--no-copy",
	                       "--nr-blocks", "5000"});
	EXPECT_EQ(bigger.status, 1);
	EXPECT_NE(bigger.err.find("must be between 1 and the current 3000 blocks"), std::string::npos) << bigger.err;
	auto self = ft::run({ft::tool("thin_shrink"), "-i", xml(), "-o", xml(), "--no-copy", "--nr-blocks", "1000"});
	EXPECT_EQ(self.status, 1);
	auto no_data = ft::run({ft::tool("thin_shrink"), "-i", xml(), "-o", dir.path("o.xml"), "--nr-blocks", "1000"});
	EXPECT_EQ(no_data.status, 1);
	EXPECT_NE(no_data.err.find("No data device provided"), std::string::npos);
}

} // namespace
