// thin_check's command line, its handling of bad input, and its verdicts on
// metadata with known problems.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace {

const char XML[] =
    R"(<superblock uuid="" time="1" transaction="5" flags="0" version="2" data_block_size="128" nr_data_blocks="1000">
  <device dev_id="1" mapped_blocks="7" transaction="0" creation_time="0" snap_time="1">
    <range_mapping origin_begin="0" data_begin="10" length="5" time="0"/>
    <single_mapping origin_block="100" data_block="20" time="0"/>
    <single_mapping origin_block="200" data_block="30" time="1"/>
  </device>
</superblock>
)";

class ThinCheck : public ::testing::Test {
protected:
	void SetUp() override {
		ft::write_file(dir.path("in.xml"), XML);
		ft::make_zero_file(meta(), 4 << 20);
		auto r = ft::run({ft::tool("thin_restore"), "-i", dir.path("in.xml"), "-o", meta()});
		ASSERT_EQ(r.status, 0) << r.err;
	}
	std::string meta() const { return dir.path("meta.bin"); }
	ft::result check(std::vector<std::string> args) {
		args.insert(args.begin(), ft::tool("thin_check"));
		return ft::run(args);
	}
	ft::scratch dir;
};

TEST_F(ThinCheck, CleanMetadataPassesWithInfoLines) {
	auto r = check({meta()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out, "TRANSACTION_ID=5\nMETADATA_FREE_BLOCKS=1023\n");
	EXPECT_EQ(r.err, "examining superblock\nexamining devices tree\nexamining mapping tree\n"
	                 "checking space map counts\n");
	auto ref = ft::run({ft::reference("thin_check"), meta()});
	EXPECT_EQ(ref.out, r.out);
}

TEST_F(ThinCheck, QuietMeansSilent) {
	auto r = check({"-q", meta()});
	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.out + r.err, "");
	auto bad = check({"--quiet", dir.path("in.xml")});
	EXPECT_EQ(bad.status, 1);
	EXPECT_EQ(bad.out + bad.err, "");
}

// Each reduced check is given damage it must not look at (or must forgive),
// so a flag that is parsed but not honoured fails here: the full check of
// the same image fails first.
TEST_F(ThinCheck, ReducedChecksPassOverDamageTheyDoNotExamine) {
	struct {
		const char *flag;
		std::vector<std::string> damage;
	} cases[] = {
	    {"--super-block-only", {"--kind", "bad-checksum", "--target", "mapping-leaf"}},
	    {"--skip-mappings", {"--kind", "bad-checksum", "--target", "mapping-leaf"}},
	    {"--ignore-non-fatal-errors", {"--kind", "count-high", "--sm", "metadata"}},
	};
	for (const auto &c : cases) {
		std::string img = dir.path(std::string("damaged") + c.flag + ".bin");
		ft::write_file(img, ft::read_file(meta()));
		std::vector<std::string> damage{ft::tool("thin_generate_damage"), img};
		damage.insert(damage.end(), c.damage.begin(), c.damage.end());
		auto d = ft::run(damage);
		ASSERT_EQ(d.status, 0) << d.err;
		auto full = check({img});
		EXPECT_EQ(full.status, 1) << c.flag << ": the damage went unnoticed by a full check";
		auto r = check({c.flag, img});
		EXPECT_EQ(r.status, 0) << c.flag << ": " << r.err;
		EXPECT_NE(r.out.find("TRANSACTION_ID=5"), std::string::npos) << c.flag;
	}
	EXPECT_NE(check({"--skip-mappings", meta()}).err.find("examining top level of mapping tree"),
	          std::string::npos);
	// Damage a reduced check does examine still fails it.
	std::string img = dir.path("leaf.bin");
	ft::write_file(img, ft::read_file(meta()));
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "bad-checksum", "--target", "mapping-leaf"})
	              .status,
	          0);
	EXPECT_EQ(check({"--ignore-non-fatal-errors", img}).status, 1);
}

TEST_F(ThinCheck, BadInputs) {
	auto missing = check({dir.path("nothing")});
	EXPECT_EQ(missing.status, 1);
	EXPECT_NE(missing.err.find("Couldn't stat path"), std::string::npos) << missing.err;
	auto directory = check({dir.dir()});
	EXPECT_EQ(directory.status, 1);
	EXPECT_NE(directory.err.find("Not a block device or regular file"), std::string::npos);
	ft::make_zero_file(dir.path("tiny"), 1024);
	auto tiny = check({dir.path("tiny")});
	EXPECT_EQ(tiny.status, 1);
	EXPECT_EQ(tiny.err, "Metadata device/file too small.  Is this binary metadata?\n");
	std::string xml = XML;
	xml.resize(8192, ' ');
	ft::write_file(dir.path("big.xml"), xml);
	auto looks_xml = check({dir.path("big.xml")});
	EXPECT_EQ(looks_xml.status, 1);
	EXPECT_NE(looks_xml.err.find("This looks like XML.  thin_check only checks the binary metadata format."),
	          std::string::npos)
	    << looks_xml.err;
	ft::make_zero_file(dir.path("zero"), 1 << 20);
	auto zero = check({dir.path("zero")});
	EXPECT_EQ(zero.status, 1);
	EXPECT_NE(zero.err.find("bad checksum in superblock"), std::string::npos);
	auto none = check({});
	EXPECT_EQ(none.status, 1);
	EXPECT_NE(none.err.find("No input file provided."), std::string::npos);
}

TEST_F(ThinCheck, UnreadableInputIsReported) {
	chmod(meta().c_str(), 0);
	chmod(dir.dir().c_str(), 0755);
	// Root reads files whatever their mode: run as nobody then.
	std::vector<std::string> args{ft::tool("thin_check"), meta()};
	if (geteuid() == 0)
		args.insert(args.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
	auto r = ft::run(args);
	EXPECT_EQ(r.status, 1);
	EXPECT_NE(r.err.find("Permission denied"), std::string::npos);
}

TEST_F(ThinCheck, FixesNeedAFullExaminationOfTheLiveMetadata) {
	struct {
		std::vector<std::string> args;
		const char *message;
	} cases[] = {
	    {{"--auto-repair", "-m"}, "cannot perform fix within metadata snap"},
	    {{"--auto-repair", "--override-mapping-root", "7"}, "cannot perform fix with an overridden mapping root"},
	    {{"--auto-repair", "--override-details-root", "6"}, "cannot perform fix with an overridden mapping root"},
	    {{"--auto-repair", "--super-block-only"}, "cannot perform fix without a full examination"},
	    {{"--auto-repair", "--skip-mappings"}, "cannot perform fix without a full examination"},
	    {{"--auto-repair", "--ignore-non-fatal-errors"}, "cannot perform fix by ignoring non-fatal errors"},
	    {{"--clear-needs-check-flag", "-m"}, "cannot perform fix within metadata snap"},
	    {{"--clear-needs-check-flag", "--override-mapping-root", "7"}, "cannot perform fix with an overridden mapping root"},
	};
	for (auto &c : cases) {
		auto args = c.args;
		args.push_back(meta());
		auto r = check(args);
		EXPECT_EQ(r.status, 1) << c.message;
		EXPECT_EQ(r.err.rfind(c.message, 0), 0u) << r.err;
	}
	// As LVM users configure it: accepted with a reduced check.
	for (auto flag : {"--skip-mappings", "--super-block-only", "--ignore-non-fatal-errors"}) {
		auto r = check({"--clear-needs-check-flag", flag, meta()});
		EXPECT_EQ(r.status, 0) << flag << ": " << r.err;
	}
}

TEST_F(ThinCheck, NoMetadataSnapshot) {
	auto r = check({"-m", meta()});
	EXPECT_EQ(r.status, 1);
	EXPECT_NE(r.err.find("No metadata snapshot found."), std::string::npos) << r.err;
}

} // namespace
