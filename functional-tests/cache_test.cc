// The cache tools against the kernel-written fixture and the reference:
// check verdicts, dump output, round trips both ways, format 2's dirty
// bitset (which the reference's cache_dump ignores), damage, repair, and
// cache_metadata_size.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <random>

namespace {

class Cache : public ::testing::Test {
protected:
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		ft::gunzip(ft::fixture("kernel/cache-basic/meta.img.gz"), dir->path("kernel.img"));
		// A bigger cache of random shape, without discards (the reference
		// cannot restore those).
		std::mt19937_64 rng(5);
		std::string xml = "<superblock uuid=\"\" block_size=\"512\" nr_cache_blocks=\"20000\" policy=\"smq\" "
		                  "hint_width=\"4\">\n  <mappings>\n";
		std::string hints = "  <hints>\n";
		const char *b64[] = {"AAAAAA==", "AQAAAA==", "PwAAAA==", "/////w=="};
		for (uint64_t cb = 0; cb < 20000; cb++) {
			if (rng() % 3 == 0)
				continue;
			xml += "    <mapping cache_block=\"" + std::to_string(cb) + "\" origin_block=\"" +
			       std::to_string(cb * 7 + 3) + "\" dirty=\"" + (rng() % 4 == 0 ? "true" : "false") + "\"/>\n";
			hints += "    <hint cache_block=\"" + std::to_string(cb) + "\" data=\"" + b64[rng() % 4] + "\"/>\n";
		}
		xml += "  </mappings>\n" + hints + "  </hints>\n</superblock>\n";
		ft::write_file(dir->path("big.xml"), xml);
	}
	static void TearDownTestSuite() { delete dir; }
	static std::string kernel() { return dir->path("kernel.img"); }
	static std::string expected_xml() { return ft::fixture("kernel/cache-basic/expected/cache_dump.xml"); }
	static std::string fresh(const std::string &name) {
		ft::make_zero_file(dir->path(name), 8 << 20);
		return dir->path(name);
	}
	static ft::result run(const std::string &tool, std::vector<std::string> args, bool reference = false) {
		args.insert(args.begin(), reference ? ft::reference(tool) : ft::tool(tool));
		return ft::run(args);
	}
	static ft::scratch *dir;
};

ft::scratch *Cache::dir;

TEST_F(Cache, KernelFixtureChecksCleanAndDumpsAsExpected) {
	auto ours = run("cache_check", {kernel()}), theirs = run("cache_check", {kernel()}, true);
	EXPECT_EQ(ours.status, 0) << ours.err;
	EXPECT_EQ(theirs.status, 0);
	EXPECT_EQ(ours.err, theirs.err);
	EXPECT_EQ(ours.out, "");
	auto dump = run("cache_dump", {kernel()});
	EXPECT_EQ(dump.status, 0) << dump.err;
	EXPECT_EQ(dump.out, ft::read_file(expected_xml()));
	auto q = run("cache_check", {"-q", kernel()});
	EXPECT_EQ(q.status, 0);
	EXPECT_EQ(q.out + q.err, "");
}

TEST_F(Cache, RoundTripsWithTheReferenceInBothDirections) {
	for (const auto &xml : {expected_xml(), dir->path("big.xml")}) {
		std::string text = ft::read_file(xml);
		for (const char *version : {"1", "2"}) {
			std::string img = fresh(std::string("ours") + version + ".img");
			auto r = run("cache_restore", {"--metadata-version", version, "-i", xml, "-o", img});
			ASSERT_EQ(r.status, 0) << r.err;
			EXPECT_EQ(run("cache_dump", {img}).out, text) << "format " << version;
			EXPECT_EQ(run("cache_check", {img}).status, 0);
			EXPECT_EQ(run("cache_check", {img}, true).status, 0) << "the reference rejects our format " << version;
			// The reference dumps our format 1 exactly; format 2 it reads as all clean.
			if (std::string(version) == "1") {
				EXPECT_EQ(run("cache_dump", {img}, true).out, text);
			}

			std::string ref = fresh(std::string("ref") + version + ".img");
			ASSERT_EQ(run("cache_restore", {"--metadata-version", version, "-i", xml, "-o", ref}, true).status, 0);
			EXPECT_EQ(run("cache_dump", {ref}).out, text) << "our dump of the reference's format " << version;
			// The reference's format 1 leaks a metadata block (its own check
			// does not count references): non-fatal, so ignorable.
			auto check = run("cache_check", {ref});
			if (std::string(version) == "1") {
				EXPECT_NE(check.err.find("(leaked)"), std::string::npos) << check.err;
				EXPECT_EQ(run("cache_check", {"--ignore-non-fatal-errors", ref}).status, 0);
			} else
				EXPECT_EQ(check.status, 0) << check.err;
		}
	}
}

TEST_F(Cache, FormatTwoDirtyFlagsComeFromTheDirtyBitset) {
	std::string img = fresh("v2.img");
	ASSERT_EQ(run("cache_restore", {"-i", expected_xml(), "-o", img}).status, 0); // format 2 by default
	std::string ours = run("cache_dump", {img}).out, theirs = run("cache_dump", {img}, true).out;
	auto dirty = [](const std::string &s) {
		size_t n = 0;
		for (size_t at = s.find("dirty=\"true\""); at != std::string::npos; at = s.find("dirty=\"true\"", at + 1))
			n++;
		return n;
	};
	EXPECT_EQ(dirty(ours), 96u);
	// The mappings themselves carry no dirty bit in format 2: the
	// reference, which reads only them, sees every block clean.
	EXPECT_EQ(dirty(theirs), 0u) << "the reference's cache_dump now reads the dirty bitset: update this test";
	EXPECT_EQ(ours, ft::read_file(expected_xml()));
}

TEST_F(Cache, DamageIsFoundNamedAndRepaired) {
	std::string img = fresh("damaged.img");
	ASSERT_EQ(run("cache_restore", {"-i", dir->path("big.xml"), "-o", img}).status, 0);
	// Flip a byte in the mapping array's index root (superblock offset 192).
	std::string bytes = ft::read_file(img);
	uint64_t root = 0;
	for (int i = 7; i >= 0; i--)
		root = root << 8 | uint8_t(bytes[192 + i]);
	bytes[root * 4096 + 100] ^= 0x20;
	ft::write_file(img, bytes);

	auto check = run("cache_check", {img});
	EXPECT_EQ(check.status, 1);
	EXPECT_NE(check.err.find("missing mappings"), std::string::npos) << check.err;
	EXPECT_NE(check.err.find("block " + std::to_string(root)), std::string::npos) << check.err;
	EXPECT_EQ(run("cache_check", {img}, true).status, 1);

	auto dump = run("cache_dump", {img});
	EXPECT_EQ(dump.status, 1);
	EXPECT_NE(dump.err.find("perhaps you wanted to run with --repair"), std::string::npos);
	EXPECT_EQ(run("cache_dump", {"--repair", img}).status, 0);

	std::string out = fresh("repaired.img");
	auto repair = run("cache_repair", {"-i", img, "-o", out});
	EXPECT_EQ(repair.status, 0) << repair.err;
	EXPECT_TRUE(ft::read_file(img) == bytes) << "cache_repair wrote to its input";
	EXPECT_EQ(run("cache_check", {out}).status, 0);
	EXPECT_EQ(run("cache_check", {out}, true).status, 0);
}

TEST_F(Cache, ClearNeedsCheckFlagChangesOnlyTheFlag) {
	std::string img = fresh("flag.img");
	ASSERT_EQ(run("cache_restore", {"-i", expected_xml(), "-o", img}).status, 0);
	// Set NEEDS_CHECK and reseal with our own restore's image as the base:
	// the dump is the same before and after, only the flag moves.
	std::string before_dump = run("cache_dump", {img}).out;
	auto r = run("cache_check", {"--clear-needs-check-flag", img});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(run("cache_dump", {img}).out, before_dump);
	EXPECT_EQ(run("cache_check", {img}, true).status, 0);
}

TEST_F(Cache, BadInputsFailWithOneClearLine) {
	auto none = run("cache_check", {});
	EXPECT_EQ(none.status, 1);
	EXPECT_NE(none.err.find("No input file provided."), std::string::npos);
	std::string img = fresh("bad.img");
	ft::write_file(dir->path("bad.xml"), "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"4\" policy=\"smq\" "
	                                     "hint_width=\"4\">\n  <mappings>\n    <mapping cache_block=\"9\" "
	                                     "origin_block=\"1\" dirty=\"false\"/>\n");
	auto r = run("cache_restore", {"-i", dir->path("bad.xml"), "-o", img});
	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.err.rfind(dir->path("bad.xml") + ":3:", 0), 0u) << r.err;
	EXPECT_NE(r.err.find("beyond nr_cache_blocks"), std::string::npos) << r.err;
	EXPECT_NE(run("cache_check", {"-q", img}).status, 0) << "a failed restore left valid metadata";
	ft::write_file(dir->path("twice.xml"), "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"4\" policy=\"smq\" "
	                                       "hint_width=\"4\">\n  <mappings>\n    <mapping cache_block=\"0\" "
	                                       "origin_block=\"1\" dirty=\"false\"/>\n    <mapping cache_block=\"1\" "
	                                       "origin_block=\"1\" dirty=\"false\"/>\n  </mappings>\n</superblock>\n");
	auto twice = run("cache_restore", {"-i", dir->path("twice.xml"), "-o", img});
	EXPECT_EQ(twice.status, 1);
	EXPECT_NE(twice.err.find("origin block 1 is mapped by two cache blocks"), std::string::npos) << twice.err;
	auto self = run("cache_restore", {"-i", img, "-o", img});
	EXPECT_EQ(self.status, 1);
	auto missing = run("cache_restore", {"-i", expected_xml(), "-o", dir->path("nope.img")});
	EXPECT_EQ(missing.status, 1);
	EXPECT_NE(missing.err.find("Output file does not exist."), std::string::npos);
	auto thin = run("cache_check", {ft::fixture("kernel/thin-basic/meta.img.gz")});
	EXPECT_EQ(thin.status, 1);
}

TEST_F(Cache, MetadataSizeAsTheReference) {
	for (auto args : std::vector<std::vector<std::string>>{{"--nr-blocks", "1000"},
	                                                      {"--block-size", "128", "--device-size", "1048576"},
	                                                      {"--nr-blocks", "1000", "--max-hint-width", "8"},
	                                                      {"--nr-blocks", "1000", "--block-size", "128", "--device-size", "1048576"},
	                                                      {"--nr-blocks", "1000", "--block-size", "128", "--device-size", "128000"},
	                                                      {"--block-size", "128"},
	                                                      {"--device-size", "128"},
	                                                      {}}) {
		auto a = run("cache_metadata_size", args), b = run("cache_metadata_size", args, true);
		EXPECT_EQ(a.status, b.status) << args.size();
		EXPECT_EQ(a.out, b.out);
		if (b.status) {
			EXPECT_EQ(a.err, b.err);
		}
	}
}

} // namespace

namespace {

// The kernel fixture's cache, written back offline: the origin must then
// hold what the cache presented (the manifest's sha256 of the cache device
// as the kernel showed it), and the metadata must say nothing is dirty.
TEST(CacheWriteback, OriginHoldsWhatTheCachePresented) {
	ft::scratch dir;
	std::string meta = dir.path("meta.img"), fast = dir.path("fast.img"), origin = dir.path("origin.img");
	ft::gunzip(ft::fixture("kernel/cache-basic/meta.img.gz"), meta);
	ft::gunzip(ft::fixture("kernel/cache-basic/cdev.img.gz"), fast);
	ft::gunzip(ft::fixture("kernel/cache-basic/origin.img.gz"), origin);
	const std::string presented = "fa7f24fa600827aefe5f87d7d3abe8e6b1cf65460de63e33bb6934f37e332206";
	auto sha = [&] { return ft::run({"sha256sum", origin}).out.substr(0, 64); };
	ASSERT_NE(sha(), presented) << "the origin already holds the dirty data";

	// Without a metadata update: the data moves, the metadata stays.
	std::string meta_before = ft::read_file(meta);
	auto r = ft::run({ft::tool("cache_writeback"), "--no-metadata-update", "--metadata-device", meta,
	                  "--origin-device", origin, "--fast-device", fast});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("wrote back 96 of 96 dirty blocks"), std::string::npos) << r.err;
	EXPECT_EQ(sha(), presented);
	EXPECT_TRUE(ft::read_file(meta) == meta_before);

	r = ft::run({ft::tool("cache_writeback"), "--metadata-device", meta, "--origin-device", origin, "--fast-device",
	             fast});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(sha(), presented);
	auto dump = ft::run({ft::tool("cache_dump"), meta});
	EXPECT_EQ(dump.out.find("dirty=\"true\""), std::string::npos);
	std::string expected = ft::read_file(ft::fixture("kernel/cache-basic/expected/cache_dump.xml"));
	EXPECT_EQ(std::count(dump.out.begin(), dump.out.end(), '\n'), std::count(expected.begin(), expected.end(), '\n'));
	EXPECT_EQ(ft::run({ft::tool("cache_check"), meta}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("cache_check"), meta}).status, 0);
	// A second run finds nothing to do.
	r = ft::run({ft::tool("cache_writeback"), "--metadata-device", meta, "--origin-device", origin, "--fast-device",
	             fast});
	EXPECT_NE(r.err.find("wrote back 0 of 0 dirty blocks"), std::string::npos) << r.err;

	auto missing = ft::run({ft::tool("cache_writeback"), "--origin-device", origin, "--fast-device", fast});
	EXPECT_EQ(missing.status, 1);
	EXPECT_EQ(missing.err.rfind("No metadata device provided.", 0), 0u) << missing.err;
}

} // namespace
