// thin::salvage_superblock on a two-device pool built in memory: a sound
// superblock is kept; a zeroed one is replaced by the trees a scan finds,
// with the fields it held recovered from the device or asked for; a sound
// superblock with a wrong mapping root gets the tree that fits its details.
#include "base/error.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/superblock.h"
#include "thin-provisioning/superblock_salvage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace thin;
using pdata::block_address;
using pdata::BLOCK_SIZE;

const std::string NEEDS_FIELD =
    "The following field needs to be provided on the command line due to corruption in the superblock: ";

class SuperblockSalvage : public ::testing::Test {
protected:
	// Device 1 (created in transaction 3) maps 1000 blocks to data 0..999;
	// device 2 (transaction 4) maps 300 to data 5000..5299, the highest.
	// The pool is at transaction 6, data block size 256, 20000 data blocks.
	void SetUp() override {
		pdata::block_manager bm(io);
		auto out = make_metadata_builder(bm, {});
		superblock_info info;
		info.transaction = 6;
		info.time = 1;
		info.data_block_size = 256;
		info.nr_data_blocks = 20000;
		out->begin_superblock(info);
		out->begin_device(1, device_details{1000, 3, 0, 0});
		for (uint64_t i = 0; i < 1000; i++)
			out->single_map(i, i, 1);
		out->end_device();
		out->begin_device(2, device_details{300, 4, 1, 0});
		for (uint64_t i = 0; i < 300; i++)
			out->single_map(i, 5000 + i, 1);
		out->end_device();
		out->end_superblock();
		original = decode_superblock(read(0).data());
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		io.read(b, 1, d.data());
		return d;
	}
	void write(block_address b, const std::vector<uint8_t> &d) { io.write(b, 1, d.data()); }
	void zero_superblock() { write(0, std::vector<uint8_t>(BLOCK_SIZE, 0)); }

	static bool has_note(const salvaged_superblock &s, const std::string &text) {
		return std::find(s.notes.begin(), s.notes.end(), text) != s.notes.end();
	}

	pdata::memory_block_io io{1024};
	superblock original;
};

TEST_F(SuperblockSalvage, SoundSuperblockIsKept) {
	auto s = salvage_superblock(io, {});
	EXPECT_FALSE(s.scanned);
	EXPECT_EQ(s.sb.device_details_root, original.device_details_root);
	EXPECT_EQ(s.sb.data_mapping_root, original.data_mapping_root);
	EXPECT_EQ(s.sb.trans_id, 6u);
	EXPECT_EQ(s.sb.data_block_size, 256u);
	EXPECT_EQ(s.nr_data_blocks, 20000u);
	EXPECT_TRUE(s.notes.empty()) << s.notes.front();
}

TEST_F(SuperblockSalvage, ZeroedSuperblockAsksForTheDataBlockSize) {
	// Nothing else on the device records it (no metadata snapshot copy).
	zero_superblock();
	try {
		salvage_superblock(io, {});
		FAIL() << "no error";
	} catch (const base::error &e) {
		EXPECT_EQ(std::string(e.what()), NEEDS_FIELD + "data block size");
	}
}

TEST_F(SuperblockSalvage, ZeroedSuperblockTreesAreFoundByScanning) {
	zero_superblock();
	superblock_overrides given;
	given.data_block_size = 128;
	auto s = salvage_superblock(io, given);
	EXPECT_TRUE(s.scanned);
	EXPECT_EQ(s.sb.device_details_root, original.device_details_root);
	EXPECT_EQ(s.sb.data_mapping_root, original.data_mapping_root);
	EXPECT_EQ(s.sb.data_block_size, 128u);
	// The newest device's transaction is the least the pool's can be.
	EXPECT_EQ(s.sb.trans_id, 4u);
	// The data device is at least as big as its highest mapped block needs.
	EXPECT_EQ(s.nr_data_blocks, 5300u);
	EXPECT_EQ(s.sb.metadata_snap, 0u);
	EXPECT_EQ(s.sb.version, 2u);
	EXPECT_TRUE(has_note(s, "using the trees found at blocks " + std::to_string(original.device_details_root) +
	                            " (device details) and " + std::to_string(original.data_mapping_root) +
	                            " (mappings), with 2 devices, transaction 4"));
}

TEST_F(SuperblockSalvage, ZeroedSuperblockTakesEveryFieldGiven) {
	zero_superblock();
	superblock_overrides given;
	given.data_block_size = 512;
	given.transaction_id = 6;
	given.nr_data_blocks = 20000;
	auto s = salvage_superblock(io, given);
	EXPECT_TRUE(s.scanned);
	EXPECT_EQ(s.sb.data_block_size, 512u);
	EXPECT_EQ(s.sb.trans_id, 6u);
	EXPECT_EQ(s.nr_data_blocks, 20000u);
}

TEST_F(SuperblockSalvage, WrongMappingRootIsReplacedByTheTreeThatFitsTheDetails) {
	// A sound checksum over a mapping root that names device 1's tree,
	// not a top level.
	auto top = read(original.data_mapping_root);
	block_address device_tree = pdata::node_ref(top.data()).value64(0);
	superblock bad = original;
	bad.data_mapping_root = device_tree;
	std::vector<uint8_t> b(BLOCK_SIZE);
	encode_superblock(bad, b.data());
	write(0, b);

	auto s = salvage_superblock(io, {});
	EXPECT_FALSE(s.scanned);
	EXPECT_EQ(s.sb.data_mapping_root, original.data_mapping_root);
	EXPECT_EQ(s.sb.device_details_root, original.device_details_root);
	EXPECT_EQ(s.sb.trans_id, 6u); // the superblock's fields are kept
	EXPECT_EQ(s.nr_data_blocks, 20000u);
	EXPECT_TRUE(has_note(s, "superblock: data_mapping_root " + std::to_string(device_tree) +
	                            " is not the top level of a mapping tree; using the one at block " +
	                            std::to_string(original.data_mapping_root) +
	                            ", whose devices are the device details'"));
}

} // namespace
