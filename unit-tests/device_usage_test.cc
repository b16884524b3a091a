// thin_ls's counts (device_usages) on a small pool whose devices share leaves
// and data blocks: the same answer whether the stored data space map is
// trusted (each leaf read once) or found wrong and the leaves read again.
#include "base/endian.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "thin-provisioning/device_usage.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/metadata_input.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace {

using namespace thin;

struct mapping {
	uint64_t origin, data;
};

class DeviceUsage : public ::testing::Test {
protected:
	void SetUp() override {
		// Device 1 is device 0 plus one block (the builder shares their
		// identical leaves); device 2 shares data blocks with neither;
		// device 3 maps one of device 2's blocks again, from its own leaf.
		for (uint64_t i = 0; i < 1000; i++) {
			devices[0].push_back({i, i});
			devices[1].push_back({i, i});
		}
		devices[1].push_back({5000, 5000});
		for (uint64_t i = 0; i < 300; i++)
			devices[2].push_back({i, 10000 + i});
		devices[3].push_back({7, 10007});

		pdata::block_manager bm(io);
		auto out = make_metadata_builder(bm, {});
		superblock_info sb;
		sb.data_block_size = 128;
		sb.nr_data_blocks = 20000;
		out->begin_superblock(sb);
		for (auto &[dev, maps] : devices) {
			out->begin_device(dev, device_details{maps.size(), 0, 0, 0});
			for (auto m : maps)
				out->single_map(m.origin, m.data, 0);
			out->end_device();
		}
		out->end_superblock();
	}

	// The reference's meaning: a device's mapping is exclusive when its
	// data block appears once among the mappings of all devices.
	std::map<uint64_t, uint64_t> expected_exclusive() {
		std::map<uint64_t, int> uses;
		for (auto &[dev, maps] : devices)
			for (auto m : maps)
				uses[m.data]++;
		std::map<uint64_t, uint64_t> out;
		for (auto &[dev, maps] : devices)
			for (auto m : maps)
				out[dev] += uses[m.data] == 1;
		return out;
	}

	std::vector<device_usage> usages(usage_method &how) {
		superblock sb = read_superblock(io);
		return device_usages(io, sb, sb.data_sm(), &how);
	}

	void expect_right_answer(const std::vector<device_usage> &got) {
		auto excl = expected_exclusive();
		ASSERT_EQ(got.size(), devices.size());
		for (const auto &u : got) {
			const auto &maps = devices.at(u.dev);
			EXPECT_EQ(u.mapped, maps.size()) << "device " << u.dev;
			EXPECT_EQ(u.exclusive, excl[u.dev]) << "device " << u.dev;
			ASSERT_TRUE(u.highest_mapped);
			EXPECT_EQ(*u.highest_mapped, maps.back().origin) << "device " << u.dev;
		}
	}

	// Rewrites the stored count of data block B in the data space map's
	// first bitmap (with a wrong checksum if BREAK_CHECKSUM).
	void set_stored_count(uint64_t b, uint32_t count, bool break_checksum = false) {
		superblock sb = read_superblock(io);
		std::vector<uint8_t> index(pdata::BLOCK_SIZE), bitmap(pdata::BLOCK_SIZE);
		io.read(sb.data_sm().bitmap_root, 1, index.data());
		pdata::node_ref n(index.data());
		ASSERT_TRUE(n.is_leaf());
		pdata::block_address where = pdata::decode_index_entry(n.value(0)).blocknr;
		io.read(where, 1, bitmap.data());
		pdata::bitmap_block(bitmap.data()).set(uint32_t(b), count);
		pdata::seal_checksum(bitmap.data(), pdata::bitmap_validator().salt());
		if (break_checksum)
			bitmap[0] ^= 1;
		io.write(where, 1, bitmap.data());
	}

	pdata::memory_block_io io{1024};
	std::map<uint64_t, std::vector<mapping>> devices;
};

TEST_F(DeviceUsage, SoundSpaceMapReadsEachLeafOnce) {
	usage_method how;
	auto got = usages(how);
	expect_right_answer(got);
	EXPECT_TRUE(how.used_stored_counts);
	EXPECT_EQ(how.leaves_read_again, 0u);
	// The answer is not trivial: some devices hold blocks alone, some not.
	auto excl = expected_exclusive();
	EXPECT_EQ(excl[0], 0u);
	EXPECT_EQ(excl[1], 1u);
	EXPECT_EQ(excl[2], 299u);
	EXPECT_EQ(excl[3], 0u);
}

TEST_F(DeviceUsage, WrongStoredCountIsNotBelieved) {
	set_stored_count(10050, 2); // really held once, by device 2
	set_stored_count(10007, 1); // really held twice
	usage_method how;
	expect_right_answer(usages(how));
	EXPECT_FALSE(how.used_stored_counts);
	EXPECT_GT(how.leaves_read_again, 0u);
}

TEST_F(DeviceUsage, UnreadableSpaceMapIsNotBelieved) {
	set_stored_count(10050, 1, true);
	usage_method how;
	expect_right_answer(usages(how));
	EXPECT_FALSE(how.used_stored_counts);
}

} // namespace
