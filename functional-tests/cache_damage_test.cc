// cache_check against named damage (cache_generate_damage): our verdict, the
// block named, the reference's verdict where it sees the damage; leaks
// mended by --clear-needs-check-flag and --auto-repair, nothing written when
// the damage is fatal.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <regex>

namespace {

struct cache_damage {
	std::string name;
	std::vector<std::string> args;
	int ours, ours_ignoring_non_fatal, reference; // reference -1: it misses this damage
	std::string message;
};

class CacheDamage : public ::testing::TestWithParam<cache_damage> {
protected:
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		ft::make_zero_file(dir->path("clean.img"), 8 << 20);
		auto r = ft::run({ft::tool("cache_restore"), "-i", ft::fixture("kernel/cache-basic/expected/cache_dump.xml"),
		                  "-o", dir->path("clean.img")});
		if (r.status)
			throw std::runtime_error(r.err);
	}
	static void TearDownTestSuite() { delete dir; }
	static std::string copy(const std::string &name) {
		ft::write_file(dir->path(name), ft::read_file(dir->path("clean.img")));
		return dir->path(name);
	}
	static std::string damage(const std::string &img, std::vector<std::string> args) {
		std::vector<std::string> cmd{ft::tool("cache_generate_damage"), img, "--kind"};
		cmd.insert(cmd.end(), args.begin(), args.end());
		auto r = ft::run(cmd);
		EXPECT_EQ(r.status, 0) << r.err;
		std::smatch m;
		std::regex_search(r.out, m, std::regex("damaged block ([0-9]+)"));
		return m.size() > 1 ? m[1].str() : "";
	}
	static ft::scratch *dir;
};

ft::scratch *CacheDamage::dir;

TEST_P(CacheDamage, IsDetectedAndNamed) {
	const auto &c = GetParam();
	std::string img = copy(c.name + ".img");
	std::string block = damage(img, c.args);
	ASSERT_FALSE(block.empty());
	auto r = ft::run({ft::tool("cache_check"), img});
	EXPECT_EQ(r.status, c.ours) << r.err;
	EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
	EXPECT_NE(r.err.find("block " + block), std::string::npos) << "the damaged block is not named\n" << r.err;
	EXPECT_EQ(ft::run({ft::tool("cache_check"), "--ignore-non-fatal-errors", img}).status, c.ours_ignoring_non_fatal);
	auto q = ft::run({ft::tool("cache_check"), "-q", img});
	EXPECT_EQ(q.out + q.err, "");
	auto ref = ft::run({ft::reference("cache_check"), img});
	if (c.reference >= 0)
		EXPECT_EQ(ref.status, c.reference) << ref.err;
	else
		EXPECT_EQ(ref.status, 0) << "the reference now sees this damage: update the table";
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, CacheDamage,
    ::testing::Values(
        cache_damage{"MappingBlock", {"bad-checksum", "--target", "mapping"}, 1, 1, 1, "missing mappings"},
        cache_damage{"MappingIndex", {"bad-checksum", "--target", "mapping-index"}, 1, 1, 1, "missing mappings"},
        cache_damage{"HintBlock", {"bad-checksum", "--target", "hint"}, 1, 1, 1, "missing hints"},
        cache_damage{"DirtyBitset", {"bad-checksum", "--target", "dirty"}, 1, 1, -1, "dirty bitset"},
        cache_damage{"CountTooHigh", {"count-high"}, 1, 0, -1, "(leaked)"},
        cache_damage{"CountTooLow", {"count-low"}, 1, 1, -1, "a decrement would drop below zero"},
        cache_damage{"UnknownMappingFlags", {"bad-mapping-flags"}, 1, 1, 1, "unknown flags"},
        cache_damage{"OriginCachedTwice", {"duplicate-origin"}, 1, 1, 1, "is cached by blocks"}),
    [](const auto &info) { return info.param.name; });

TEST_F(CacheDamage, LeaksAreMendedByTheFlagClearingCheck) {
	for (const char *flag : {"--clear-needs-check-flag", "--auto-repair"}) {
		std::string img = copy("leak.img");
		damage(img, {"count-high"});
		damage(img, {"needs-check"});
		std::string before = ft::run({ft::tool("cache_dump"), img}).out;
		auto r = ft::run({ft::tool("cache_check"), flag, img});
		EXPECT_EQ(r.status, 0) << flag << r.err;
		EXPECT_NE(r.err.find("fixed metadata leaks"), std::string::npos) << r.err;
		auto after = ft::run({ft::tool("cache_check"), img});
		EXPECT_EQ(after.status, 0) << after.err;
		EXPECT_EQ(ft::run({ft::reference("cache_check"), img}).status, 0);
		EXPECT_EQ(ft::run({ft::tool("cache_dump"), img}).out, before);
	}
}

TEST_F(CacheDamage, FatalDamageIsNeverWrittenOver) {
	std::string img = copy("fatal.img");
	damage(img, {"count-low"});
	damage(img, {"needs-check"});
	std::string before = ft::read_file(img);
	EXPECT_EQ(ft::run({ft::tool("cache_check"), "--clear-needs-check-flag", img}).status, 1);
	EXPECT_EQ(ft::run({ft::tool("cache_check"), "--auto-repair", img}).status, 1);
	EXPECT_TRUE(ft::read_file(img) == before) << "a failed check wrote to the metadata";
	EXPECT_EQ(ft::run({ft::tool("cache_check"), "--auto-repair", "--skip-hints", img}).status, 1);
}

} // namespace
