// thin::check_metadata over pools built in memory and damaged by hand: what
// a clean pool reports, how each wrong space-map count is judged (below the
// references: fatal; above: a leak, listed for --auto-repair), what a
// damaged mapping leaf loses, the per-kind line cap, and the report's two
// outputs (the stream, and the lines kept as data).
#include "base/endian.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/metadata_checker.h"
#include "thin-provisioning/superblock.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace {

using namespace thin;
using pdata::block_address;
using pdata::BLOCK_SIZE;
using pdata::ENTRIES_PER_BITMAP;
using kind = base::check_report::kind;

const std::string BELOW_ZERO = " \u2014 a decrement would drop below zero";

class ThinChecker : public ::testing::Test {
protected:
	// Device 0 maps virtual blocks 0..999 to data blocks 0..999 (a root
	// node over four leaves); device 1 maps 300 blocks to data blocks from
	// 2000.  Data blocks 5000 and up are free.
	void SetUp() override {
		pdata::block_manager bm(io);
		auto out = make_metadata_builder(bm, {});
		superblock_info sb;
		sb.transaction = 7;
		sb.data_block_size = 128;
		sb.nr_data_blocks = 20000;
		out->begin_superblock(sb);
		out->begin_device(0, device_details{1000, 1, 0, 0});
		for (uint64_t i = 0; i < 1000; i++)
			out->single_map(i, i, 0);
		out->end_device();
		out->begin_device(1, device_details{300, 2, 0, 0});
		for (uint64_t i = 0; i < 300; i++)
			out->single_map(i, 2000 + i, 0);
		out->end_device();
		out->end_superblock();
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		io.read(b, 1, d.data());
		return d;
	}
	void write(block_address b, const std::vector<uint8_t> &d) { io.write(b, 1, d.data()); }
	superblock sb() { return decode_superblock(read(0).data()); }

	// The value under KEY in the btree at ROOT (the builder's trees are
	// sound: plain descent).
	std::vector<uint8_t> lookup(block_address root, uint64_t key) {
		for (;;) {
			auto d = read(root);
			pdata::node_ref n(d.data());
			int i = n.lower_bound(key);
			EXPECT_GE(i, 0);
			if (n.is_leaf()) {
				EXPECT_EQ(n.key(uint32_t(i)), key);
				return {n.value(uint32_t(i)), n.value(uint32_t(i)) + n.value_size()};
			}
			root = n.value64(uint32_t(i));
		}
	}

	block_address device_root(uint64_t dev) {
		return base::load_le64(lookup(sb().data_mapping_root, dev).data());
	}

	// Rewrites the stored count of B in the bitmap BITMAP_AT(B / 16320)
	// finds, resealed: only the count is wrong.
	template <typename Locate>
	void set_count(block_address b, uint32_t count, Locate bitmap_at) {
		block_address where = bitmap_at(b / ENTRIES_PER_BITMAP);
		auto bits = read(where);
		pdata::bitmap_block(bits.data()).set(uint32_t(b % ENTRIES_PER_BITMAP), count);
		pdata::seal_checksum(bits.data(), pdata::salt::bitmap);
		write(where, bits);
	}
	void set_metadata_count(block_address b, uint32_t count) {
		set_count(b, count, [this](uint64_t i) {
			auto index = read(sb().metadata_sm().bitmap_root);
			return pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
			                                 pdata::INDEX_ENTRY_SIZE * i)
			    .blocknr;
		});
	}
	void set_data_count(block_address b, uint32_t count) {
		set_count(b, count, [this](uint64_t i) {
			return pdata::decode_index_entry(lookup(sb().data_sm().bitmap_root, i).data()).blocknr;
		});
	}

	// Flips a bit and leaves the checksum stale.
	void break_checksum(block_address b) {
		auto d = read(b);
		d[200] ^= 0x08;
		write(b, d);
	}

	check_result check(const check_options &opts = {}) { return check_metadata(io, opts, report); }

	pdata::memory_block_io io{1024};
	check_report report{nullptr};
};

TEST_F(ThinChecker, CleanPoolPasses) {
	auto r = check();
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_TRUE(r.space_maps_checked);
	EXPECT_TRUE(r.metadata_leaks.empty());
	EXPECT_TRUE(r.data_leaks.empty());
	EXPECT_EQ(r.transaction_id, 7u);
}

TEST_F(ThinChecker, MetadataCountTooLowIsFatalAndNamesTheBlock) {
	block_address victim = device_root(0); // referenced once, by the top level
	set_metadata_count(victim, 0);
	auto r = check();
	EXPECT_EQ(report.problems(kind::fatal),
	          std::vector<std::string>{"metadata block " + std::to_string(victim) +
	                                   ": stored count 0, referenced 1 times" + BELOW_ZERO});
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.space_maps_checked);
	EXPECT_TRUE(r.metadata_leaks.empty()); // not a leak: nothing to mend by lowering
}

TEST_F(ThinChecker, MetadataCountTooHighIsALeak) {
	block_address victim = device_root(1);
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
	EXPECT_TRUE(r.data_leaks.empty());
	EXPECT_TRUE(r.space_maps_checked);
}

TEST_F(ThinChecker, DataCountTooLowIsFatalAndNamesTheBlock) {
	set_data_count(10, 0); // mapped once, by device 0
	auto r = check();
	EXPECT_EQ(report.problems(kind::fatal),
	          std::vector<std::string>{"data block 10: stored count 0, referenced 1 times" + BELOW_ZERO});
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.data_leaks.empty());
	EXPECT_TRUE(r.space_maps_checked);
}

TEST_F(ThinChecker, DataCountTooHighIsALeak) {
	set_data_count(5000, 1); // mapped by nobody
	auto r = check();
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.problems(kind::non_fatal),
	          std::vector<std::string>{"data block 5000: stored count 1, referenced 0 times (leaked)"});
	ASSERT_EQ(r.data_leaks.size(), 1u);
	EXPECT_EQ(r.data_leaks[0].block, 5000u);
	EXPECT_EQ(r.data_leaks[0].stored, 1u);
	EXPECT_EQ(r.data_leaks[0].expected, 0u);
	EXPECT_TRUE(r.metadata_leaks.empty());
}

TEST_F(ThinChecker, BadMappingLeafChecksumNamesTheDeviceAndTheLostKeys) {
	// The second of device 0's leaves: the keys it loses are those its
	// parent gives it, up to the next leaf's first key.
	auto root = read(device_root(0));
	pdata::node_ref parent(root.data());
	ASSERT_TRUE(parent.is_internal());
	ASSERT_GE(parent.nr_entries(), 3u);
	block_address leaf = parent.value64(1);
	uint64_t begin = parent.key(1), end = parent.key(2);
	ASSERT_GT(begin, 0u);
	ASSERT_GT(end, begin);
	break_checksum(leaf);

	auto r = check();
	std::string want = "thin device 0 is missing mappings [" + std::to_string(begin) + ", " + std::to_string(end) + ")";
	const base::check_report::line *found = nullptr;
	for (const auto &l : report.lines())
		if (l.what == kind::fatal && l.text == want)
			found = &l;
	ASSERT_NE(found, nullptr) << "no line '" << want << "'";
	EXPECT_EQ(found->detail, "bad checksum in btree node (block " + std::to_string(leaf) + ")");
	// The leaf's mappings are gone from the count the details promise.
	EXPECT_EQ(report.problems(kind::fatal)[1],
	          "thin device 0 has unexpected number of mappings, expected 1000, actual " +
	              std::to_string(1000 - (end - begin)) + " (details in block " +
	              std::to_string(sb().device_details_root) + ")");
	EXPECT_TRUE(r.superblock_ok);
}

TEST_F(ThinChecker, SuperBlockOnlySkipsEverythingAfterTheSuperblock) {
	break_checksum(device_root(0));
	set_data_count(10, 0);
	check_options opts;
	opts.super_block_only = true;
	auto r = check(opts);
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), 0u);
	EXPECT_TRUE(r.superblock_ok);
	EXPECT_FALSE(r.space_maps_checked);
	ASSERT_EQ(report.lines().size(), 1u);
	EXPECT_EQ(report.lines()[0].text, "examining superblock");

	// (The same pool without the option fails: the option is what passed it.)
	base::check_report full(nullptr);
	check_metadata(io, {}, full);
	EXPECT_GT(full.fatal_count(), 0u);
}

TEST_F(ThinChecker, LeaksPastTheLineCapAreCountedButNotPrinted) {
	const size_t cap = base::check_report::MAX_LINES, leaks = cap + 50;
	for (block_address b = 5000; b < 5000 + leaks; b++)
		set_data_count(b, 1);
	auto r = check();
	EXPECT_EQ(report.fatal_count(), 0u);
	EXPECT_EQ(report.non_fatal_count(), leaks);
	EXPECT_EQ(r.data_leaks.size(), leaks); // all mendable, printed or not
	auto printed = report.problems(kind::non_fatal);
	ASSERT_EQ(printed.size(), cap);
	EXPECT_EQ(printed.front(), "data block 5000: stored count 1, referenced 0 times (leaked)");
	EXPECT_EQ(printed.back(), "data block " + std::to_string(5000 + cap - 1) +
	                              ": stored count 1, referenced 0 times (leaked)");
	EXPECT_EQ(report.problems(kind::info), std::vector<std::string>{"... 50 more leaked data blocks"});
}

TEST_F(ThinChecker, ReportToAStreamHasTheStagesAndIndentedProblems) {
	std::ostringstream clean_text;
	base::check_report clean(&clean_text);
	check_metadata(io, {}, clean);
	EXPECT_EQ(clean_text.str(), "examining superblock\n"
	                            "examining devices tree\n"
	                            "examining mapping tree\n"
	                            "checking space map counts\n");

	set_data_count(5000, 1);
	std::ostringstream text;
	base::check_report damaged(&text);
	check_metadata(io, {}, damaged);
	EXPECT_EQ(text.str(), "examining superblock\n"
	                      "examining devices tree\n"
	                      "examining mapping tree\n"
	                      "checking space map counts\n"
	                      "  data block 5000: stored count 1, referenced 0 times (leaked)\n");
	EXPECT_FALSE(damaged.quiet());
}

TEST_F(ThinChecker, QuietReportWritesNothingButKeepsTheSameLines) {
	// Damage of several kinds, so that lines of each kind (and a detail)
	// are compared.
	auto root = read(device_root(0));
	break_checksum(pdata::node_ref(root.data()).value64(0)); // fatal, with a detail
	set_data_count(5000, 1);                                  // non-fatal

	std::ostringstream text;
	base::check_report loud(&text);
	check_metadata(io, {}, loud);

	::testing::internal::CaptureStdout();
	::testing::internal::CaptureStderr();
	check_metadata(io, {}, report);
	std::string out = ::testing::internal::GetCapturedStdout(), err = ::testing::internal::GetCapturedStderr();
	EXPECT_EQ(out, "");
	EXPECT_EQ(err, "");
	EXPECT_TRUE(report.quiet());

	ASSERT_EQ(report.lines().size(), loud.lines().size());
	bool detail_seen = false;
	for (size_t i = 0; i < loud.lines().size(); i++) {
		EXPECT_EQ(report.lines()[i].what, loud.lines()[i].what) << i;
		EXPECT_EQ(report.lines()[i].text, loud.lines()[i].text) << i;
		EXPECT_EQ(report.lines()[i].detail, loud.lines()[i].detail) << i;
		detail_seen = detail_seen || !loud.lines()[i].detail.empty();
	}
	EXPECT_TRUE(detail_seen);
	EXPECT_EQ(report.fatal_count(), loud.fatal_count());
	EXPECT_EQ(report.non_fatal_count(), loud.non_fatal_count());
	EXPECT_GT(report.fatal_count(), 0u);
	EXPECT_GT(report.non_fatal_count(), 0u);
	EXPECT_FALSE(text.str().empty());
}

} // namespace
