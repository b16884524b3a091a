// thin::find_orphans on a two-device pool built in memory: a sound pool has
// no orphans; a zeroed top-level node loses both devices' roots, which come
// back by their mapping counts; a device root with a bad checksum cuts off
// its leaves, which come back to that device whole.
#include "base/endian.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/orphan_finder.h"
#include "thin-provisioning/superblock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace thin;
using pdata::block_address;
using pdata::BLOCK_SIZE;

using mappings = std::vector<std::pair<uint64_t, uint64_t>>; // virtual block, packed block/time

class OrphanFinder : public ::testing::Test {
protected:
	// Device 1: 1000 mappings (a root over four leaves); device 2: 300
	// (a root over two).  Different counts, different data blocks: the
	// builder shares nothing between them.
	void SetUp() override {
		for (uint64_t i = 0; i < 1000; i++)
			want[1].push_back({i, pack_block_time({i, 1})});
		for (uint64_t i = 0; i < 300; i++)
			want[2].push_back({100 + i, pack_block_time({5000 + i, 2})});
		pdata::block_manager bm(io);
		auto out = make_metadata_builder(bm, {});
		superblock_info info;
		info.transaction = 5;
		info.time = 2;
		info.data_block_size = 128;
		info.nr_data_blocks = 20000;
		out->begin_superblock(info);
		for (auto &[dev, maps] : want) {
			out->begin_device(dev, device_details{maps.size(), dev, 0, 0});
			for (auto [k, v] : maps) {
				auto bt = unpack_block_time(v);
				out->single_map(k, bt.data_block, bt.time);
			}
			out->end_device();
		}
		out->end_superblock();
		sb = decode_superblock(read(0).data());
		details = {{1, device_details{1000, 1, 0, 0}}, {2, device_details{300, 2, 0, 0}}};
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		io.read(b, 1, d.data());
		return d;
	}
	void write(block_address b, const std::vector<uint8_t> &d) { io.write(b, 1, d.data()); }

	// The top level of two devices is one leaf: device id -> root.
	std::map<uint64_t, block_address> device_roots() {
		auto d = read(sb.data_mapping_root);
		pdata::node_ref n(d.data());
		EXPECT_TRUE(n.is_leaf());
		std::map<uint64_t, block_address> out;
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			out[n.key(i)] = n.value64(i);
		return out;
	}

	orphan_mappings find() {
		pdata::block_manager bm(io);
		return find_orphans(bm, sb, details);
	}

	static bool has_note(const orphan_mappings &o, const std::string &text) {
		return std::find(o.notes.begin(), o.notes.end(), text) != o.notes.end();
	}

	pdata::memory_block_io io{1024};
	std::map<uint64_t, mappings> want;
	superblock sb;
	std::map<uint64_t, device_details> details;
};

TEST_F(OrphanFinder, SoundPoolHasNoOrphans) {
	auto o = find();
	EXPECT_TRUE(o.by_device.empty());
	EXPECT_TRUE(o.found_roots.empty());
	EXPECT_TRUE(o.dropped.empty());
	EXPECT_TRUE(o.notes.empty()) << o.notes.front();
}

TEST_F(OrphanFinder, ZeroedTopLevelNodeGivesEachDeviceItsRootBack) {
	auto roots = device_roots();
	ASSERT_EQ(roots.size(), 2u);
	write(sb.data_mapping_root, std::vector<uint8_t>(BLOCK_SIZE, 0));

	auto o = find();
	// Each device's tree is the only orphaned one with its mapped_blocks.
	EXPECT_EQ(o.found_roots, roots);
	EXPECT_TRUE(has_note(o, "thin device 1: mapping root found at block " + std::to_string(roots[1]) +
	                            " (the only orphaned tree of its 1000 mappings)"));
	EXPECT_TRUE(has_note(o, "thin device 2: mapping root found at block " + std::to_string(roots[2]) +
	                            " (the only orphaned tree of its 300 mappings)"));
	// The whole trees come back by their roots: nothing loose besides.
	EXPECT_TRUE(o.by_device.empty());
	EXPECT_TRUE(o.dropped.empty());
}

TEST_F(OrphanFinder, DamagedDeviceRootGivesItsLeavesBackToThatDevice) {
	block_address root = device_roots().at(1);
	auto d = read(root);
	pdata::node_ref n(d.data());
	ASSERT_TRUE(n.is_internal());
	std::vector<block_address> leaves;
	for (uint32_t i = 0; i < n.nr_entries(); i++)
		leaves.push_back(n.value64(i));
	ASSERT_GE(leaves.size(), 4u);
	d[300] ^= 0x10; // checksum left stale: the root is unreadable
	write(root, d);

	auto o = find();
	ASSERT_EQ(o.by_device.size(), 1u);
	ASSERT_EQ(o.by_device.count(1), 1u);
	EXPECT_EQ(o.by_device.at(1), want[1]); // every mapping, in order, with its time
	EXPECT_TRUE(o.found_roots.empty());
	// Each leaf is named as it is given back.
	auto first = read(leaves.front());
	pdata::node_ref leaf(first.data());
	EXPECT_TRUE(has_note(o, "orphaned mapping subtree at block " + std::to_string(leaves.front()) + " (keys 0.." +
	                            std::to_string(leaf.key(leaf.nr_entries() - 1)) + ", " +
	                            std::to_string(leaf.nr_entries()) + " mappings) recovered for thin device 1"));
	size_t recovered = std::count_if(o.notes.begin(), o.notes.end(), [](const std::string &s) {
		return s.find("recovered for thin device 1") != std::string::npos;
	});
	EXPECT_EQ(recovered, leaves.size());
}

TEST_F(OrphanFinder, UnreadableSpaceMapSearchesNothing) {
	// Orphans are told by their stored counts: without the map, none are
	// searched for, and the note says why.
	auto index = read(sb.metadata_sm().bitmap_root);
	index[300] ^= 1;
	write(sb.metadata_sm().bitmap_root, index);
	write(sb.data_mapping_root, std::vector<uint8_t>(BLOCK_SIZE, 0));
	auto o = find();
	EXPECT_TRUE(o.found_roots.empty());
	EXPECT_TRUE(o.by_device.empty());
	EXPECT_EQ(o.notes, std::vector<std::string>{"metadata space map unreadable: orphaned mapping subtrees not searched"});
}

} // namespace
