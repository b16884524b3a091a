// The era tools against the kernel-written fixture and the reference: check
// verdict, dump (plain and --logical), era_invalidate, round trips both
// ways, damage.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>
#include <sstream>

namespace {

class Era : public ::testing::Test {
protected:
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		ft::gunzip(ft::fixture("kernel/era-basic/meta.img.gz"), dir->path("kernel.img"));
		// A bigger history: 6 archived writesets of random bits.
		std::mt19937_64 rng(9);
		const uint32_t n = 5000;
		std::string xml = "<superblock uuid=\"\" block_size=\"256\" nr_blocks=\"5000\" current_era=\"9\">\n";
		for (uint32_t e : {2u, 3u, 5u, 6u, 7u, 8u}) {
			xml += "  <writeset era=\"" + std::to_string(e) + "\" nr_bits=\"5000\">\n";
			for (uint32_t b = 0; b < n; b++)
				xml += "    <bit block=\"" + std::to_string(b) + "\" value=\"" + (rng() % 7 == 0 ? "true" : "false") +
				       "\"/>\n";
			xml += "  </writeset>\n";
		}
		xml += "  <era_array>\n";
		for (uint32_t b = 0; b < n; b++)
			xml += "    <era block=\"" + std::to_string(b) + "\" era=\"" + std::to_string(rng() % 5) + "\"/>\n";
		xml += "  </era_array>\n</superblock>\n";
		ft::write_file(dir->path("big.xml"), xml);
	}
	static void TearDownTestSuite() { delete dir; }
	static std::string kernel() { return dir->path("kernel.img"); }
	static std::string expected(const std::string &name) {
		return ft::read_file(ft::fixture("kernel/era-basic/expected/" + name));
	}
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

ft::scratch *Era::dir;

TEST_F(Era, KernelFixtureChecksDumpsAndInvalidatesAsExpected) {
	auto c = run("era_check", {kernel()}), rc = run("era_check", {kernel()}, true);
	EXPECT_EQ(c.status, 0) << c.err;
	EXPECT_EQ(c.err, rc.err);
	EXPECT_EQ(run("era_dump", {kernel()}).out, expected("era_dump.xml"));
	EXPECT_EQ(run("era_dump", {"--logical", kernel()}).out, expected("era_dump-logical.xml"));
	EXPECT_EQ(run("era_invalidate", {"--written-since", "2", kernel()}).out, expected("era_invalidate-since-2.xml"));
	auto q = run("era_check", {"-q", kernel()});
	EXPECT_EQ(q.out + q.err, "");
}

TEST_F(Era, RoundTripsWithTheReferenceInBothDirections) {
	for (const auto &xml : {ft::fixture("kernel/era-basic/expected/era_dump.xml"), dir->path("big.xml")}) {
		std::string text = ft::read_file(xml);
		std::string ours = fresh("ours.img"), theirs = fresh("theirs.img");
		ASSERT_EQ(run("era_restore", {"-i", xml, "-o", ours}).status, 0);
		ASSERT_EQ(run("era_restore", {"-i", xml, "-o", theirs}, true).status, 0);
		EXPECT_EQ(run("era_dump", {ours}).out, text);
		EXPECT_EQ(run("era_dump", {ours}, true).out, text);
		EXPECT_EQ(run("era_dump", {theirs}).out, text);
		EXPECT_EQ(run("era_check", {ours}).status, 0);
		EXPECT_EQ(run("era_check", {ours}, true).status, 0);
		EXPECT_EQ(run("era_check", {theirs}).status, 0);
	}
}

// --logical gives each block the newest era that wrote it: the newer of its
// array era and the newest writeset marking it (the kernel digests
// writesets oldest first, so the newest wins).  The reference 0.9.0 takes
// the *oldest* marking writeset instead; with a single writeset, as in the
// kernel fixture, the two agree.
TEST_F(Era, LogicalDumpGivesTheNewestEra) {
	std::string xml = ft::read_file(dir->path("big.xml"));
	std::map<uint32_t, uint32_t> expected;
	std::regex era_re("<era block=\"([0-9]+)\" era=\"([0-9]+)\""), ws_re("<writeset era=\"([0-9]+)\""),
	    bit_re("<bit block=\"([0-9]+)\" value=\"true\"");
	std::istringstream in(xml);
	std::map<uint32_t, uint32_t> newest_mark;
	uint32_t current = 0;
	for (std::string line; std::getline(in, line);) {
		std::smatch m;
		if (std::regex_search(line, m, ws_re))
			current = uint32_t(std::stoul(m[1]));
		else if (std::regex_search(line, m, bit_re))
			newest_mark[uint32_t(std::stoul(m[1]))] = current; // writesets come in ascending era
		else if (std::regex_search(line, m, era_re))
			expected[uint32_t(std::stoul(m[1]))] = uint32_t(std::stoul(m[2]));
	}
	for (auto [b, e] : newest_mark)
		expected[b] = std::max(expected[b], e);
	std::string img = fresh("logical.img");
	ASSERT_EQ(run("era_restore", {"-i", dir->path("big.xml"), "-o", img}).status, 0);
	std::string ours = run("era_dump", {"--logical", img}).out;
	size_t checked = 0;
	for (auto it = std::sregex_iterator(ours.begin(), ours.end(), era_re); it != std::sregex_iterator(); ++it) {
		uint32_t b = uint32_t(std::stoul((*it)[1])), e = uint32_t(std::stoul((*it)[2]));
		EXPECT_EQ(e, expected[b]) << "block " << b;
		checked++;
	}
	EXPECT_EQ(checked, 5000u);
	EXPECT_NE(run("era_dump", {"--logical", img}, true).out, ours)
	    << "the reference now takes the newest era: update this test";
	EXPECT_EQ(run("era_dump", {"--logical", kernel()}, true).out, run("era_dump", {"--logical", kernel()}).out);
}

TEST_F(Era, InvalidateAgreesWithTheReferenceAtEveryThreshold) {
	std::string img = fresh("inv.img");
	ASSERT_EQ(run("era_restore", {"-i", dir->path("big.xml"), "-o", img}).status, 0);
	for (const auto &image : {kernel(), img})
		for (const char *since : {"0", "1", "2", "3", "4", "5", "6", "8", "9", "10", "1000"}) {
			auto a = run("era_invalidate", {"--written-since", since, image});
			auto b = run("era_invalidate", {"--written-since", since, image}, true);
			EXPECT_EQ(a.status, 0) << a.err;
			EXPECT_EQ(a.out, b.out) << "--written-since " << since;
		}
	auto none = run("era_invalidate", {"--written-since", "2", "--metadata-snapshot", kernel()});
	EXPECT_EQ(none.status, 1);
	EXPECT_EQ(none.err, "no metadata snapshot taken.\n");
	auto missing = run("era_invalidate", {kernel()});
	EXPECT_EQ(missing.status, 1);
	EXPECT_EQ(missing.err.rfind("Please specify --written-since", 0), 0u) << missing.err;
}

TEST_F(Era, DamageIsFound) {
	// An era above the current one.
	std::string text = ft::read_file(ft::fixture("kernel/era-basic/expected/era_dump.xml"));
	auto at = text.find("<era block=\"7\" era=\"");
	ASSERT_NE(at, std::string::npos);
	std::string bad = text.substr(0, at) + "<era block=\"7\" era=\"99\"/>" + text.substr(text.find('\n', at));
	ft::write_file(dir->path("future.xml"), bad);
	std::string img = fresh("future.img");
	ASSERT_EQ(run("era_restore", {"-i", dir->path("future.xml"), "-o", img}).status, 0);
	auto c = run("era_check", {img});
	EXPECT_EQ(c.status, 1);
	EXPECT_NE(c.err.find("block 7 has era 99, above the current era 5"), std::string::npos) << c.err;

	// A damaged era array index.
	std::string dmg = fresh("damaged.img");
	ASSERT_EQ(run("era_restore", {"-i", ft::fixture("kernel/era-basic/expected/era_dump.xml"), "-o", dmg}).status, 0);
	std::string bytes = ft::read_file(dmg);
	uint64_t root = 0;
	for (int i = 7; i >= 0; i--)
		root = root << 8 | uint8_t(bytes[208 + i]);
	bytes[root * 4096 + 300] ^= 1;
	ft::write_file(dmg, bytes);
	auto d = run("era_check", {dmg});
	EXPECT_EQ(d.status, 1);
	EXPECT_NE(d.err.find("era array"), std::string::npos) << d.err;
	EXPECT_NE(d.err.find("block " + std::to_string(root)), std::string::npos) << d.err;
	EXPECT_NE(run("era_check", {dmg}, true).status, 0); // (the reference aborts here)
	auto dump = run("era_dump", {dmg});
	EXPECT_EQ(dump.status, 1);
	EXPECT_EQ(run("era_dump", {"--repair", dmg}).status, 0);

	auto garbage = run("era_check", {ft::fixture("kernel/era-basic/expected/era_dump.xml")});
	EXPECT_EQ(garbage.status, 1);
	auto no_out = run("era_restore", {"-i", dir->path("big.xml")});
	EXPECT_EQ(no_out.status, 1);
	EXPECT_NE(no_out.err.find("No output file provided."), std::string::npos);
}

} // namespace
