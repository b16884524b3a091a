// era/metadata.cc: how writesets fold together.  written_since (what
// era_invalidate prints) takes a block when the era array or a writeset of
// an era at or past the threshold says it was written, the live writeset
// counting as the current era; dump_era's repair merges a live writeset
// that has the era of an archived one into it (a bit set in either is set),
// so that a restore gets one writeset per era.  Checked on metadata built
// in memory, and on the kernel-written era-snap fixture, live and through
// its held metadata snapshot, where the folded dump and written_since must
// name the same blocks for every threshold.
#include "era/era_io.h"
#include "era/metadata.h"
#include "era/metadata_builder.h"
#include "era/superblock.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"

#include <boost/iostreams/copy.hpp>
#include <boost/iostreams/filter/bzip2.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace era;
using pdata::block_address;
using pdata::BLOCK_SIZE;

// What dump_era emits, kept.
class recording : public emitter {
public:
	void begin_superblock(const era_info &i) override { info = i; }
	void end_superblock() override {}
	void begin_writeset(uint32_t era, uint32_t nr_bits) override {
		order.push_back(era);
		current = &sets[era];
		current->assign(nr_bits, false);
	}
	void writeset_bit(uint32_t block, bool value) override { (*current)[block] = value; }
	void end_writeset() override {}
	void begin_era_array() override {}
	void era(uint32_t block, uint32_t e) override {
		if (eras.size() <= block)
			eras.resize(block + 1);
		eras[block] = e;
	}
	void end_era_array() override {}

	era_info info;
	std::vector<uint32_t> order; // eras of the writesets, as emitted
	std::map<uint32_t, std::vector<bool>> sets;
	std::vector<uint32_t> eras;

private:
	std::vector<bool> *current = nullptr;
};

std::set<uint32_t> blocks_of(const std::vector<bool> &v) {
	std::set<uint32_t> s;
	for (uint32_t b = 0; b < v.size(); b++)
		if (v[b])
			s.insert(b);
	return s;
}

constexpr uint32_t NR_BLOCKS = 1000;

// Writeset bits of era E in the metadata built below.
bool written_in(uint32_t era, uint32_t b) { return b % (era + 2) == 0; }

class EraWritesets : public ::testing::Test {
protected:
	// Archived writesets of eras 1, 2 and 3; the era array says era 1 for
	// blocks below 100; the current era is 3.  Then the live writeset
	// is pointed at era 2's array: the live set (era 3) has era 2's bits,
	// and the archived set of era 3 has its own - the state a repaired
	// current era, or a set archived at shutdown whose root survived, leaves.
	void SetUp() override {
		pdata::block_manager bm(io);
		auto out = make_era_builder(bm);
		era_info info;
		info.block_size = 128;
		info.nr_blocks = NR_BLOCKS;
		info.current_era = 3;
		out->begin_superblock(info);
		for (uint32_t e = 1; e <= 3; e++) {
			out->begin_writeset(e, NR_BLOCKS);
			for (uint32_t b = 0; b < NR_BLOCKS; b++)
				out->writeset_bit(b, written_in(e, b));
			out->end_writeset();
		}
		out->begin_era_array();
		for (uint32_t b = 0; b < NR_BLOCKS; b++)
			out->era(b, b < 100 ? 1 : 0);
		out->end_era_array();
		out->end_superblock();
	}

	// Points the live writeset at era ERA's archived array.
	void live_writeset_from(uint32_t era) {
		pdata::block_manager bm(io);
		superblock sb = read_era_superblock(io);
		std::vector<std::string> damage;
		for (const auto &w : writesets_of(bm, sb, false, damage))
			if (w.era == era) {
				sb.current_writeset_root = w.ws.root;
				sb.current_writeset_bits = w.ws.nr_bits;
			}
		ASSERT_NE(sb.current_writeset_root, 0u);
		std::vector<uint8_t> block(BLOCK_SIZE);
		encode_superblock(sb, block.data());
		io.write(0, 1, block.data());
	}

	std::set<uint32_t> since(uint32_t era, bool live = true) {
		pdata::block_manager bm(io);
		std::vector<std::string> damage;
		auto v = written_since(bm, read_era_superblock(io), era, live, damage);
		EXPECT_TRUE(damage.empty());
		return blocks_of(v);
	}

	std::set<uint32_t> expected(uint32_t since, bool live_has_era2_bits) {
		std::set<uint32_t> s;
		for (uint32_t b = 0; b < NR_BLOCKS; b++) {
			bool hit = b < 100 && since <= 1;
			for (uint32_t e = 1; e <= 3; e++)
				hit = hit || (e >= since && written_in(e, b));
			hit = hit || (live_has_era2_bits && since <= 3 && written_in(2, b));
			if (hit)
				s.insert(b);
		}
		return s;
	}

	pdata::memory_block_io io{256};
};

TEST_F(EraWritesets, WrittenSinceLeavesOutOlderErasAndCountsTheLiveSetAsTheCurrentEra) {
	for (uint32_t e = 1; e <= 4; e++)
		EXPECT_EQ(since(e), expected(e, false)) << "since era " << e;
	live_writeset_from(2);
	for (uint32_t e = 1; e <= 4; e++)
		EXPECT_EQ(since(e), expected(e, true)) << "since era " << e << ", live set of era 3";
	// Without the live set (a metadata snapshot's view), era 2's bits
	// count for era 2 only.
	for (uint32_t e = 1; e <= 4; e++)
		EXPECT_EQ(since(e, false), expected(e, false)) << "since era " << e << ", archived sets only";
}

TEST_F(EraWritesets, RepairMergesALiveSetIntoTheArchivedSetOfItsEra) {
	live_writeset_from(2);
	pdata::block_manager bm(io);
	recording out;
	std::vector<std::string> damage;
	dump_era(bm, read_era_superblock(io), false, true, out, damage, true);
	EXPECT_EQ(out.order, (std::vector<uint32_t>{1, 2, 3})) << "one writeset per era";
	std::vector<bool> both(NR_BLOCKS);
	for (uint32_t b = 0; b < NR_BLOCKS; b++)
		both[b] = written_in(3, b) || written_in(2, b);
	EXPECT_EQ(out.sets[3], both);
	std::vector<bool> two(NR_BLOCKS);
	for (uint32_t b = 0; b < NR_BLOCKS; b++)
		two[b] = written_in(2, b);
	EXPECT_EQ(out.sets[2], two) << "the archived set the live one shares blocks with is unchanged";
	ASSERT_EQ(damage.size(), 1u);
	EXPECT_EQ(damage[0], "writeset of era 3: the live writeset has the era of an archived one; their bits merged");

	// Folded into the era array, the merged sets name what written_since
	// names, for every threshold.
	recording logical;
	damage.clear();
	dump_era(bm, read_era_superblock(io), true, true, logical, damage, true);
	for (uint32_t e = 1; e <= 4; e++) {
		std::set<uint32_t> folded;
		for (uint32_t b = 0; b < logical.eras.size(); b++)
			if (logical.eras[b] >= e)
				folded.insert(b);
		EXPECT_EQ(folded, since(e)) << "since era " << e;
	}
}

// The kernel-written era-snap fixture in memory.
pdata::memory_block_io era_snap() {
	auto path = std::filesystem::path(__FILE__).parent_path().parent_path() /
	            "functional-tests/fixtures/kernel/era-snap/meta.img.bz2";
	std::ifstream file(path, std::ios::binary);
	if (!file)
		throw std::runtime_error("cannot open " + path.string());
	boost::iostreams::filtering_istream in;
	in.push(boost::iostreams::bzip2_decompressor());
	in.push(file);
	std::ostringstream raw;
	boost::iostreams::copy(in, raw);
	std::string s = raw.str();
	return pdata::memory_block_io(std::vector<uint8_t>(s.begin(), s.end()), "era-snap");
}

TEST(EraWritesetsOfTheKernel, TheFoldedDumpAndWrittenSinceAgreeLiveAndInTheSnapshot) {
	auto io = era_snap();
	pdata::block_manager bm(io);
	superblock live = read_era_superblock(io);
	ASSERT_EQ(live.current_era, 7u) << "the fixture's manifest ends at era 7";
	ASSERT_NE(live.metadata_snap, 0u) << "the fixture holds a metadata snapshot";
	superblock snap = read_era_superblock(io, live.metadata_snap);
	struct view {
		const char *name;
		superblock sb;
		bool live;
	} views[] = {{"live", live, true}, {"snapshot", snap, false}};
	std::map<std::string, std::map<uint32_t, std::set<uint32_t>>> got;
	for (const auto &v : views) {
		recording logical;
		std::vector<std::string> damage;
		dump_era(bm, v.sb, true, v.live, logical, damage, true);
		EXPECT_TRUE(damage.empty()) << v.name << ": " << damage.front();
		for (uint32_t e = 1; e <= live.current_era + 1; e++) {
			std::set<uint32_t> folded;
			for (uint32_t b = 0; b < logical.eras.size(); b++)
				if (logical.eras[b] >= e)
					folded.insert(b);
			auto marked = written_since(bm, v.sb, e, v.live, damage);
			EXPECT_EQ(folded, blocks_of(marked)) << v.name << ", since era " << e;
			got[v.name][e] = folded;
		}
	}
	// The kernel's writes (the fixture's manifest): 340 blocks in era 1,
	// 200 in era 2, 100 in era 3 (rewriting some of era 1's), the snapshot
	// taken at era 4, 66 blocks in era 5, 300 in era 7 (150..449).
	EXPECT_EQ(got["live"][8].size(), 0u);
	EXPECT_EQ(got["live"][6], got["live"][7]);
	EXPECT_EQ(got["live"][7].size(), 300u);
	EXPECT_EQ(*got["live"][7].begin(), 150u);
	EXPECT_EQ(got["live"][5].size(), 300u + 66u);
	EXPECT_EQ(got["live"][1].size(), 340u + 200u + (450u - 300u) + 66u);
	// The snapshot knows nothing written after it was taken.
	EXPECT_EQ(got["snapshot"][5].size(), 0u);
	EXPECT_EQ(got["snapshot"][3].size(), 100u);
	EXPECT_EQ(got["snapshot"][1].size(), 340u + 200u);
	for (uint32_t e = 1; e <= 7; e++)
		for (uint32_t b : got["snapshot"][e])
			EXPECT_TRUE(got["live"][1].count(b)) << "block " << b << " written before the snapshot, lost after";
}

} // namespace
