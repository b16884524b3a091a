#include "base/endian.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "thin-provisioning/superblock.h"

#include <gtest/gtest.h>

#include <vector>

using namespace pdata;

namespace {

std::vector<uint8_t> sealed(const validator &v, block_address where, uint8_t fill) {
	std::vector<uint8_t> b(BLOCK_SIZE, fill);
	v.prepare(b.data(), where);
	return b;
}

std::vector<uint8_t> valid_node(block_address where) {
	std::vector<uint8_t> b(BLOCK_SIZE, 0);
	node_mut n(b.data());
	n.init(LEAF_NODE, 8);
	uint8_t v[8] = {1};
	n.insert_at(0, 5, v);
	btree_node_validator().prepare(b.data(), where);
	return b;
}

// Every validator must reject a single flipped bit anywhere past the
// checksum and a block read from another address.
void expect_rejects_damage(const validator &v, std::vector<uint8_t> good, block_address where) {
	ASSERT_FALSE(v.check(good.data(), where)) << *v.check(good.data(), where);
	for (size_t bit : {32u, 100u, 4095u * 8, 64u * 8 + 3}) {
		auto bad = good;
		bad[bit / 8] ^= uint8_t(1u << (bit % 8));
		EXPECT_TRUE(v.check(bad.data(), where)) << "bit " << bit;
	}
	EXPECT_TRUE(v.check(good.data(), where + 1));
}

TEST(Validators, RejectFlippedBitsAndWrongAddress) {
	expect_rejects_damage(bitmap_validator(), sealed(bitmap_validator(), 9, 0x11), 9);
	expect_rejects_damage(index_validator(), sealed(index_validator(), 1, 0), 1);
	expect_rejects_damage(array_block_validator(), sealed(array_block_validator(), 77, 0x5a), 77);
	expect_rejects_damage(btree_node_validator(), valid_node(10), 10);
}

TEST(Validators, SaltsTellKindsApart) {
	auto b = sealed(bitmap_validator(), 3, 0);
	EXPECT_TRUE(index_validator().check(b.data(), 3));
	EXPECT_FALSE(bitmap_validator().check(b.data(), 3));
}

TEST(Validators, NodeHeaderSanity) {
	auto b = valid_node(4);
	base::store_le32(b.data() + 4, 0); // neither leaf nor internal
	seal_checksum(b.data(), salt::btree_node);
	EXPECT_TRUE(btree_node_validator().check(b.data(), 4));
	b = valid_node(4);
	base::store_le32(b.data() + 16, 253); // nr_entries > max_entries
	seal_checksum(b.data(), salt::btree_node);
	EXPECT_TRUE(btree_node_validator().check(b.data(), 4));
	b = valid_node(4);
	base::store_le32(b.data() + 20, 1000); // does not fit the block
	seal_checksum(b.data(), salt::btree_node);
	EXPECT_TRUE(btree_node_validator().check(b.data(), 4));
}

TEST(Validators, MaxEntriesRule) {
	EXPECT_EQ(max_entries_for(4), 336u);
	EXPECT_EQ(max_entries_for(8), 252u);
	EXPECT_EQ(max_entries_for(12), 201u);
	EXPECT_EQ(max_entries_for(16), 168u);
	EXPECT_EQ(max_entries_for(24), 126u);
}

// The superblock of doc/thin-format.md#worked-example, byte for byte (written by the
// reference thin_restore): our encoder must produce the same block,
// including the checksum 0x7F999FF9.
TEST(ThinSuperblock, MatchesTheReferenceBytes) {
	thin::superblock sb;
	sb.time = 1;
	sb.trans_id = 5;
	sm_root data{1000, 8, 4, 5}, meta{1024, 12, 1, 2};
	encode_sm_root(data, sb.data_space_map_root.data());
	encode_sm_root(meta, sb.metadata_space_map_root.data());
	sb.data_mapping_root = 7;
	sb.device_details_root = 6;
	sb.data_block_size = 128;
	sb.metadata_nr_blocks = 1024;
	std::vector<uint8_t> b(BLOCK_SIZE);
	thin::encode_superblock(sb, b.data());
	EXPECT_EQ(base::load_le32(b.data()), 0x7F999FF9u);
	EXPECT_TRUE(thin::superblock_problems(b.data(), 0, 1024).empty());

	auto back = thin::decode_superblock(b.data());
	EXPECT_EQ(back.trans_id, 5u);
	EXPECT_EQ(back.data_sm().nr_blocks, 1000u);
	EXPECT_EQ(back.metadata_sm().bitmap_root, 1u);

	b[0x40] ^= 1;
	auto problems = thin::superblock_problems(b.data(), 0, 1024);
	ASSERT_EQ(problems.size(), 1u);
	EXPECT_EQ(problems[0].rfind("bad checksum in superblock, wanted ", 0), 0u);
}

} // namespace
