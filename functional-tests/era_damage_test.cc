// era_check against named damage (era_generate_damage): our verdict, the
// block named, the reference's verdict; the input left untouched; and
// era_dump --repair giving XML that restores to sound metadata.  Then the
// metadata-snapshot path: a snapshot counted exactly, and
// era_invalidate --metadata-snapshot reading the snapshot, not the live view.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace {

struct era_damage {
	std::string name;
	std::vector<std::string> args;
	int ours, ours_ignoring_non_fatal;
	// The reference's exit code, or -1 where it misses this damage (0.9.0
	// does not check space-map counts).  134: it aborts on a failed
	// assertion while listing what the damage loses.
	int reference;
	std::string message; // on our stderr
	int dump;            // era_dump's status without --repair
};

const char *const FIXTURE_XML = "kernel/era-basic/expected/era_dump.xml";

uint64_t le64_at(const std::string &bytes, size_t at) {
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | uint8_t(bytes.at(at + i));
	return v;
}

class EraDamage : public ::testing::TestWithParam<era_damage> {
protected:
	// The kernel fixture's history restored: it holds an archived writeset
	// (era 5), so writeset damage has something to hit.
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		ft::make_zero_file(dir->path("clean.img"), 8 << 20);
		auto r = ft::run({ft::tool("era_restore"), "-i", ft::fixture(FIXTURE_XML), "-o", dir->path("clean.img")});
		if (r.status)
			throw std::runtime_error(r.err);
	}
	static void TearDownTestSuite() { delete dir; }
	static std::string copy(const std::string &name) {
		ft::write_file(dir->path(name), ft::read_file(dir->path("clean.img")));
		return dir->path(name);
	}
	static std::string fresh(const std::string &name) {
		ft::make_zero_file(dir->path(name), 8 << 20);
		return dir->path(name);
	}
	// Runs the damage tool; the number after PATTERN in its output.
	static std::string generate(const std::string &img, std::vector<std::string> args,
	                            const std::string &pattern = "damaged block ([0-9]+)") {
		std::vector<std::string> cmd{ft::tool("era_generate_damage"), img, "--kind"};
		cmd.insert(cmd.end(), args.begin(), args.end());
		auto r = ft::run(cmd);
		EXPECT_EQ(r.status, 0) << r.err;
		std::smatch m;
		std::regex_search(r.out, m, std::regex(pattern));
		return m.size() > 1 ? m[1].str() : "";
	}
	static ft::result run(const std::string &tool, std::vector<std::string> args, bool reference = false) {
		args.insert(args.begin(), reference ? ft::reference(tool) : ft::tool(tool));
		return ft::run(args);
	}
	// era_invalidate's list at each threshold the fixture's eras make
	// interesting, through ours or the reference, live or the snapshot.
	static std::map<std::string, ft::result> invalidate(const std::string &img, bool snapshot, bool reference = false) {
		std::map<std::string, ft::result> out;
		for (const char *since : {"0", "1", "2", "3", "4", "5", "6", "100"}) {
			std::vector<std::string> args{"--written-since", since, img};
			if (snapshot)
				args.insert(args.begin(), "--metadata-snapshot");
			out[since] = run("era_invalidate", args, reference);
		}
		return out;
	}
	static ft::scratch *dir;
};

ft::scratch *EraDamage::dir;

TEST_P(EraDamage, IsDetectedAndNamed) {
	const auto &c = GetParam();
	std::string img = copy(c.name + ".img");
	std::string block = generate(img, c.args);
	ASSERT_FALSE(block.empty());
	std::string before = ft::read_file(img);
	auto r = run("era_check", {img});
	EXPECT_EQ(r.status, c.ours) << r.err;
	EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
	EXPECT_NE(r.err.find("block " + block), std::string::npos) << "the damaged block is not named\n" << r.err;
	EXPECT_EQ(run("era_check", {"--ignore-non-fatal-errors", img}).status, c.ours_ignoring_non_fatal);
	auto q = run("era_check", {"-q", img});
	EXPECT_EQ(q.status, c.ours);
	EXPECT_EQ(q.out + q.err, "");
	auto ref = run("era_check", {img}, true);
	if (c.reference >= 0)
		EXPECT_EQ(ref.status, c.reference) << ref.err;
	else
		EXPECT_EQ(ref.status, 0) << "the reference now sees this damage: update the table\n" << ref.err;
	auto dump = run("era_dump", {img});
	EXPECT_EQ(dump.status, c.dump) << dump.err;
	EXPECT_TRUE(ft::read_file(img) == before) << "era_check or era_dump wrote to its input";
}

TEST_P(EraDamage, RepairedDumpRestoresToSoundMetadata) {
	const auto &c = GetParam();
	std::string img = copy(c.name + "-repair.img");
	ASSERT_FALSE(generate(img, c.args).empty());
	std::string before = ft::read_file(img);
	auto dump = run("era_dump", {"--repair", img});
	ASSERT_EQ(dump.status, 0) << dump.err;
	EXPECT_TRUE(ft::read_file(img) == before) << "era_dump --repair wrote to its input";
	ft::write_file(dir->path(c.name + ".xml"), dump.out);
	std::string out = fresh(c.name + "-restored.img");
	auto restore = run("era_restore", {"-i", dir->path(c.name + ".xml"), "-o", out});
	ASSERT_EQ(restore.status, 0) << restore.err;
	auto check = run("era_check", {out});
	EXPECT_EQ(check.status, 0) << check.err;
}

// (Named so that --gtest_filter='Era*' takes these too.)
INSTANTIATE_TEST_SUITE_P(
    EraKinds, EraDamage,
    ::testing::Values(
        era_damage{"Superblock", {"bad-checksum", "--target", "superblock"}, 1, 1, 1, "bad checksum in superblock", 1},
        era_damage{"WritesetTree", {"bad-checksum", "--target", "writeset-tree"}, 1, 1, 134,
                   "writeset tree: bad checksum in btree node", 1},
        era_damage{"WritesetBitset", {"bad-checksum", "--target", "writeset"}, 1, 1, 134,
                   "writeset bitset: bad checksum in array block", 1},
        era_damage{"EraArrayBlock", {"bad-checksum", "--target", "era-array"}, 1, 1, 134,
                   "era array: bad checksum in array block", 1},
        era_damage{"EraArrayIndex", {"bad-checksum", "--target", "era-array-index"}, 1, 1, 134,
                   "era array: bad checksum in btree node", 1},
        // A leak loses nothing: non-fatal, so only --ignore-non-fatal-errors passes it.
        era_damage{"CountTooHigh", {"count-high"}, 1, 0, -1, "(leaked)", 0},
        era_damage{"CountTooLow", {"count-low"}, 1, 1, -1, "a decrement would drop below zero", 0},
        era_damage{"EraTooHigh", {"era-too-high"}, 1, 1, 1, "has era 6, above the current era 5", 1}),
    [](const auto &info) { return info.param.name; });

// The safe repair of an impossible era is the current one: the block then
// shows up in every list era_invalidate can give, as it may have been written.
TEST_F(EraDamage, RepairLowersAFutureEraToTheCurrentOne) {
	std::string img = copy("future.img");
	ASSERT_FALSE(generate(img, {"era-too-high"}).empty());
	auto dump = run("era_dump", {"--repair", img});
	EXPECT_EQ(dump.status, 0);
	EXPECT_NE(dump.out.find("<era block=\"0\" era=\"5\"/>"), std::string::npos);
	auto plain = run("era_dump", {img});
	EXPECT_NE(plain.out.find("<era block=\"0\" era=\"6\"/>"), std::string::npos) << "a plain dump shows what is there";
	EXPECT_NE(plain.err.find("perhaps you wanted to run with --repair"), std::string::npos) << plain.err;
}

TEST_F(EraDamage, MetadataSnapshotIsCountedExactly) {
	std::string img = copy("snap.img");
	std::string clean = ft::read_file(img);
	std::string at = generate(img, {"metadata-snap"}, "metadata snapshot at block ([0-9]+)");
	ASSERT_FALSE(at.empty());
	uint64_t snap = std::stoull(at);
	std::string bytes = ft::read_file(img);
	EXPECT_EQ(le64_at(bytes, 216), snap);               // the live superblock names it
	EXPECT_EQ(le64_at(bytes, snap * 4096 + 8), snap);   // the copy's own location
	EXPECT_EQ(le64_at(bytes, snap * 4096 + 216), 0u);   // and no snapshot of its own
	EXPECT_EQ(le64_at(bytes, 44 + 8), le64_at(clean, 44 + 8) + 1) << "nr_allocated: one new block";

	auto ours = run("era_check", {img});
	EXPECT_EQ(ours.status, 0) << ours.err;
	auto ref = run("era_check", {img}, true);
	EXPECT_EQ(ref.status, 0) << ref.err;
	// A fresh snapshot is the live view: ours and the reference agree.
	auto snap_view = invalidate(img, true), ref_view = invalidate(img, true, true), live = invalidate(img, false);
	for (const auto &[since, r] : snap_view) {
		EXPECT_EQ(r.status, 0) << since << r.err;
		EXPECT_EQ(r.out, ref_view[since].out) << "--written-since " << since;
		EXPECT_EQ(r.out, live[since].out) << "--written-since " << since;
	}

	// One snapshot at a time, as the kernel allows.
	std::string held = ft::read_file(img);
	auto again = ft::run({ft::tool("era_generate_damage"), img, "--kind", "metadata-snap"});
	EXPECT_NE(again.status, 0);
	EXPECT_NE(again.err.find("already held"), std::string::npos) << again.err;
	EXPECT_TRUE(ft::read_file(img) == held);

	// The same copy without the references the kernel takes for it: the
	// copy and both roots it holds are counted too low.
	std::string uncounted = clean;
	uncounted.replace(0, 4096, bytes.substr(0, 4096));
	uncounted.replace(snap * 4096, 4096, bytes.substr(snap * 4096, 4096));
	ft::write_file(dir->path("uncounted.img"), uncounted);
	auto bad = run("era_check", {dir->path("uncounted.img")});
	EXPECT_EQ(bad.status, 1);
	for (uint64_t b : {snap, le64_at(bytes, 200), le64_at(bytes, 208)})
		EXPECT_NE(bad.err.find("metadata block " + std::to_string(b) + ": stored count"), std::string::npos)
		    << b << "\n" << bad.err;
}

TEST_F(EraDamage, InvalidateReadsTheSnapshotNotTheLiveView) {
	std::string img = copy("diverged.img");
	ASSERT_FALSE(generate(img, {"metadata-snap"}, "metadata snapshot at block ([0-9]+)").empty());
	auto taken = invalidate(img, false);
	// Origin block 0 (era 1) written again in era 5, in the live view only.
	std::string new_block = generate(img, {"diverge-live"}, "array block [0-9]+ -> ([0-9]+)");
	ASSERT_FALSE(new_block.empty());
	auto ours = run("era_check", {img});
	EXPECT_EQ(ours.status, 0) << "copy-on-write counts are exact\n" << ours.err;
	EXPECT_EQ(run("era_check", {img}, true).status, 0);

	auto snap_view = invalidate(img, true), live = invalidate(img, false);
	auto ref_snap = invalidate(img, true, true), ref_live = invalidate(img, false, true);
	for (const auto &[since, r] : snap_view) {
		EXPECT_EQ(r.status, 0) << since << r.err;
		EXPECT_EQ(r.out, taken[since].out) << "the snapshot's view, --written-since " << since;
		EXPECT_EQ(live[since].out, ref_live[since].out) << "--written-since " << since;
		// 0.9.0 opens the live superblock whatever --metadata-snapshot says.
		EXPECT_EQ(ref_snap[since].out, ref_live[since].out) << "the reference now reads the snapshot: compare with it";
	}
	EXPECT_NE(snap_view["2"].out, live["2"].out);
	EXPECT_NE(live["2"].out.find("<block block=\"0\"/>"), std::string::npos) << live["2"].out;

	// Damage only the live view reaches: the snapshot's view stays readable.
	EXPECT_EQ(generate(img, {"bad-checksum", "--target", "era-array"}), new_block);
	auto check = run("era_check", {img});
	EXPECT_EQ(check.status, 1);
	EXPECT_NE(check.err.find("era array: bad checksum in array block (block " + new_block + ")"), std::string::npos)
	    << check.err;
	EXPECT_EQ(run("era_invalidate", {"--written-since", "2", img}).status, 1);
	auto still = run("era_invalidate", {"--metadata-snapshot", "--written-since", "2", img});
	EXPECT_EQ(still.status, 0) << still.err;
	EXPECT_EQ(still.out, taken["2"].out);
}

TEST_F(EraDamage, RefusesWhatItCannotDo) {
	std::string img = copy("refuse.img");
	std::string before = ft::read_file(img);
	auto no_snap = ft::run({ft::tool("era_generate_damage"), img, "--kind", "diverge-live"});
	EXPECT_NE(no_snap.status, 0);
	EXPECT_NE(no_snap.err.find("no metadata snapshot"), std::string::npos) << no_snap.err;
	auto kind = ft::run({ft::tool("era_generate_damage"), img, "--kind", "hedgehogs"});
	EXPECT_EQ(kind.status, 1);
	EXPECT_NE(kind.err.find("unknown --kind 'hedgehogs'"), std::string::npos) << kind.err;
	auto target = ft::run({ft::tool("era_generate_damage"), img, "--kind", "bad-checksum", "--target", "x"});
	EXPECT_EQ(target.status, 1);
	EXPECT_TRUE(ft::read_file(img) == before);
}

} // namespace
