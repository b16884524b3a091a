// era::check_era_metadata over era metadata built in memory and damaged by
// hand: a clean pass, a metadata space-map count below and above its
// references, an era array block whose checksum fails, and
// super_block_only.
#include "base/endian.h"
#include "era/metadata_builder.h"
#include "era/metadata_checker.h"
#include "era/superblock.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace era;
using pdata::block_address;
using pdata::BLOCK_SIZE;
using kind = base::check_report::kind;

const std::string BELOW_ZERO = " \u2014 a decrement would drop below zero";

class EraChecker : public ::testing::Test {
protected:
	// 2000 blocks (an era array of two array blocks), current era 5, three
	// archived writesets.
	void SetUp() override {
		pdata::block_manager bm(io);
		auto out = make_era_builder(bm);
		era_info info;
		info.block_size = 128;
		info.nr_blocks = 2000;
		info.current_era = 5;
		out->begin_superblock(info);
		for (uint32_t e = 1; e <= 3; e++) {
			out->begin_writeset(e, 2000);
			for (uint32_t b = e; b < 2000; b += 10)
				out->writeset_bit(b, true);
			out->end_writeset();
		}
		out->begin_era_array();
		for (uint32_t b = 0; b < 2000; b++)
			out->era(b, b % 6); // 0..5: none above the current era
		out->end_era_array();
		out->end_superblock();
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		io.read(b, 1, d.data());
		return d;
	}
	void write(block_address b, const std::vector<uint8_t> &d) { io.write(b, 1, d.data()); }
	superblock sb() { return decode_superblock(read(0).data()); }

	block_address first_era_array_block() {
		block_address b = sb().era_array_root;
		for (;;) {
			auto d = read(b);
			pdata::node_ref n(d.data());
			if (n.is_leaf())
				return n.value64(0);
			b = n.value64(0);
		}
	}

	block_address bitmap_of(block_address b) {
		auto index = read(sb().metadata_sm().bitmap_root);
		return pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
		                                 pdata::INDEX_ENTRY_SIZE * (b / pdata::ENTRIES_PER_BITMAP))
		    .blocknr;
	}
	uint32_t stored_count(block_address b) {
		return pdata::bitmap_entry(read(bitmap_of(b)).data(), b % pdata::ENTRIES_PER_BITMAP);
	}
	// Rewrites B's stored count, resealed: only the count is wrong.
	void set_metadata_count(block_address b, uint32_t count) {
		block_address where = bitmap_of(b);
		auto bits = read(where);
		pdata::bitmap_block(bits.data()).set(uint32_t(b % pdata::ENTRIES_PER_BITMAP), count);
		pdata::seal_checksum(bits.data(), pdata::salt::bitmap);
		write(where, bits);
	}
	void break_checksum(block_address b) {
		auto d = read(b);
		d[200] ^= 0x08;
		write(b, d);
	}

	check_result check(const check_options &opts = {}) { return check_era_metadata(io, opts, report); }

	pdata::memory_block_io io{128};
	base::check_report report{nullptr};
};

TEST_F(EraChecker, CleanMetadataPasses) {
	auto r = check();
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_TRUE(r.space_maps_checked);
	EXPECT_TRUE(r.metadata_leaks.empty());
}

TEST_F(EraChecker, MetadataCountTooLowIsFatalAndNamesTheBlock) {
	block_address victim = first_era_array_block();
	ASSERT_EQ(stored_count(victim), 1u);
	set_metadata_count(victim, 0);
	auto r = check();
	EXPECT_EQ(report.problems(kind::fatal),
	          std::vector<std::string>{"metadata block " + std::to_string(victim) +
	                                   ": stored count 0, referenced 1 times" + BELOW_ZERO});
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.metadata_leaks.empty());
}

TEST_F(EraChecker, MetadataCountTooHighIsALeak) {
	block_address victim = sb().writeset_tree_root;
	ASSERT_EQ(stored_count(victim), 1u);
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
	EXPECT_TRUE(r.space_maps_checked);
}

TEST_F(EraChecker, BadEraArrayBlockChecksumIsFatalAndNamesTheBlock) {
	block_address victim = first_era_array_block();
	break_checksum(victim);
	auto r = check();
	EXPECT_EQ(report.problems(kind::fatal),
	          std::vector<std::string>{"era array: bad checksum in array block (block " + std::to_string(victim) +
	                                   ")"});
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_TRUE(r.space_maps_checked); // (the block is still referenced: counts agree)
}

TEST_F(EraChecker, SuperBlockOnlySkipsTheTreesAndTheSpaceMap) {
	break_checksum(first_era_array_block());
	set_metadata_count(sb().writeset_tree_root, 0);
	check_options opts;
	opts.super_block_only = true;
	auto r = check(opts);
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_FALSE(r.space_maps_checked);
	EXPECT_EQ(report.problems(kind::stage), std::vector<std::string>{"examining superblock"});

	// Without the option the same metadata fails.
	base::check_report full(nullptr);
	check_era_metadata(io, {}, full);
	EXPECT_EQ(full.fatal_count(), 2u);
}

} // namespace
