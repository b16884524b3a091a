// Both on-disk space maps against a model, the recursion-order regression
// from the kernel's history, and crash safety under injected I/O failures.
#include "persistent-data/btree.h"
#include "persistent-data/space_map_disk.h"
#include "unit-tests/metadata_fixture.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace pdata;
using testing_support::metadata_device;
using testing_support::tree_root;

namespace {

TEST(SpaceMapBitmap, MatchesTheReferenceLayout) {
	// doc/thin-format.md#worked-example: data blocks 10..14 with count 2, 20, 21 and 30 with
	// count 1 give the bytes 00 00 50 15 00 0a 00 20.
	std::vector<uint8_t> b(BLOCK_SIZE, 0);
	bitmap_block bm(b.data());
	for (uint32_t i = 10; i <= 14; i++)
		bm.set(i, 2);
	for (uint32_t i : {20u, 21u, 30u})
		bm.set(i, 1);
	const uint8_t expected[] = {0x00, 0x00, 0x50, 0x15, 0x00, 0x0a, 0x00, 0x20};
	EXPECT_EQ(0, std::memcmp(b.data() + 16, expected, 8));
	for (uint32_t i = 0; i < 40; i++) {
		uint32_t want = (i >= 10 && i <= 14) ? 2 : (i == 20 || i == 21 || i == 30) ? 1 : 0;
		EXPECT_EQ(bm.get(i), want) << i;
	}
	bm.set(12, 3);
	EXPECT_EQ(bm.get(12), 3u);
	bm.set(12, 0);
	EXPECT_EQ(bm.get(12), 0u);
	EXPECT_EQ(bm.get(13), 2u);
}

// Random inc/dec/set over several bitmaps, moving counts through 0..4+.
template <typename Map>
void churn(Map &sm, std::map<block_address, ref_count> &model, std::mt19937_64 &rng,
           block_address nr_blocks, unsigned ops) {
	for (unsigned i = 0; i < ops; i++) {
		block_address b = rng() % nr_blocks;
		ref_count &c = model[b];
		switch (rng() % 4) {
		case 0:
		case 1:
			sm.inc(b);
			c++;
			break;
		case 2:
			if (c) {
				sm.dec(b);
				c--;
			} else
				EXPECT_THROW(sm.dec(b), count_underflow);
			break;
		default: {
			ref_count v = ref_count(rng() % 6);
			sm.set_count(b, v);
			c = v;
		}
		}
		if (!c)
			model.erase(b);
	}
}

std::vector<block_address> data_bitmaps(transaction_manager &tm, const sm_root_bytes &root) {
	std::vector<block_address> out;
	btree(tm, decode_sm_root(root.data()).bitmap_root, INDEX_ENTRY_SIZE)
	    .for_each([&](uint64_t, const uint8_t *v) { out.push_back(decode_index_entry(v).blocknr); });
	return out;
}

TEST(SpaceMapDisk, AgreesWithAModelAcrossCommitsReopensAndGrowth) {
	metadata_device m(4096);
	block_address nr = 2 * ENTRIES_PER_BITMAP + 500;
	auto dsm = disk_space_map::create(m.tm(), nr);
	std::map<block_address, ref_count> model;
	std::mt19937_64 rng(42);
	for (int round = 0; round < 8; round++) {
		churn(*dsm, model, rng, nr, 6000);
		// Allocation never hands out a block in use.
		for (int i = 0; i < 50; i++) {
			block_address b = dsm->new_block();
			ASSERT_EQ(model.count(b), 0u) << "allocated a block in use";
			model[b] = 1;
		}
		if (round == 4) {
			dsm->extend(ENTRIES_PER_BITMAP);
			nr += ENTRIES_PER_BITMAP;
		}
		dsm->commit();
		sm_root_bytes root = dsm->root();
		sm_root r = decode_sm_root(root.data());
		EXPECT_EQ(r.nr_blocks, nr);
		EXPECT_EQ(r.nr_allocated, model.size());
		m.commit({{r.bitmap_root, INDEX_ENTRY_SIZE}, {r.ref_count_root, 4}});
		m.reopen();
		dsm = disk_space_map::open(m.tm(), root.data());
		for (block_address b = 0; b < nr; b++) {
			auto it = model.find(b);
			ASSERT_EQ(dsm->get_count(b), it == model.end() ? 0u : it->second) << "block " << b;
		}
		EXPECT_EQ(dsm->nr_free(), nr - model.size());
		// The metadata blocks it uses are counted exactly.
		count_array refs = m.recount({{r.bitmap_root, INDEX_ENTRY_SIZE}, {r.ref_count_root, 4}});
		for (block_address b : data_bitmaps(m.tm(), root))
			refs.inc(b);
		for (block_address b = 0; b < m.io().nr_blocks(); b++)
			ASSERT_EQ(m.sm().get_count(b), refs.get(b)) << "metadata block " << b;
	}
}

TEST(SpaceMapDisk, NeverReusesABlockFreedInTheSameTransaction) {
	metadata_device m(1024);
	auto dsm = disk_space_map::create(m.tm(), 10);
	std::vector<block_address> got;
	for (int i = 0; i < 10; i++)
		got.push_back(dsm->new_block());
	dsm->dec(got[3]);
	EXPECT_THROW(dsm->new_block(), no_free_space);
	dsm->commit();
	EXPECT_EQ(dsm->new_block(), got[3]);
}

TEST(SpaceMapMetadata, AgreesWithAModelAndCountsItself) {
	metadata_device m(3 * ENTRIES_PER_BITMAP);
	std::mt19937_64 rng(9);
	// Counts of blocks the test owns, on top of the map's own blocks: the
	// test takes its blocks from the allocator so they never collide.
	std::vector<block_address> mine;
	std::map<block_address, ref_count> model;
	for (int i = 0; i < 3000; i++) {
		block_address b = m.sm().new_block();
		mine.push_back(b);
		model[b] = 1;
	}
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 5000; i++) {
			block_address b = mine[rng() % mine.size()];
			ref_count &c = model[b];
			if (rng() % 3 && c < 8) {
				m.sm().inc(b);
				c++;
			} else if (c > 1) {
				m.sm().dec(b);
				c--;
			}
		}
		m.commit({});
		m.reopen();
		count_array refs = m.recount({});
		for (auto &[b, c] : model)
			refs.inc(b, c);
		for (block_address b = 0; b < m.io().nr_blocks(); b++)
			ASSERT_EQ(m.sm().get_count(b), refs.get(b)) << "block " << b << " round " << round;
		EXPECT_EQ(m.sm().nr_free(), m.io().nr_blocks() - refs.nr_allocated());
	}
}

// The historic corruption.  Decrementing a block whose count is 3 removes it
// from the overflow tree; that removal rebalances the tree, which shadows a
// child (an increment of the new block) and may free it again at once (a
// decrement) - all while the map is already updating itself, so both are
// queued.  Applied first-in first-out the increment lands first; applied
// last-in first-out the decrement would take a count below zero.
void overflow_tree_workload(metadata_device &m, std::vector<block_address> &mine) {
	for (int i = 0; i < 3000; i++) {
		block_address b = m.sm().new_block();
		m.sm().inc(b);
		m.sm().inc(b); // count 3: into the overflow tree
		mine.push_back(b);
	}
	// 3 -> 2: out of the overflow tree, merging leaves.  A commit after each
	// decrement makes every tree node it touches a fresh shadow, so a merge
	// frees a block whose allocation is still queued.
	for (block_address b : mine) {
		m.commit({});
		m.sm().dec(b);
	}
}

TEST(SpaceMapMetadata, RecursiveUpdatesApplyFirstInFirstOut) {
	metadata_device m(2 * ENTRIES_PER_BITMAP);
	std::vector<block_address> mine;
	ASSERT_NO_THROW(overflow_tree_workload(m, mine));
	m.commit({});
	m.reopen();
	count_array refs = m.recount({});
	for (block_address b : mine)
		refs.inc(b, 2);
	for (block_address b = 0; b < m.io().nr_blocks(); b++)
		ASSERT_EQ(m.sm().get_count(b), refs.get(b)) << "block " << b;
}

TEST(SpaceMapMetadata, LastInFirstOutBreaksTheCounts) {
	metadata_device m(2 * ENTRIES_PER_BITMAP);
	m.sm().set_recursion_policy(recursion_policy::lifo_for_tests_only);
	std::vector<block_address> mine;
	EXPECT_THROW(overflow_tree_workload(m, mine), count_underflow);
}

// Crash safety: a write or read that fails part-way through a transaction
// leaves the last committed state, intact, for the next open.
TEST(SpaceMapMetadata, AFailureAtAnyIoLeavesTheLastCommittedState) {
	memory_block_io base_io(1024);
	std::map<uint64_t, uint64_t> state_a, state_b;
	block_address root_a;
	{
		metadata_device fresh(1024);
		btree t(fresh.tm(), btree::create_empty(fresh.tm(), 8), 8);
		for (uint64_t k = 0; k < 3000; k++) {
			t.insert64(k * 5, k);
			state_a[k * 5] = k;
		}
		root_a = t.root();
		fresh.commit({{root_a, 8}});
		base_io.bytes() = fresh.memory().bytes();
	}
	state_b = state_a;
	for (uint64_t k = 0; k < 3000; k += 3)
		state_b.erase(k * 5);
	for (uint64_t k = 0; k < 2000; k++)
		state_b[k * 7 + 1] = k;

	auto run_b = [&](block_io &io) {
		metadata_device m(io);
		auto roots = m.reopen();
		btree t(m.tm(), roots[0].root, 8);
		for (uint64_t k = 0; k < 3000; k += 3)
			t.remove(k * 5);
		for (uint64_t k = 0; k < 2000; k++)
			t.insert64(k * 7 + 1, k);
		m.commit({{t.root(), 8}});
	};
	auto read_state = [&](block_io &io) {
		metadata_device m(io);
		auto roots = m.reopen();
		std::map<uint64_t, uint64_t> s;
		btree(m.tm(), roots[0].root, 8).for_each([&](uint64_t k, const uint8_t *v) {
			s[k] = base::load_le64(v);
		});
		m.expect_exact_counts(roots);
		return s;
	};

	unsigned failures = 0, completed = 0;
	for (unsigned n = 1; n < 200; n += 2) {
		for (bool fail_write : {true, false}) {
			memory_block_io copy(base_io.bytes());
			faulty_block_io faulty(copy, fail_write ? 0 : n, fail_write ? n : 0);
			try {
				run_b(faulty);
				completed++;
			} catch (const base::io_error &) {
				failures++;
			}
			auto s = read_state(copy);
			EXPECT_TRUE(s == state_a || s == state_b) << "n=" << n << " write=" << fail_write;
			if (faulty.failed() && !fail_write) {
				EXPECT_TRUE(s == state_a) << "a failed read cannot have committed";
			}
		}
	}
	EXPECT_GT(failures, 20u);
	EXPECT_GT(completed, 0u);
}

} // namespace
