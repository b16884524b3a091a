// caching::check_cache_metadata over cache metadata built in memory and
// damaged by hand: a clean pass, a metadata space-map count below and above
// its references, an array block whose checksum fails, and
// super_block_only.
#include "base/endian.h"
#include "caching/metadata_builder.h"
#include "caching/metadata_checker.h"
#include "caching/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace caching;
using pdata::block_address;
using pdata::BLOCK_SIZE;
using kind = base::check_report::kind;

const std::string BELOW_ZERO = " \u2014 a decrement would drop below zero";

class CacheChecker : public ::testing::Test {
protected:
	// 1024 cache blocks, the first 600 mapped (some dirty): the mapping
	// array spans three array blocks, two of them holding mappings.
	void SetUp() override {
		pdata::block_manager bm(io);
		auto out = make_cache_builder(bm, {});
		cache_info info;
		info.block_size = 128;
		info.nr_cache_blocks = 1024;
		info.policy = "smq";
		info.hint_width = 4;
		out->begin_superblock(info);
		out->begin_mappings();
		for (uint64_t cb = 0; cb < 600; cb++)
			out->mapping(cb, 1000 + cb, cb % 7 == 0);
		out->end_mappings();
		out->begin_hints();
		for (uint64_t cb = 0; cb < 600; cb++)
			out->hint(cb, {uint8_t(cb), 0, 0, 1});
		out->end_hints();
		out->begin_discards();
		out->discard(0, 100);
		out->end_discards();
		out->end_superblock();
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		io.read(b, 1, d.data());
		return d;
	}
	void write(block_address b, const std::vector<uint8_t> &d) { io.write(b, 1, d.data()); }
	superblock sb() { return decode_superblock(read(0).data()); }

	// The array block holding entry 0 of the mapping array: the first
	// value of the index's first leaf.
	block_address first_mapping_block() {
		block_address b = sb().mapping_root;
		for (;;) {
			auto d = read(b);
			pdata::node_ref n(d.data());
			if (n.is_leaf())
				return n.value64(0);
			b = n.value64(0);
		}
	}

	// Rewrites B's stored count in the metadata space map, resealed.
	void set_metadata_count(block_address b, uint32_t count) {
		auto index = read(sb().metadata_sm().bitmap_root);
		block_address where = pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
		                                                pdata::INDEX_ENTRY_SIZE * (b / pdata::ENTRIES_PER_BITMAP))
		                          .blocknr;
		auto bits = read(where);
		pdata::bitmap_block(bits.data()).set(uint32_t(b % pdata::ENTRIES_PER_BITMAP), count);
		pdata::seal_checksum(bits.data(), pdata::salt::bitmap);
		write(where, bits);
	}

	uint32_t stored_count(block_address b) {
		auto index = read(sb().metadata_sm().bitmap_root);
		block_address where = pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
		                                                pdata::INDEX_ENTRY_SIZE * (b / pdata::ENTRIES_PER_BITMAP))
		                          .blocknr;
		return pdata::bitmap_entry(read(where).data(), b % pdata::ENTRIES_PER_BITMAP);
	}

	check_result check(const check_options &opts = {}) { return check_cache_metadata(io, opts, report); }

	pdata::memory_block_io io{256};
	base::check_report report{nullptr};
};

TEST_F(CacheChecker, CleanMetadataPasses) {
	auto r = check();
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_TRUE(r.space_maps_checked);
	EXPECT_TRUE(r.metadata_leaks.empty());
	EXPECT_FALSE(r.needs_check);
	EXPECT_EQ(report.problems(kind::stage),
	          (std::vector<std::string>{"examining superblock", "examining mapping array", "examining hint array",
	                                    "examining discard bitset"}));
}

TEST_F(CacheChecker, MetadataCountTooLowIsFatalAndNamesTheBlock) {
	block_address victim = first_mapping_block();
	ASSERT_EQ(stored_count(victim), 1u);
	set_metadata_count(victim, 0);
	auto r = check();
	EXPECT_EQ(report.problems(kind::fatal),
	          std::vector<std::string>{"metadata block " + std::to_string(victim) +
	                                   ": stored count 0, referenced 1 times" + BELOW_ZERO});
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.metadata_leaks.empty());
	EXPECT_TRUE(r.space_maps_checked);
}

TEST_F(CacheChecker, MetadataCountTooHighIsALeak) {
	block_address victim = first_mapping_block();
	set_metadata_count(victim, 2);
	auto r = check();
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.problems(kind::non_fatal),
	          std::vector<std::string>{"metadata block " + std::to_string(victim) +
	                                   ": stored count 2, referenced 1 times (leaked)"});
	ASSERT_EQ(r.metadata_leaks.size(), 1u);
	EXPECT_EQ(r.metadata_leaks[0].block, victim);
	EXPECT_EQ(r.metadata_leaks[0].stored, 2u);
	EXPECT_EQ(r.metadata_leaks[0].expected, 1u);
	// The counts were read whole: the leak may be mended.
	EXPECT_TRUE(r.space_maps_checked);
}

TEST_F(CacheChecker, BadArrayBlockChecksumIsFatalAndNamesTheBlock) {
	block_address victim = first_mapping_block();
	auto d = read(victim);
	d[200] ^= 0x08; // a mapping's bit; the checksum is left stale
	write(victim, d);
	auto r = check();
	const uint32_t per = pdata::array_entries_per_block(8);
	EXPECT_EQ(report.problems(kind::fatal),
	          std::vector<std::string>{"missing mappings: bad checksum in array block (block " +
	                                   std::to_string(victim) + "), entries [0, " + std::to_string(per) + ") lost"});
	// (The block is still referenced by the index: the counts agree.)
	EXPECT_TRUE(r.space_maps_checked);
	EXPECT_TRUE(r.metadata_leaks.empty());
}

TEST_F(CacheChecker, SuperBlockOnlySkipsTheArraysAndTheSpaceMap) {
	block_address victim = first_mapping_block();
	auto d = read(victim);
	d[200] ^= 0x08;
	write(victim, d);
	set_metadata_count(victim, 0);
	check_options opts;
	opts.super_block_only = true;
	auto r = check(opts);
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_FALSE(r.space_maps_checked);
	EXPECT_EQ(report.problems(kind::stage), std::vector<std::string>{"examining superblock"});

	// A bad superblock still fails with it.
	auto sb_block = read(0);
	sb_block[300] ^= 1;
	write(0, sb_block);
	base::check_report again(nullptr);
	auto bad = check_cache_metadata(io, opts, again);
	EXPECT_FALSE(bad.superblock_ok);
	EXPECT_EQ(again.fatal_count(), 1u);
}

} // namespace
