// A btree leaf written by our builder is byte-for-byte the leaf the
// reference thin_restore writes for the same contents (but for the two
// fields that depend on where it lives: checksum and block number).
#include "base/endian.h"
#include "functional-tests/harness.h"
#include "persistent-data/btree.h"
#include "persistent-data/space_map.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/superblock.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using namespace pdata;

std::string block_of(const std::string &image, block_address b) {
	return image.substr(b * BLOCK_SIZE, BLOCK_SIZE);
}

TEST(BtreeReferenceNode, LeafBytesMatchTheReferenceRestore) {
	ft::scratch dir;
	std::ostringstream xml;
	xml << R"(<superblock uuid="" time="3" transaction="1" data_block_size="128" nr_data_blocks="10000">)"
	    << "\n"
	    << R"(  <device dev_id="7" mapped_blocks="100" transaction="0" creation_time="0" snap_time="0">)"
	    << "\n";
	for (uint64_t i = 0; i < 100; i++)
		xml << "    <single_mapping origin_block=\"" << i * 3 << "\" data_block=\"" << 1000 + 7 * i
		    << "\" time=\"" << i % 3 << "\"/>\n";
	xml << "  </device>\n</superblock>\n";
	ft::write_file(dir.path("in.xml"), xml.str());
	ft::make_zero_file(dir.path("ref.bin"), 4 << 20);
	auto r = ft::run({ft::reference("thin_restore"), "-i", dir.path("in.xml"), "-o", dir.path("ref.bin")});
	ASSERT_EQ(r.status, 0) << r.err;

	// Find the reference's leaf: superblock -> top-level leaf -> device 7.
	std::string image = ft::read_file(dir.path("ref.bin"));
	auto sb = thin::decode_superblock(reinterpret_cast<const uint8_t *>(image.data()));
	std::string top = block_of(image, sb.data_mapping_root);
	node_ref top_node(reinterpret_cast<const uint8_t *>(top.data()));
	ASSERT_TRUE(top_node.is_leaf());
	ASSERT_EQ(top_node.nr_entries(), 1u);
	ASSERT_EQ(top_node.key(0), 7u);
	std::string theirs = block_of(image, top_node.value64(0));

	// Build ours.
	memory_block_io io(64);
	block_manager bm(io);
	core_space_map sm(64);
	sm.set_count(0, 1);
	transaction_manager tm(bm, sm);
	btree_builder b(tm, 8);
	for (uint64_t i = 0; i < 100; i++)
		b.push_back64(i * 3, thin::pack_block_time({1000 + 7 * i, uint32_t(i % 3)}));
	block_address leaf = b.finish();
	bm.flush();
	std::string ours = block_of(std::string(io.bytes().begin(), io.bytes().end()), leaf);

	EXPECT_EQ(ours.substr(4, 4), theirs.substr(4, 4)) << "flags";
	EXPECT_EQ(ours.substr(16), theirs.substr(16)) << "header, keys, values and unused slots";
	EXPECT_EQ(base::load_le64(reinterpret_cast<const uint8_t *>(ours.data()) + 8), leaf);
}

} // namespace
