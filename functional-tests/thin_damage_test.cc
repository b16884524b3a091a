// thin_check on every kind of damage the damage tool makes: the verdict,
// the block it names, and the reference's verdict where the reference
// detects the problem at all.  Then the fixes thin_check may make itself.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <sstream>

namespace {

// A pool with snapshots sharing trees, made once for all cases.
class DamageFixture {
public:
	DamageFixture() {
		ft::make_zero_file(image(), 16 << 20);
		auto r = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", image(), "--devices", "3",
		                  "--mappings", "6000", "--run-length", "8", "--snapshots", "4", "--writes", "40"});
		if (r.status != 0)
			throw std::runtime_error("generator failed: " + r.err);
	}
	std::string image() const { return dir.path("clean.img"); }
	std::string copy(const std::string &name) const {
		std::string p = dir.path(name);
		ft::write_file(p, ft::read_file(image()));
		return p;
	}
	ft::scratch dir;
};

DamageFixture &fixture() {
	static DamageFixture f;
	return f;
}

struct damage_case {
	std::string name;
	std::vector<std::string> args;
	int ours, ours_ignoring_non_fatal;
	// The reference's exit code, or -1 where it misses this damage (0.9.0
	// does not check data space-map counts, mapped_blocks, or data blocks
	// beyond the data device).
	int reference;
	std::string message; // must appear on our stderr
};

class ThinCheckDamage : public ::testing::TestWithParam<damage_case> {};

// The block the damage tool reports ("damaged block N (...)" or "block N
// stored count").
std::string damaged_block(const std::string &out) {
	std::smatch m;
	if (std::regex_search(out, m, std::regex("block ([0-9]+)")))
		return m[1];
	return "";
}

// Runs ARGS with DMPD_CORES=CORES: thin_check counts data blocks on a
// thread of their own from three cores on, below that on the threads that
// read the leaves.
ft::result run_with_cores(const std::vector<std::string> &args, const char *cores) {
	setenv("DMPD_CORES", cores, 1);
	auto r = ft::run(args);
	unsetenv("DMPD_CORES");
	return r;
}

TEST_P(ThinCheckDamage, IsDetectedAndNamed) {
	const damage_case &c = GetParam();
	std::string img = fixture().copy("damaged.img");
	std::vector<std::string> cmd{ft::tool("thin_generate_damage"), img, "--kind"};
	cmd.insert(cmd.end(), c.args.begin(), c.args.end());
	auto d = ft::run(cmd);
	ASSERT_EQ(d.status, 0) << d.err;
	std::string block = damaged_block(d.out);

	auto r = ft::run({ft::tool("thin_check"), img});
	EXPECT_EQ(r.status, c.ours) << d.out << r.err;
	EXPECT_NE(r.err.find(c.message), std::string::npos) << d.out << r.err;
	if (!block.empty() && c.name != "ZeroSuperblock" && c.name != "MetadataNrBlocks") {
		EXPECT_NE(r.err.find("block " + block), std::string::npos)
		    << "the damaged block is not named\n" << d.out << r.err;
	}
	auto q = ft::run({ft::tool("thin_check"), "-q", img});
	EXPECT_EQ(q.status, c.ours);
	EXPECT_EQ(q.out + q.err, "");
	auto i = ft::run({ft::tool("thin_check"), "--ignore-non-fatal-errors", img});
	EXPECT_EQ(i.status, c.ours_ignoring_non_fatal) << i.err;

	// Word for word the same verdict whether the data blocks are counted
	// by the reading threads or on their own thread.
	auto inline_count = run_with_cores({ft::tool("thin_check"), img}, "2");
	auto threaded_count = run_with_cores({ft::tool("thin_check"), img}, "3");
	EXPECT_EQ(threaded_count.status, inline_count.status);
	EXPECT_EQ(threaded_count.out, inline_count.out);
	EXPECT_EQ(threaded_count.err, inline_count.err);

	auto ref = ft::run({ft::reference("thin_check"), img});
	if (c.reference >= 0)
		EXPECT_EQ(ref.status, c.reference) << "the reference disagrees: " << ref.err;
	else
		EXPECT_EQ(ref.status, 0) << "the reference now detects this: update the table";
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ThinCheckDamage,
    ::testing::Values(
        damage_case{"ChecksumMappingLeaf", {"bad-checksum", "--target", "mapping-leaf"}, 1, 1, 1, "bad checksum in btree node"},
        damage_case{"ChecksumMappingInternal", {"bad-checksum", "--target", "mapping-internal"}, 1, 1, 1, "bad checksum in btree node"},
        damage_case{"ChecksumDetails", {"bad-checksum", "--target", "details-node"}, 1, 1, 1, "missing devices"},
        damage_case{"ChecksumTopLevel", {"bad-checksum", "--target", "top-level-node"}, 1, 1, 1, "missing all mappings for devices"},
        damage_case{"ChecksumMetadataBitmap", {"bad-checksum", "--target", "metadata-sm-bitmap"}, 1, 1, 1, "bad checksum in space map bitmap"},
        damage_case{"ChecksumMetadataIndex", {"bad-checksum", "--target", "metadata-sm-index"}, 1, 1, 1, "bad checksum in space map index"},
        damage_case{"ChecksumDataBitmap", {"bad-checksum", "--target", "data-sm-bitmap"}, 1, 1, 1, "bad checksum in space map bitmap"},
        damage_case{"ChecksumDataIndex", {"bad-checksum", "--target", "data-sm-index"}, 1, 1, 1, "data space map index is damaged"},
        damage_case{"ZeroedMappingLeaf", {"zero-block", "--target", "mapping-leaf"}, 1, 1, 1, "is missing mappings"},
        damage_case{"KeysOutOfOrder", {"keys-out-of-order"}, 1, 1, 1, "keys are out of order"},
        damage_case{"MappingPastTheDataDevice", {"mapping-past-end"}, 1, 1, -1, "beyond the data device"},
        damage_case{"WrongMappedBlocks", {"mapped-blocks"}, 1, 1, -1, "unexpected number of mappings"},
        damage_case{"MetadataCountTooHigh", {"count-high", "--sm", "metadata"}, 1, 0, 1, "(leaked)"},
        damage_case{"MetadataCountTooLow", {"count-low", "--sm", "metadata"}, 1, 1, 1, "a decrement would drop below zero"},
        damage_case{"DataCountTooHigh", {"count-high", "--sm", "data"}, 1, 0, -1, "(leaked)"},
        damage_case{"DataCountTooLow", {"count-low", "--sm", "data"}, 1, 1, -1, "a decrement would drop below zero"},
        damage_case{"DataOverflowCountTooHigh", {"overflow-high", "--sm", "data"}, 1, 0, -1, "(leaked)"},
        damage_case{"DataOverflowCountTooLow", {"overflow-low", "--sm", "data"}, 1, 1, -1, "a decrement would drop below zero"},
        // The bitmap says "3 or more: see the tree", the tree has no entry.
        damage_case{"DataOverflowEntryDropped", {"overflow-drop", "--sm", "data"}, 1, 1, -1, "has bitmap entry 3 but no entry in the reference count tree"},
        damage_case{"MetadataOverflowEntryDropped", {"overflow-drop", "--sm", "metadata"}, 1, 1, 1, "has bitmap entry 3 but no entry in the reference count tree"},
        damage_case{"DoublyReferencedTree", {"double-ref"}, 1, 1, 1, "referenced 2 times"},
        damage_case{"Cycle", {"cycle"}, 1, 1, 1, "is missing mappings"},
        damage_case{"ZeroSuperblock", {"zero-superblock"}, 1, 1, 1, "bad checksum in superblock"},
        // (The kernel never reads metadata_nr_blocks: said, not failed.)
        damage_case{"MetadataNrBlocks", {"metadata-nr-blocks"}, 0, 0, -1, "the kernel does not read it"},
        damage_case{"Truncated", {"truncate"}, 1, 1, -1, "truncated"}),
    [](const auto &info) { return info.param.name; });

// Blocks that were in use before a fix must be byte-identical after it,
// except the superblock (copy-on-write: the fix writes only into free blocks).
void expect_only_free_blocks_and_superblock_changed(const std::string &before_image,
                                                    const std::string &after_image,
                                                    const std::string &used_blocks) {
	std::string before = ft::read_file(before_image), after = ft::read_file(after_image);
	ASSERT_EQ(before.size(), after.size());
	std::istringstream in(used_blocks);
	size_t checked = 0;
	for (uint64_t b; in >> b;) {
		if (b == 0)
			continue;
		EXPECT_TRUE(before.compare(b * 4096, 4096, after, b * 4096, 4096) == 0) << "block " << b << " changed";
		checked++;
	}
	EXPECT_GT(checked, 10u);
}

// The used blocks of an image, from the damage tool's own block map: the
// blocks that a "random" damage could pick, listed by a dry run.
std::string used_blocks(const std::string &img) {
	auto r = ft::run({ft::tool("thin_dump"), img}); // keeps the image readable
	(void)r;
	std::string copy = img + ".probe";
	ft::write_file(copy, ft::read_file(img));
	auto d = ft::run({ft::tool("thin_generate_damage"), copy, "--kind", "random", "--count", "100000"});
	std::string out;
	std::istringstream in(d.out);
	for (std::string line; std::getline(in, line);)
		out += damaged_block(line) + " ";
	return out;
}

TEST(ThinCheckFixes, AutoRepairMendsALeakAndNothingElse) {
	std::string img = fixture().copy("leak.img");
	auto d = ft::run({ft::tool("thin_generate_damage"), img, "--kind", "count-high", "--sm", "metadata"});
	ASSERT_EQ(d.status, 0) << d.err;
	std::string before = img + ".before";
	ft::write_file(before, ft::read_file(img));
	std::string used = used_blocks(img);

	auto r = ft::run({ft::tool("thin_check"), "--auto-repair", img});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("fixed metadata leaks"), std::string::npos) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), img}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), img}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), img}).out, ft::run({ft::tool("thin_dump"), before}).out);
	expect_only_free_blocks_and_superblock_changed(before, img, used);
}

TEST(ThinCheckFixes, ClearNeedsCheckAlsoMendsDataLeaks) {
	std::string img = fixture().copy("dleak.img");
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "count-high", "--sm", "data"}).status, 0);
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "needs-check"}).status, 0);
	auto r = ft::run({ft::tool("thin_check"), "-q", "--clear-needs-check-flag", img});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out + r.err, "");
	auto after = ft::run({ft::tool("thin_check"), img});
	EXPECT_EQ(after.status, 0) << after.err;
	EXPECT_NE(ft::run({ft::tool("thin_dump"), img}).out.find("flags=\"0\""), std::string::npos);
}

TEST(ThinCheckFixes, NeedsCheckFlagIsNotAnErrorAndIsCleared) {
	std::string img = fixture().copy("flag.img");
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "needs-check"}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), img}).status, 0);
	EXPECT_NE(ft::run({ft::tool("thin_dump"), img}).out.find("flags=\"1\""), std::string::npos);
	auto r = ft::run({ft::tool("thin_check"), "--clear-needs-check-flag", img});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("cleared needs_check flag"), std::string::npos);
	EXPECT_NE(ft::run({ft::tool("thin_dump"), img}).out.find("flags=\"0\""), std::string::npos);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), img}).status, 0);
	// With a reduced check, as LVM users configure it.
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "needs-check"}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), "--skip-mappings", "--clear-needs-check-flag", img}).status, 0);
	EXPECT_NE(ft::run({ft::tool("thin_dump"), img}).out.find("flags=\"0\""), std::string::npos);
}

TEST(ThinCheckFixes, FatalErrorsAreNeverFixedAndTheFlagStays) {
	std::string img = fixture().copy("low.img");
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "count-low", "--sm", "metadata"}).status, 0);
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "needs-check"}).status, 0);
	std::string before = ft::read_file(img);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), "--auto-repair", img}).status, 1);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), "--clear-needs-check-flag", img}).status, 1);
	EXPECT_TRUE(ft::read_file(img) == before) << "a failed check wrote to the metadata";
}

TEST(ThinCheckFixes, HealthyMetadataIsLeftByteIdentical) {
	std::string img = fixture().copy("healthy.img");
	std::string before = ft::read_file(img);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), "--auto-repair", img}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_check"), "--clear-needs-check-flag", img}).status, 0);
	EXPECT_TRUE(ft::read_file(img) == before);
}

} // namespace
