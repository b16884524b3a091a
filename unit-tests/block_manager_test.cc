#include "persistent-data/block_manager.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/transaction_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include <cstdlib>
#include <cstring>

#include <unistd.h>

using namespace pdata;

namespace {

TEST(BlockManager, WritesReachTheDeviceOnlyOnFlush) {
	memory_block_io io(16);
	block_manager bm(io);
	{
		auto w = bm.write_zero(3, bitmap_validator());
		w->data[100] = 7;
	}
	EXPECT_EQ(io.bytes()[3 * BLOCK_SIZE + 100], 0);
	bm.flush();
	EXPECT_EQ(io.bytes()[3 * BLOCK_SIZE + 100], 7);
	// Flushing prepared the block: own location and checksum.
	EXPECT_FALSE(bitmap_validator().check(io.bytes().data() + 3 * BLOCK_SIZE, 3));
	EXPECT_GE(io.flushes(), 1u);
}

TEST(BlockManager, ValidationFailureNamesTheBlock) {
	memory_block_io io(16);
	block_manager bm(io);
	try {
		bm.read(5, bitmap_validator());
		FAIL() << "an all-zero block passed as a bitmap";
	} catch (const bad_block &e) {
		EXPECT_EQ(e.where(), 5u);
		EXPECT_NE(std::string(e.what()).find("block 5"), std::string::npos);
		EXPECT_NE(e.reason().find("bad checksum in space map bitmap"), std::string::npos);
	}
	EXPECT_THROW(bm.read(16, no_validator()), bad_block); // past the end
}

TEST(BlockManager, EvictionWritesDirtyBlocksAndKeepsBlocksInUse) {
	memory_block_io io(200);
	block_manager bm(io, 16);
	auto held = bm.write_zero(0, no_validator());
	held->data[0] = 42;
	for (block_address b = 1; b < 100; b++)
		bm.write_zero(b, no_validator())->data[1] = uint8_t(b);
	// Evicted dirty blocks were written out.
	EXPECT_EQ(io.bytes()[1 * BLOCK_SIZE + 1], 1);
	EXPECT_EQ(held->data[0], 42);
	bm.flush();
	for (block_address b = 1; b < 100; b++)
		EXPECT_EQ(io.bytes()[b * BLOCK_SIZE + 1], uint8_t(b));
}

TEST(BlockManager, CommitWritesTheSuperblockLast) {
	memory_block_io io(8);
	block_manager bm(io);
	bm.write_zero(4, no_validator())->data[0] = 1;
	std::vector<uint8_t> sb(BLOCK_SIZE, 9);
	bm.commit_superblock(sb.data());
	EXPECT_EQ(io.bytes()[4 * BLOCK_SIZE], 1);
	EXPECT_EQ(io.bytes()[0], 9);
	// A device that fails at the first write never sees the superblock.
	memory_block_io io2(8);
	faulty_block_io faulty(io2, 0, 1);
	block_manager bm2(faulty);
	bm2.write_zero(4, no_validator())->data[0] = 1;
	EXPECT_THROW(bm2.commit_superblock(sb.data()), base::io_error);
	EXPECT_EQ(io2.bytes()[0], 0);
}

TEST(BatchReader, ReadsSortedRunsOncePerBlock) {
	memory_block_io io(1000);
	for (block_address b = 0; b < 1000; b++)
		io.bytes()[b * BLOCK_SIZE] = uint8_t(b);
	std::vector<block_address> want{900, 5, 6, 7, 5, 300, 8, 1200};
	std::vector<block_address> seen;
	batch_stats stats;
	read_in_batches(
	    io, want,
	    [&](block_address b, const uint8_t *d) {
		    seen.push_back(b);
		    if (b < 1000)
			    EXPECT_EQ(d[0], uint8_t(b));
		    else
			    EXPECT_EQ(d, nullptr);
	    },
	    &stats);
	EXPECT_EQ(seen, (std::vector<block_address>{5, 6, 7, 8, 300, 900, 1200}));
	EXPECT_EQ(stats.read_calls, 3u); // 5..8, 300, 900
}

// A memory device that lets the batch reader read ahead on its thread, and
// can fail the read that covers one block.
class read_ahead_io : public memory_block_io {
public:
	using memory_block_io::memory_block_io;
	bool thread_safe_reads() const override { return true; }
	void read(block_address first, size_t count, uint8_t *buf) override {
		if (fail_at && *fail_at >= first && *fail_at < first + count)
			throw base::io_error(name(), "injected read failure", *fail_at);
		memory_block_io::read(first, count, buf);
	}
	std::optional<block_address> fail_at;
};

TEST(BatchReader, ReadAheadDeliversEveryBlockInOrderWithItsContents) {
	read_ahead_io io(20000);
	for (block_address b = 0; b < 20000; b++)
		io.bytes()[b * BLOCK_SIZE + 7] = uint8_t(b * 31);
	std::vector<block_address> want;
	for (block_address b = 0; b < 20000; b += 3 + b % 11) // many runs, gaps of all sizes
		want.push_back(b);
	want.push_back(20005); // past the end
	std::vector<block_address> seen;
	batch_stats stats;
	read_in_batches(
	    io, want,
	    [&](block_address b, const uint8_t *d) {
		    seen.push_back(b);
		    if (b < 20000) {
			    ASSERT_NE(d, nullptr);
			    EXPECT_EQ(d[7], uint8_t(b * 31)) << b;
		    } else
			    EXPECT_EQ(d, nullptr);
	    },
	    &stats);
	EXPECT_EQ(seen, want);
	EXPECT_GT(stats.read_calls, 100u);
}

// Flags blocks whose byte 9 is set, and notes which threads made checks.
class marker_validator : public validator {
public:
	std::optional<std::string> check(const uint8_t *data, block_address where) const override {
		{
			std::lock_guard<std::mutex> l(m_);
			threads_.insert(std::this_thread::get_id());
			checks_++;
		}
		if (data[9])
			return "marked block " + std::to_string(where);
		return std::nullopt;
	}
	void prepare(uint8_t *, block_address) const override {}
	std::set<std::thread::id> threads() const {
		std::lock_guard<std::mutex> l(m_);
		return threads_;
	}
	size_t checks() const {
		std::lock_guard<std::mutex> l(m_);
		return checks_;
	}

private:
	mutable std::mutex m_;
	mutable std::set<std::thread::id> threads_;
	mutable size_t checks_ = 0;
};

// A device whose reads take a while from block SLOW_FROM on, and that
// notes which threads read.
class slow_tail_io : public read_ahead_io {
public:
	using read_ahead_io::read_ahead_io;
	void read(block_address first, size_t count, uint8_t *buf) override {
		{
			std::lock_guard<std::mutex> l(m_);
			readers_.insert(std::this_thread::get_id());
		}
		if (first >= slow_from)
			std::this_thread::sleep_for(std::chrono::microseconds(300));
		read_ahead_io::read(first, count, buf);
	}
	std::set<std::thread::id> readers() const {
		std::lock_guard<std::mutex> l(m_);
		return readers_;
	}
	block_address slow_from = 0;

private:
	mutable std::mutex m_;
	std::set<std::thread::id> readers_;
};

// The checks go to whichever side has time: the read-ahead thread while the
// caller is busy, the caller while it waits for reads.  Either way every
// block is checked exactly once and the caller told what was found.
TEST(BatchReader, EveryBlockIsCheckedOnceByWhicheverThreadHasTime) {
	slow_tail_io io(40000);
	io.slow_from = 20000; // first half: a slow caller; second: slow reads
	std::vector<block_address> want;
	for (block_address b = 0; b < 40000; b += 2)
		want.push_back(b);
	for (block_address b = 0; b < 40000; b += 2 * 997)
		io.bytes()[b * BLOCK_SIZE + 9] = 1;
	marker_validator check;
	size_t delivered = 0, flagged = 0;
	read_in_batches(io, want, check, [&](block_address b, const uint8_t *d, const std::optional<std::string> &problem) {
		ASSERT_NE(d, nullptr);
		delivered++;
		if (d[9]) {
			flagged++;
			EXPECT_EQ(problem, "marked block " + std::to_string(b));
		} else
			EXPECT_EQ(problem, std::nullopt) << b;
		if (b < 20000 && b % 64 == 0)
			std::this_thread::sleep_for(std::chrono::microseconds(200));
	});
	EXPECT_EQ(delivered, want.size());
	EXPECT_EQ(flagged, (want.size() + 996) / 997);
	EXPECT_EQ(check.checks(), want.size());
	EXPECT_EQ(check.threads().size(), 2u) << "expected checks on both the caller's and the reader's thread";
	EXPECT_EQ(check.threads().count(std::this_thread::get_id()), 1u);
}

// With readers::both, a caller that would wait reads the next run itself.
// Blocks are still delivered once each, in order, with their contents, and
// each check is told the block's index in the sorted list of distinct
// blocks (given here unsorted, with a duplicate).
TEST(BatchReader, BothThreadsReadAndBlocksStillArriveInOrder) {
	slow_tail_io io(30000); // every read slow
	for (block_address b = 0; b < 30000; b++)
		io.bytes()[b * BLOCK_SIZE + 7] = uint8_t(b * 31);
	std::vector<block_address> distinct;
	for (block_address b = 0; b < 30000; b += 1 + b % 7)
		distinct.push_back(b);
	std::vector<block_address> given(distinct.rbegin(), distinct.rend());
	given.push_back(distinct[10]);
	std::mutex m;
	std::map<block_address, size_t> index_of; // as the checks were told
	size_t checks = 0;
	indexed_check check = [&](size_t index, block_address b, const uint8_t *d) -> std::optional<std::string> {
		std::lock_guard<std::mutex> l(m);
		checks++;
		index_of[b] = index;
		if (d[7] != uint8_t(b * 31))
			return "wrong contents";
		return std::nullopt;
	};
	std::vector<block_address> seen;
	read_in_batches(
	    io, given, check,
	    [&](block_address b, const uint8_t *d, const std::optional<std::string> &problem) {
		    seen.push_back(b);
		    ASSERT_NE(d, nullptr);
		    EXPECT_EQ(d[7], uint8_t(b * 31)) << b;
		    EXPECT_EQ(problem, std::nullopt) << b;
	    },
	    nullptr, readers::both);
	EXPECT_EQ(seen, distinct);
	EXPECT_EQ(checks, distinct.size());
	for (size_t k = 0; k < distinct.size(); k++)
		ASSERT_EQ(index_of[distinct[k]], k);
	EXPECT_EQ(io.readers().size(), 2u) << "expected reads on both the caller's and the reader's thread";
	EXPECT_EQ(io.readers().count(std::this_thread::get_id()), 1u);
}

// A caller that gives up part way (its callback throws) while the reader is
// asleep on full slots, or spinning for one: the reader must be stopped and
// joined, not left waiting for slots nobody will free.
TEST(BatchReader, ACallbackThatThrowsStopsTheReader) {
	read_ahead_io io(20000);
	std::vector<block_address> want;
	for (block_address b = 0; b < 20000; b++)
		want.push_back(b);
	for (block_address stop_at : {block_address(0), block_address(700), block_address(19000)}) {
		size_t seen = 0;
		EXPECT_THROW(read_in_batches(io, want,
		                             [&](block_address b, const uint8_t *) {
			                             seen++;
			                             if (b == stop_at) {
				                             // long enough for the reader to fill its slots and sleep
				                             std::this_thread::sleep_for(std::chrono::milliseconds(5));
				                             throw std::runtime_error("caller gives up");
			                             }
		                             }),
		             std::runtime_error);
		EXPECT_EQ(seen, stop_at + 1);
	}
}

// A read error, whichever thread meets it (with readers::both the caller
// may read the failed run itself): every block before the failed run is
// delivered first, and then the error.
TEST(BatchReader, ReadErrorsComeAfterTheBlocksBeforeThem) {
	for (readers who : {readers::one, readers::both})
		for (bool slow_caller : {false, true}) {
			slow_tail_io io(5000); // every read slow
			io.fail_at = 3000;
			std::vector<block_address> want;
			for (block_address b = 0; b < 5000; b += 10)
				want.push_back(b);
			block_address last = 0;
			indexed_check none = [](size_t, block_address, const uint8_t *) { return std::optional<std::string>(); };
			EXPECT_THROW(read_in_batches(
			                 io, want, none,
			                 [&](block_address b, const uint8_t *, const std::optional<std::string> &) {
				                 last = b;
				                 if (slow_caller)
					                 std::this_thread::sleep_for(std::chrono::microseconds(50));
			                 },
			                 nullptr, who),
			             base::io_error);
			EXPECT_EQ(last, 2990u) << (who == readers::both ? "both" : "one") << slow_caller; // (a run each)
		}
}

TEST(TransactionManager, ShadowCopiesSharedBlocksAndKeepsNewOnesInPlace) {
	memory_block_io io(64);
	block_manager bm(io);
	core_space_map sm(64);
	sm.set_count(0, 1);
	transaction_manager tm(bm, sm);
	block_address b;
	{
		auto w = tm.new_block(no_validator());
		b = w->location;
		w->data[10] = 5;
	}
	// Allocated in this transaction: shadowing gives the same block.
	auto s1 = tm.shadow(b, no_validator());
	EXPECT_EQ(s1.block->location, b);
	EXPECT_FALSE(s1.inc_children);
	std::vector<uint8_t> sb(BLOCK_SIZE, 0);
	sm.commit();
	tm.commit(sb.data());

	// After commit the block is copied; a shared one asks for its children.
	sm.inc(b);
	auto s2 = tm.shadow(b, no_validator());
	EXPECT_NE(s2.block->location, b);
	EXPECT_TRUE(s2.inc_children);
	EXPECT_EQ(s2.block->data[10], 5);
	EXPECT_EQ(sm.get_count(b), 1u);
	EXPECT_EQ(sm.get_count(s2.block->location), 1u);
}

TEST(CoreSpaceMap, NeverReusesABlockFreedInTheSameTransaction) {
	core_space_map sm(4);
	block_address a = sm.new_block(), b = sm.new_block();
	sm.dec(a);
	block_address c = sm.new_block();
	EXPECT_NE(c, a);
	EXPECT_NE(c, b);
	EXPECT_THROW(sm.dec(a), count_underflow);
	sm.commit();
	EXPECT_EQ(sm.nr_free(), 2u);
}

} // namespace

// A sparse file's holes are left out of its written extents (the repair
// scan skips them), its written blocks never; a file of nothing but a hole
// has none.
TEST(FileBlockIo, WrittenExtentsLeaveOutHoles) {
	char path[] = "/tmp/dmpd-extents-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	const pdata::block_address nr = 2048;
	ASSERT_EQ(ftruncate(fd, off_t(nr * pdata::BLOCK_SIZE)), 0);
	{
		pdata::file_block_io io(path, base::access_mode::read_only);
		EXPECT_TRUE(io.written_extents().empty());
	}
	std::vector<uint8_t> block(pdata::BLOCK_SIZE, 0xaa);
	for (pdata::block_address b : {pdata::block_address(0), pdata::block_address(1000), nr - 1})
		ASSERT_EQ(pwrite(fd, block.data(), block.size(), off_t(b * pdata::BLOCK_SIZE)), ssize_t(block.size()));
	close(fd);
	pdata::file_block_io io(path, base::access_mode::read_only);
	auto extents = io.written_extents();
	unlink(path);
	auto covered = [&](pdata::block_address b) {
		for (auto [begin, end] : extents)
			if (b >= begin && b < end)
				return true;
		return false;
	};
	for (pdata::block_address b : {pdata::block_address(0), pdata::block_address(1000), nr - 1})
		EXPECT_TRUE(covered(b)) << b;
	// (File systems allocate in units of a few blocks; these are megabytes
	// from any write.)
	EXPECT_FALSE(covered(500));
	EXPECT_FALSE(covered(1500));
	for (size_t i = 0; i < extents.size(); i++) {
		EXPECT_LT(extents[i].first, extents[i].second);
		if (i) {
			EXPECT_LT(extents[i - 1].second, extents[i].first);
		}
	}
}
