// The census's leaf digest: work on a leaf's bytes done by the thread that
// read it.  It must see each distinct valid leaf exactly once, never a
// damaged one, and decide which leaves the leaf handler still sees.
#include "persistent-data/btree.h"
#include "persistent-data/btree_census.h"
#include "persistent-data/checksum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace pdata;

namespace {

// Memory the batch reader may read on its own thread.
class threaded_memory_io : public memory_block_io {
public:
	using memory_block_io::memory_block_io;
	bool thread_safe_reads() const override { return true; }
};

constexpr uint64_t NR_LEAVES = 1500; // in runs of 64 blocks: enough to read ahead

// A tree of NR_LEAVES full leaves (key k holds value k), in memory.
struct big_tree {
	threaded_memory_io io{NR_LEAVES + 64};
	block_address root = 0;
	std::vector<block_address> leaves;

	big_tree() {
		block_manager bm(io);
		core_space_map sm(io.nr_blocks());
		sm.set_count(0, 1);
		transaction_manager tm(bm, sm);
		btree_builder b(tm, 8);
		for (uint64_t k = 0; k < NR_LEAVES * 252; k++)
			b.push_back64(k, k);
		root = b.finish();
		bm.flush();
		std::vector<block_address> level{root};
		while (!level.empty()) {
			std::vector<block_address> next;
			for (block_address at : level) {
				node_ref n(raw(at));
				if (n.is_leaf()) {
					leaves.push_back(at);
					continue;
				}
				for (uint32_t i = 0; i < n.nr_entries(); i++)
					next.push_back(n.value64(i));
			}
			level = next;
		}
	}
	uint8_t *raw(block_address b) { return io.bytes().data() + b * BLOCK_SIZE; }
};

TEST(BtreeCensus, TheDigestSeesEachValidLeafOnceAndChoosesWhatTheHandlerSees) {
	big_tree t;
	ASSERT_EQ(t.leaves.size(), NR_LEAVES);
	// Two kinds of damage: a bad checksum, and keys out of order under a
	// good one.
	block_address bad_sum = t.leaves[100], bad_order = t.leaves[900];
	t.raw(bad_sum)[200] ^= 1;
	uint8_t *k = t.raw(bad_order) + 32;
	uint64_t k1 = base::load_le64(k + 8), k2 = base::load_le64(k + 16);
	base::store_le64(k + 8, k2);
	base::store_le64(k + 16, k1);
	seal_checksum(t.raw(bad_order), salt::btree_node);

	count_array refs(t.io.nr_blocks());
	btree_census census(t.io, refs);
	census.set_check_min_fill(false);
	std::mutex m;
	std::map<block_address, int> digested;
	std::set<std::thread::id> digest_threads;
	// Which thread reads which run is a race; so the first leaf's digest
	// waits (a few seconds at most) for a leaf digested on another thread,
	// and a census that digests on one thread only cannot pass by luck.
	std::condition_variable second_thread;
	bool first_waited = false;
	census.set_leaf_digest([&](uint64_t tag, block_address leaf, node_ref n) {
		std::unique_lock<std::mutex> l(m);
		EXPECT_EQ(tag, 7u);
		EXPECT_EQ(n.key(0), base::load_le64(t.raw(leaf) + 32));
		digested[leaf]++;
		digest_threads.insert(std::this_thread::get_id());
		if (digest_threads.size() > 1)
			second_thread.notify_all();
		else if (!first_waited) {
			first_waited = true;
			second_thread.wait_for(l, std::chrono::seconds(5), [&] { return digest_threads.size() > 1; });
		}
		return n.key(0) / 252 % 3 == 0; // every third leaf goes on to the handler
	});
	// The same tree from two roots: it is read once; the root has two
	// references, every other node one (pointers are counted, not paths).
	census.add_root(t.root, 8, 7);
	census.add_root(t.root, 8, 8);
	std::vector<block_address> handled;
	std::map<block_address, std::string> damaged;
	census.run([&](uint64_t, block_address leaf, node_ref) { handled.push_back(leaf); },
	           [&](uint64_t, const btree_damage &d) {
		           if (d.fatal)
			           damaged[d.block] = d.reason;
	           });

	std::vector<block_address> want_handled;
	for (uint64_t i = 0; i < NR_LEAVES; i++) {
		block_address leaf = t.leaves[i];
		if (leaf == bad_sum || leaf == bad_order) {
			EXPECT_EQ(digested.count(leaf), 0u) << "a damaged leaf was digested";
			continue;
		}
		EXPECT_EQ(digested[leaf], 1) << leaf;
		if (i % 3 == 0)
			want_handled.push_back(leaf);
		EXPECT_EQ(refs.get(leaf), 1u);
	}
	EXPECT_EQ(refs.get(t.root), 2u);
	EXPECT_EQ(digested.size(), NR_LEAVES - 2);
	std::sort(handled.begin(), handled.end());
	std::sort(want_handled.begin(), want_handled.end());
	EXPECT_EQ(handled, want_handled);
	ASSERT_EQ(damaged.size(), 2u);
	EXPECT_NE(damaged[bad_sum].find("checksum"), std::string::npos) << damaged[bad_sum];
	EXPECT_EQ(damaged[bad_order], "keys are out of order");
	EXPECT_EQ(census.entries_below(t.root), (NR_LEAVES - 2) * 252);
	EXPECT_EQ(digest_threads.size(), 2u) << "both threads read, so both digest";
}

// Without a digest, the handler sees every valid leaf, as before.
TEST(BtreeCensus, WithoutADigestTheHandlerSeesEveryValidLeaf) {
	big_tree t;
	count_array refs(t.io.nr_blocks());
	btree_census census(t.io, refs);
	census.add_root(t.root, 8, 1);
	std::set<block_address> handled;
	size_t damage = 0;
	census.run([&](uint64_t, block_address leaf, node_ref) { handled.insert(leaf); },
	           [&](uint64_t, const btree_damage &) { damage++; });
	EXPECT_EQ(damage, 0u);
	EXPECT_EQ(handled, std::set<block_address>(t.leaves.begin(), t.leaves.end()));
}

// Two trees sharing subtrees (a metadata snapshot's and the live one): the
// handler sees each shared leaf once, under one tag, and leaves_below()
// still gives each tree all of its own leaves.
TEST(BtreeCensus, EachTreeFindsItsSharedLeavesBelowItsRoot) {
	big_tree t;
	node_ref root(t.raw(t.root));
	ASSERT_FALSE(root.is_leaf());
	ASSERT_GE(root.nr_entries(), 3u);
	// The second tree: a copy of the root keeping its first two subtrees,
	// in a block the first tree does not use.
	block_address copy = t.io.nr_blocks() - 1;
	std::copy(t.raw(t.root), t.raw(t.root) + BLOCK_SIZE, t.raw(copy));
	node_mut(t.raw(copy)).set_nr_entries(2);
	base::store_le64(t.raw(copy) + 8, copy); // (a node names its own block)
	seal_checksum(t.raw(copy), salt::btree_node);
	std::set<block_address> second;
	for (uint32_t i = 0; i < 2; i++) {
		node_ref sub(t.raw(root.value64(i)));
		for (uint32_t j = 0; j < sub.nr_entries(); j++)
			second.insert(sub.value64(j));
	}

	count_array refs(t.io.nr_blocks());
	btree_census census(t.io, refs);
	census.set_check_min_fill(false);
	census.add_root(t.root, 8, 1);
	census.add_root(copy, 8, 2);
	std::map<block_address, int> handled;
	census.run([&](uint64_t, block_address leaf, node_ref) { handled[leaf]++; },
	           [&](uint64_t, const btree_damage &d) { ADD_FAILURE() << d.reason; });
	EXPECT_EQ(handled.size(), NR_LEAVES);
	for (const auto &[leaf, times] : handled)
		EXPECT_EQ(times, 1) << leaf;
	auto all = census.leaves_below(t.root), part = census.leaves_below(copy);
	EXPECT_EQ(std::set<block_address>(all.begin(), all.end()), std::set<block_address>(t.leaves.begin(), t.leaves.end()));
	EXPECT_EQ(all.size(), NR_LEAVES);
	EXPECT_EQ(std::set<block_address>(part.begin(), part.end()), second);
	EXPECT_EQ(part.size(), second.size());
	EXPECT_TRUE(census.leaves_below(t.io.nr_blocks() - 2).empty()); // (never read)
}

} // namespace
