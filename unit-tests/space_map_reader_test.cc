// The read-only space-map reader and the comparison with a recount, on a
// real metadata space map of three bitmaps (metadata_fixture.h) whose
// counts the test sets: 0, 1, 2, and 3 and above through the reference
// count tree.  The map's own get_count is the truth the reader must agree
// with.
#include "persistent-data/space_map_comparison.h"
#include "persistent-data/space_map_reader.h"
#include "unit-tests/metadata_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using namespace pdata;
using testing_support::metadata_device;

class SpaceMapReader : public ::testing::Test {
protected:
	// Blocks the test owns, with their counts: four from the allocator
	// (counts 1, 2, 3, 5), and one in each later bitmap (1, and 4).
	void SetUp() override {
		one = m.sm().new_block();
		two = m.sm().new_block();
		three = m.sm().new_block();
		five = m.sm().new_block();
		m.sm().inc(two);
		for (int i = 0; i < 2; i++)
			m.sm().inc(three);
		for (int i = 0; i < 4; i++)
			m.sm().inc(five);
		m.sm().set_count(in_second, 1);
		m.sm().set_count(in_third, 4);
		mine = {{one, 1}, {two, 2}, {three, 3}, {five, 5}, {in_second, 1}, {in_third, 4}};
		m.commit({});
		root = decode_sm_root(m.sm().root().data());
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		m.io().read(b, 1, d.data());
		return d;
	}
	void break_checksum(block_address b) {
		auto d = read(b);
		d[200] ^= 0x08;
		m.io().write(b, 1, d.data());
	}

	// Every reference the map should count: its own blocks and the
	// superblock (the fixture's recount), and the test's.
	count_array exact_recount() {
		count_array refs = m.recount({});
		for (auto [b, c] : mine)
			refs.inc(b, c);
		return refs;
	}

	// Compares the stored map with REAL as a checker does.
	sm_comparison::result compare(const count_array &real, bool defer_overflow) {
		sm_index index = read_metadata_index(m.io(), root);
		EXPECT_TRUE(index.complete());
		sm_comparison cmp("metadata", root.nr_blocks, defer_overflow);
		block_manager bm(m.io());
		for (auto [b, c] : read_overflow_counts(bm, root.ref_count_root).counts)
			cmp.note_overflow(b, c, real);
		read_bitmaps(
		    m.io(), index, [&](uint64_t i, block_address, const uint8_t *data) { cmp.compare_bitmap(i, data, real); },
		    [](uint64_t, block_address, const uint8_t *, const std::optional<std::string> &problem) {
			    EXPECT_FALSE(problem) << *problem;
		    });
		return cmp.finish();
	}

	static constexpr block_address NR_BLOCKS = 2 * ENTRIES_PER_BITMAP + 100;
	const block_address in_second = ENTRIES_PER_BITMAP + 7, in_third = 2 * ENTRIES_PER_BITMAP + 50;
	metadata_device m{NR_BLOCKS};
	block_address one = 0, two = 0, three = 0, five = 0;
	std::map<block_address, uint32_t> mine;
	sm_root root;
};

TEST_F(SpaceMapReader, MetadataIndexFindsEachBitmap) {
	sm_index index = read_metadata_index(m.io(), root);
	EXPECT_TRUE(index.usable);
	EXPECT_TRUE(index.complete());
	EXPECT_EQ(index.nr_blocks, NR_BLOCKS);
	ASSERT_EQ(index.bitmaps.size(), 3u);
	// Each listed block is a sound bitmap at its own location, and the one
	// that counts its range: it holds the counts set there.
	for (block_address b : index.bitmaps)
		EXPECT_FALSE(bitmap_validator().check(read(b).data(), b)) << "block " << b;
	EXPECT_EQ(bitmap_entry(read(index.bitmaps[0]).data(), five), 3u);
	EXPECT_EQ(bitmap_entry(read(index.bitmaps[1]).data(), in_second - ENTRIES_PER_BITMAP), 1u);
	EXPECT_EQ(bitmap_entry(read(index.bitmaps[2]).data(), in_third - 2 * ENTRIES_PER_BITMAP), 3u);

	// A truncated device keeps only the bitmaps that start below its end.
	EXPECT_EQ(read_metadata_index(m.io(), root, ENTRIES_PER_BITMAP + 1).bitmaps.size(), 2u);
}

TEST_F(SpaceMapReader, BadIndexChecksumMakesTheIndexUnusable) {
	break_checksum(root.bitmap_root);
	sm_index index = read_metadata_index(m.io(), root);
	EXPECT_FALSE(index.usable);
	EXPECT_TRUE(index.bitmaps.empty());
	ASSERT_EQ(index.damage.size(), 1u);
	EXPECT_EQ(index.damage[0].block, root.bitmap_root);
	EXPECT_EQ(index.damage[0].reason, "metadata space map: bad checksum in space map index (block " +
	                                      std::to_string(root.bitmap_root) + ")");
	// Nothing that needs the index trusts it.
	block_manager bm(m.io());
	EXPECT_FALSE(read_nonzero_counts(bm, index, root));
	EXPECT_FALSE(read_used_blocks(m.io(), index));
}

TEST_F(SpaceMapReader, NonzeroCountsEqualTheMapsOwnCounts) {
	block_manager bm(m.io());
	auto counts = read_nonzero_counts(bm, read_metadata_index(m.io(), root), root);
	ASSERT_TRUE(counts);
	for (block_address b = 0; b < NR_BLOCKS; b++) {
		auto it = counts->find(b);
		ASSERT_EQ(it == counts->end() ? 0 : it->second, m.sm().get_count(b)) << "block " << b;
	}
	// The counts above 2 came from the reference count tree, not the bitmap.
	EXPECT_EQ(counts->at(three), 3u);
	EXPECT_EQ(counts->at(five), 5u);
	EXPECT_EQ(counts->at(in_third), 4u);
	EXPECT_EQ(counts->at(two), 2u);
	auto tree = read_overflow_counts(bm, root.ref_count_root);
	EXPECT_FALSE(tree.damaged);
	EXPECT_EQ(tree.counts.at(five), 5u);
	EXPECT_EQ(tree.counts.count(two), 0u);
}

TEST_F(SpaceMapReader, ForEachEntryVisitsEveryBlockInOrder) {
	std::vector<std::pair<block_address, uint32_t>> seen;
	auto damage = for_each_entry(m.io(), read_metadata_index(m.io(), root), "metadata",
	                             [&](block_address b, uint32_t e) { seen.push_back({b, e}); });
	EXPECT_TRUE(damage.empty());
	ASSERT_EQ(seen.size(), NR_BLOCKS);
	for (block_address b = 0; b < NR_BLOCKS; b++) {
		ASSERT_EQ(seen[b].first, b);
		ASSERT_EQ(seen[b].second, std::min<uint32_t>(m.sm().get_count(b), 3)) << "block " << b;
	}

	// LIMIT stops the visit there, mid-bitmap.
	uint64_t visited = 0;
	for_each_entry(
	    m.io(), read_metadata_index(m.io(), root), "metadata", [&](block_address, uint32_t) { visited++; },
	    ENTRIES_PER_BITMAP + 5);
	EXPECT_EQ(visited, ENTRIES_PER_BITMAP + 5);
}

TEST_F(SpaceMapReader, DamagedBitmapIsSkippedAndNamed) {
	sm_index index = read_metadata_index(m.io(), root);
	block_address bad = index.bitmaps[1];
	break_checksum(bad);
	uint64_t visited = 0, in_bad_range = 0;
	auto damage = for_each_entry(m.io(), index, "metadata", [&](block_address b, uint32_t) {
		visited++;
		in_bad_range += b >= ENTRIES_PER_BITMAP && b < 2 * ENTRIES_PER_BITMAP;
	});
	ASSERT_EQ(damage.size(), 1u);
	EXPECT_EQ(damage[0].block, bad);
	EXPECT_EQ(damage[0].reason,
	          "metadata space map: bad checksum in space map bitmap (block " + std::to_string(bad) + ")");
	EXPECT_EQ(visited, NR_BLOCKS - ENTRIES_PER_BITMAP);
	EXPECT_EQ(in_bad_range, 0u);
	block_manager bm(m.io());
	EXPECT_FALSE(read_nonzero_counts(bm, index, root));
	EXPECT_FALSE(read_used_blocks(m.io(), index));
}

TEST_F(SpaceMapReader, UsedBlocksAreThoseWithACount) {
	auto used = read_used_blocks(m.io(), read_metadata_index(m.io(), root));
	ASSERT_TRUE(used);
	std::vector<block_address> want;
	for (block_address b = 0; b < NR_BLOCKS; b++)
		if (m.sm().get_count(b))
			want.push_back(b);
	EXPECT_EQ(*used, want);
	// (The test's blocks in the later bitmaps are among them.)
	EXPECT_TRUE(std::binary_search(used->begin(), used->end(), in_second));
	EXPECT_TRUE(std::binary_search(used->begin(), used->end(), in_third));
}

TEST_F(SpaceMapReader, ComparisonWithAnExactRecountFindsNothing) {
	count_array real = exact_recount();
	for (bool defer : {true, false}) {
		auto found = compare(real, defer);
		EXPECT_TRUE(found.problems.empty()) << found.problems.front().text;
		EXPECT_TRUE(found.mismatches.empty()) << "block " << found.mismatches.front().block;
	}
}

TEST_F(SpaceMapReader, ComparisonReportsEachMismatchExactly) {
	count_array real = exact_recount();
	real.dec(one);      // stored 1, really 0: a leak
	real.inc(two);      // stored 2, really 3: below
	real.inc(five);     // stored 5 (in the tree), really 6
	real.inc(in_third); // stored 4 (in the tree), really 5
	std::vector<std::tuple<block_address, uint32_t, uint32_t>> want = {
	    {one, 1, 0}, {two, 2, 3}, {five, 5, 6}, {in_third, 4, 5}};
	std::sort(want.begin(), want.end());
	// The metadata map defers the tree's counts; the data map compares
	// them as it reads them: the same answer either way.
	for (bool defer : {true, false}) {
		auto found = compare(real, defer);
		EXPECT_TRUE(found.problems.empty());
		std::vector<std::tuple<block_address, uint32_t, uint32_t>> got;
		for (const auto &mm : found.mismatches)
			got.push_back({mm.block, mm.stored, mm.expected});
		EXPECT_EQ(got, want) << (defer ? "deferred" : "not deferred");
	}
}

} // namespace
