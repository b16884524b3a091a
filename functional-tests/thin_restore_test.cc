// thin_restore: the XML it accepts, the errors it gives, and what it never
// does (leave a valid-looking superblock after a failure, write its input).
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

const char SMALL_XML[] =
    R"(<superblock uuid="" time="1" transaction="5" flags="0" version="2" data_block_size="128" nr_data_blocks="1000">
  <device dev_id="1" mapped_blocks="7" transaction="0" creation_time="0" snap_time="1">
    <range_mapping origin_begin="0" data_begin="10" length="5" time="0"/>
    <single_mapping origin_block="100" data_block="20" time="0"/>
    <single_mapping origin_block="200" data_block="30" time="1"/>
  </device>
  <device dev_id="2" mapped_blocks="6" transaction="1" creation_time="1" snap_time="1">
    <range_mapping origin_begin="0" data_begin="10" length="5" time="0"/>
    <single_mapping origin_block="100" data_block="21" time="1"/>
  </device>
</superblock>
)";

class ThinRestore : public ::testing::Test {
protected:
	void SetUp() override {
		ft::write_file(xml(), SMALL_XML);
		ft::make_zero_file(out(), 4 << 20);
	}
	std::string xml() const { return dir.path("in.xml"); }
	std::string out() const { return dir.path("meta.bin"); }
	bool superblock_is_zero() const {
		std::string b = ft::read_file(out()).substr(0, 4096);
		return b == std::string(4096, '\0');
	}
	ft::result restore(const std::string &xml_text) {
		ft::write_file(xml(), xml_text);
		return ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", out()});
	}
	ft::scratch dir;
};

TEST_F(ThinRestore, RoundTripsAndPassesBothCheckers) {
	auto r = ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", out()});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out + r.err, "");
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), out()}).out, SMALL_XML);
	EXPECT_EQ(ft::run({ft::reference("thin_dump"), out()}).out, SMALL_XML);
	auto theirs = ft::run({ft::reference("thin_check"), out()});
	EXPECT_EQ(theirs.status, 0) << theirs.err;
	auto ours = ft::run({ft::tool("thin_check"), out()});
	EXPECT_EQ(ours.status, 0) << ours.err;
}

TEST_F(ThinRestore, ReadsWhatTheReferenceRestored) {
	auto r = ft::run({ft::reference("thin_restore"), "-i", xml(), "-o", out()});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), out()}).out, SMALL_XML);
}

TEST_F(ThinRestore, QuietPrintsNothing) {
	auto r = ft::run({ft::tool("thin_restore"), "-q", "-i", xml(), "-o", out()});
	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.out + r.err, "");
}

TEST_F(ThinRestore, OverridesReplaceTheXmlValues) {
	auto r = ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", out(), "--transaction-id",
	                  "2345", "--data-block-size", "8192", "--nr-data-blocks", "234500"});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.err, "");
	auto d = ft::run({ft::tool("thin_dump"), out()});
	EXPECT_NE(d.out.find(R"(transaction="2345" flags="0" version="2" data_block_size="8192" nr_data_blocks="234500")"),
	          std::string::npos)
	    << d.out;
}

TEST_F(ThinRestore, MissingArguments) {
	auto a = ft::run({ft::tool("thin_restore"), "-o", out()});
	EXPECT_EQ(a.status, 1);
	EXPECT_EQ(a.err.rfind("No input file provided.", 0), 0u) << a.err;
	auto b = ft::run({ft::tool("thin_restore"), "-i", xml()});
	EXPECT_EQ(b.status, 1);
	EXPECT_EQ(b.err.rfind("No output file provided.", 0), 0u) << b.err;
	auto c = ft::run({ft::tool("thin_restore"), "-i", dir.path("nope.xml"), "-o", out()});
	EXPECT_EQ(c.status, 1);
	EXPECT_EQ(c.err.rfind("Couldn't stat file", 0), 0u) << c.err;
	EXPECT_NE(c.err.find("nope.xml"), std::string::npos);
	EXPECT_TRUE(superblock_is_zero());
}

TEST_F(ThinRestore, OutputMustExistBeLargeEnoughAndNotBeTheInput) {
	auto a = ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", dir.path("absent")});
	EXPECT_EQ(a.status, 1);
	EXPECT_EQ(a.err.rfind("Output file does not exist.", 0), 0u) << a.err;
	ft::make_zero_file(dir.path("small"), 4096);
	auto b = ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", dir.path("small")});
	EXPECT_EQ(b.status, 1);
	EXPECT_EQ(b.err.rfind("Output file too small.", 0), 0u) << b.err;
	EXPECT_NE(b.err.find("at least"), std::string::npos) << b.err;
	std::string before = ft::read_file(xml());
	auto c = ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", xml()});
	EXPECT_EQ(c.status, 1);
	EXPECT_NE(c.err.find("is the input"), std::string::npos) << c.err;
	EXPECT_EQ(ft::read_file(xml()), before);
}

TEST_F(ThinRestore, GarbageLeavesTheSuperblockZero) {
	// First a valid restore, so a failure must actively invalidate it.
	ASSERT_EQ(ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", out()}).status, 0);
	auto r = restore(std::string(4096, '\0'));
	EXPECT_EQ(r.status, 1);
	EXPECT_TRUE(superblock_is_zero());
}

struct bad_xml {
	std::string name, xml, message;
};

class ThinRestoreErrors : public ThinRestore, public ::testing::WithParamInterface<bad_xml> {};

TEST_P(ThinRestoreErrors, OneLineWithThePositionAndNoValidSuperblock) {
	ASSERT_EQ(ft::run({ft::tool("thin_restore"), "-i", xml(), "-o", out()}).status, 0);
	const bad_xml &c = GetParam();
	auto r = restore(c.xml);
	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err.rfind(xml() + ":", 0), 0u) << r.err;
	EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
	EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
	EXPECT_TRUE(superblock_is_zero());
}

const char HEAD[] = R"(<superblock uuid="" time="0" transaction="1" data_block_size="128" nr_data_blocks="100">)";

INSTANTIATE_TEST_SUITE_P(
    Cases, ThinRestoreErrors,
    ::testing::Values(
        bad_xml{"BadNesting", std::string(HEAD) + "</device></superblock>", "mismatched tag"},
        bad_xml{"MissingAttribute", R"(<superblock uuid="" time="0" transaction="1" data_block_size="128"></superblock>)", "missing attribute 'nr_data_blocks'"},
        bad_xml{"NotANumber", R"(<superblock uuid="" time="zero" transaction="1" data_block_size="128" nr_data_blocks="100"></superblock>)", "not a natural number"},
        bad_xml{"UnknownTag", R"(<superblock uuid="" time="0" transaction="1" data_block_size="128" nr_data_blocks="100"><hedgehog/></superblock>)", "unknown tag type 'hedgehog'"},
        bad_xml{"BeyondDataDevice", std::string(HEAD) + R"(<device dev_id="1" mapped_blocks="1" transaction="0" creation_time="0" snap_time="0"><single_mapping origin_block="0" data_block="100" time="0"/></device></superblock>)", "beyond nr_data_blocks"},
        bad_xml{"Overlap", std::string(HEAD) + R"(<device dev_id="1" mapped_blocks="2" transaction="0" creation_time="0" snap_time="0"><range_mapping origin_begin="0" data_begin="0" length="4" time="0"/><single_mapping origin_block="2" data_block="9" time="0"/></device></superblock>)", "overlapping mappings for block 2"},
        bad_xml{"DuplicateDevice", std::string(HEAD) + R"(<device dev_id="1" mapped_blocks="0" transaction="0" creation_time="0" snap_time="0"></device><device dev_id="1" mapped_blocks="0" transaction="0" creation_time="0" snap_time="0"></device></superblock>)", "device 1 is defined twice"},
        bad_xml{"Truncated", HEAD, "no element found"}),
    [](const auto &info) { return info.param.name; });

} // namespace
