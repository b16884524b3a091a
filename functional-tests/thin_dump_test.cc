// thin_dump's options and errors: overrides, device selection, damage with
// and without --repair, tiny input, a reader that goes away.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

namespace {

class ThinDump : public ::testing::Test {
protected:
	void SetUp() override {
		ft::make_zero_file(img(), 16 << 20);
		auto r = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", img(), "--devices", "3",
		                  "--mappings", "3000", "--snapshots", "2"});
		ASSERT_EQ(r.status, 0) << r.err;
		clean = ft::run({ft::tool("thin_dump"), img()}).out;
	}
	std::string img() const { return dir.path("meta.img"); }
	ft::scratch dir;
	std::string clean;
};

TEST_F(ThinDump, CleanMetadataWritesNothingToStderr) {
	auto r = ft::run({ft::tool("thin_dump"), img()});
	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.err, "");
	EXPECT_EQ(r.out.rfind("<superblock uuid=\"\" time=", 0), 0u);
	auto rep = ft::run({ft::tool("thin_dump"), "--repair", img()});
	EXPECT_EQ(rep.out, clean) << "--repair of healthy metadata equals a plain dump";
}

TEST_F(ThinDump, OverridesChangeThePrintedSuperblock) {
	auto r = ft::run({ft::tool("thin_dump"), "--transaction-id", "2345", "--data-block-size", "8192",
	                  "--nr-data-blocks", "234500", img()});
	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.err, "");
	EXPECT_NE(r.out.find("transaction=\"2345\""), std::string::npos);
	EXPECT_NE(r.out.find("data_block_size=\"8192\" nr_data_blocks=\"234500\""), std::string::npos);
	auto ref = ft::run({ft::reference("thin_dump"), "--transaction-id", "2345", "--data-block-size",
	                    "8192", "--nr-data-blocks", "234500", img()});
	EXPECT_EQ(r.out, ref.out);
}

TEST_F(ThinDump, DeviceSelectionAndSkipMappingsMatchTheReference) {
	for (std::vector<std::string> args : {std::vector<std::string>{"--dev-id", "1"},
	                                      {"--dev-id", "0", "--dev-id", "4"},
	                                      {"--skip-mappings"}}) {
		std::vector<std::string> ours{ft::tool("thin_dump")}, theirs{ft::reference("thin_dump")};
		ours.insert(ours.end(), args.begin(), args.end());
		theirs.insert(theirs.end(), args.begin(), args.end());
		ours.push_back(img());
		theirs.push_back(img());
		auto a = ft::run(ours), b = ft::run(theirs);
		EXPECT_EQ(a.status, 0);
		EXPECT_EQ(a.out, b.out) << args[0];
	}
}

TEST_F(ThinDump, DamageWithoutRepairPrintsWhatItCanAndFails) {
	auto d = ft::run({ft::tool("thin_generate_damage"), img(), "--kind", "bad-checksum", "--target",
	                  "mapping-leaf"});
	ASSERT_EQ(d.status, 0) << d.err;
	std::string before = ft::read_file(img());
	auto r = ft::run({ft::tool("thin_dump"), img()});
	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.err, "metadata contains errors (run thin_check for details).\n"
	                 "perhaps you wanted to run with --repair\n");
	EXPECT_NE(r.out.find("</superblock>"), std::string::npos);
	auto ref = ft::run({ft::reference("thin_dump"), img()});
	EXPECT_EQ(ref.status, 1);

	auto rep = ft::run({ft::tool("thin_dump"), "--repair", img()});
	EXPECT_EQ(rep.status, 0);
	EXPECT_NE(rep.err.find("bad checksum in btree node"), std::string::npos) << rep.err;
	EXPECT_LT(rep.out.size(), clean.size());
	// What --repair prints restores to metadata both checkers accept.
	ft::write_file(dir.path("rep.xml"), rep.out);
	ft::make_zero_file(dir.path("rep.img"), 16 << 20);
	ASSERT_EQ(ft::run({ft::tool("thin_restore"), "-i", dir.path("rep.xml"), "-o", dir.path("rep.img")}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), dir.path("rep.img")}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), dir.path("rep.img")}).status, 0);
	EXPECT_TRUE(ft::read_file(img()) == before) << "thin_dump wrote to its input";
}

TEST_F(ThinDump, BadInputs) {
	ft::make_zero_file(dir.path("tiny"), 512);
	auto t = ft::run({ft::tool("thin_dump"), dir.path("tiny")});
	EXPECT_EQ(t.status, 1);
	EXPECT_EQ(t.err, "Metadata is not large enough for superblock.\n");
	ft::make_zero_file(dir.path("zero"), 1 << 20);
	auto z = ft::run({ft::tool("thin_dump"), dir.path("zero")});
	EXPECT_EQ(z.status, 1);
	EXPECT_NE(z.err.find("bad checksum in superblock"), std::string::npos);
	auto none = ft::run({ft::tool("thin_dump")});
	EXPECT_EQ(none.status, 1);
	EXPECT_EQ(none.err.rfind("No input file provided.", 0), 0u);
	auto fmt = ft::run({ft::tool("thin_dump"), "-f", "custom", img()});
	EXPECT_EQ(fmt.status, 1);
	EXPECT_EQ(fmt.err, "unknown format 'custom'\n");
	auto missing = ft::run({ft::tool("thin_dump"), dir.path("absent")});
	EXPECT_EQ(missing.status, 1);
	EXPECT_NE(missing.err.find("absent"), std::string::npos);
	auto nosnap = ft::run({ft::tool("thin_dump"), "-m", img()});
	EXPECT_EQ(nosnap.status, 1);
}

TEST_F(ThinDump, AClosedPipeEndsTheDumpQuietly) {
	// Far more output than a pipe holds, so the writer meets the closed end.
	ft::make_zero_file(dir.path("big.img"), 64 << 20);
	ASSERT_EQ(ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", dir.path("big.img"), "--devices",
	                   "2", "--mappings", "40000", "--run-length", "1"})
	              .status,
	          0);
	for (const char *format : {"xml", "human_readable"}) {
		auto r = ft::run({"bash", "-c", "'" + ft::tool("thin_dump") + "' -f " + format + " '" +
		                                    dir.path("big.img") +
		                                    "' | head -c 100 > /dev/null; echo ${PIPESTATUS[0]}"});
		EXPECT_EQ(r.err, "") << format;
		EXPECT_NE(r.out, "0\n") << format << ": the dump cannot have finished";
		EXPECT_NE(r.out, "141\n") << format << ": killed by SIGPIPE";
	}
}

} // namespace
