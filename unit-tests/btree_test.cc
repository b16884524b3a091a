// The btree against a std::map model, on a real metadata space map: random
// inserts, overwrites, removes and lookups across commits and reopens, with
// exact reference counts checked against a recount from scratch.
#include "persistent-data/btree.h"
#include "persistent-data/btree_walker.h"
#include "unit-tests/metadata_fixture.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace pdata;
using testing_support::metadata_device;
using testing_support::tree_root;

namespace {

std::vector<uint8_t> make_value(uint32_t size, uint64_t seed) {
	std::vector<uint8_t> v(size);
	for (uint32_t i = 0; i < size; i++)
		v[i] = uint8_t(seed >> (8 * (i % 8))) ^ uint8_t(i);
	return v;
}

// Structural check of a whole tree: no damage; optionally every non-root
// node at least a third full.
struct structure_checker : btree_visitor {
	bool check_fill;
	unsigned leaves = 0, internals = 0, max_depth = 0, fill_problems = 0;
	explicit structure_checker(bool fill) : check_fill(fill) {}
	bool visit_internal(const node_context &c, node_ref) override {
		internals++;
		max_depth = std::max(max_depth, c.depth);
		return true;
	}
	void visit_leaf(const node_context &c, node_ref) override {
		leaves++;
		max_depth = std::max(max_depth, c.depth);
	}
	void damage(const btree_damage &d) override {
		if (d.fatal)
			ADD_FAILURE() << "block " << d.block << ": " << d.reason;
		else if (check_fill)
			fill_problems++;
	}
};

// Commits first: the walker reads the device, not the cache.
structure_checker check_structure(metadata_device &m, block_address root, uint32_t vs, bool fill) {
	m.commit({{root, vs}});
	structure_checker c(fill);
	block_manager bm(m.io());
	walk_btree(bm, root, {vs, true}, c);
	EXPECT_EQ(c.fill_problems, 0u);
	return c;
}

void expect_equal(const btree &t, const std::map<uint64_t, std::vector<uint8_t>> &model) {
	auto it = model.begin();
	uint64_t n = 0;
	t.for_each([&](uint64_t k, const uint8_t *v) {
		ASSERT_NE(it, model.end());
		ASSERT_EQ(k, it->first);
		ASSERT_EQ(0, std::memcmp(v, it->second.data(), it->second.size())) << "key " << k;
		++it;
		n++;
	});
	EXPECT_EQ(n, model.size());
}

class BtreeModel : public ::testing::TestWithParam<uint32_t> {};

TEST_P(BtreeModel, RandomOperationsAgreeWithAStdMap) {
	const uint32_t vs = GetParam();
	metadata_device m(8192);
	block_address root = btree::create_empty(m.tm(), vs);
	std::map<uint64_t, std::vector<uint8_t>> model;
	std::mt19937_64 rng(vs * 1000 + 1);
	unsigned ops = 0;
	const uint64_t key_space = 1000000;

	auto phase = [&](int inserts_per_mille, unsigned count) {
		btree t(m.tm(), root, vs);
		for (unsigned i = 0; i < count; i++, ops++) {
			uint64_t k = rng() % key_space;
			int dice = int(rng() % 1000);
			if (dice < inserts_per_mille) {
				auto v = make_value(vs, rng());
				t.insert(k, v.data());
				model[k] = v;
			} else if (dice < inserts_per_mille + 150) {
				std::vector<uint8_t> out(vs);
				bool found = t.lookup(k, out.data());
				auto it = model.find(k);
				ASSERT_EQ(found, it != model.end()) << "key " << k;
				if (found) {
					ASSERT_EQ(out, it->second);
				}
			} else {
				bool removed = t.remove(k);
				ASSERT_EQ(removed, model.erase(k) == 1) << "key " << k;
			}
		}
		root = t.root();
	};

	auto commit_and_reopen = [&]() {
		m.commit({{root, vs}});
		auto roots = m.reopen();
		root = roots[0].root;
		btree t(m.tm(), root, vs);
		expect_equal(t, model);
		m.expect_exact_counts({{root, vs}});
	};

	// Grow to three levels, then churn, then empty the tree.
	for (int round = 0; round < 6; round++) {
		phase(850, 20000);
		commit_and_reopen();
	}
	EXPECT_GE(check_structure(m, root, vs, false).max_depth, 2u);
	for (int round = 0; round < 6; round++) {
		phase(450, 8000);
		commit_and_reopen();
	}
	// Remove everything, in random order: merges at every level.
	std::vector<uint64_t> keys;
	for (auto &[k, v] : model)
		keys.push_back(k);
	std::shuffle(keys.begin(), keys.end(), rng);
	{
		btree t(m.tm(), root, vs);
		for (size_t i = 0; i < keys.size(); i++, ops++) {
			ASSERT_TRUE(t.remove(keys[i]));
			model.erase(keys[i]);
			if (i % 5000 == 0)
				expect_equal(t, model);
		}
		EXPECT_FALSE(t.remove(keys.empty() ? 0 : keys[0]));
		root = t.root();
		EXPECT_EQ(t.count(), 0u);
	}
	commit_and_reopen();
	EXPECT_GE(ops, 100000u);
}

INSTANTIATE_TEST_SUITE_P(ValueSizes, BtreeModel, ::testing::Values(8u, 16u));

TEST(Btree, InsertOnlyTreesKeepEveryNodeAThirdFull) {
	metadata_device m(4096);
	block_address root = btree::create_empty(m.tm(), 8);
	btree t(m.tm(), root, 8);
	std::mt19937_64 rng(3);
	for (int i = 0; i < 60000; i++)
		t.insert64(rng() % 1000000, i);
	auto s = check_structure(m, t.root(), 8, true);
	EXPECT_GE(s.max_depth, 2u);
}

TEST(Btree, SharedTreesKeepExactCountsThroughCopyOnWrite) {
	metadata_device m(8192);
	block_address root = btree::create_empty(m.tm(), 8);
	{
		btree t(m.tm(), root, 8);
		for (uint64_t k = 0; k < 20000; k++)
			t.insert64(k * 3, k);
		root = t.root();
	}
	m.commit({{root, 8}});
	// A clone is one more reference to the root (as a snapshot is).
	m.tm().inc(root);
	block_address clone_root = root;
	{
		btree clone(m.tm(), clone_root, 8);
		for (uint64_t k = 0; k < 20000; k += 97)
			clone.insert64(k * 3, 7);
		for (uint64_t k = 5; k < 20000; k += 211)
			clone.remove(k * 3);
		clone.insert64(1, 1);
		clone_root = clone.root();
	}
	EXPECT_NE(clone_root, root);
	m.commit({{root, 8}, {clone_root, 8}});
	m.reopen();
	m.expect_exact_counts({{root, 8}, {clone_root, 8}});
	btree original(m.tm(), root, 8);
	for (uint64_t k = 0; k < 20000; k += 501)
		EXPECT_EQ(original.lookup64(k * 3), k);
	EXPECT_FALSE(original.lookup64(1));
	btree clone(m.tm(), clone_root, 8);
	EXPECT_EQ(clone.lookup64(0), 7u);
	EXPECT_EQ(clone.lookup64(1), 1u);
	EXPECT_FALSE(clone.lookup64(5 * 3));

	// Destroying both returns every block to the free pool.
	uint64_t free_before = m.sm().nr_free();
	original.destroy();
	clone.destroy();
	m.commit({});
	m.reopen();
	EXPECT_GT(m.sm().nr_free(), free_before);
	m.expect_exact_counts({});
}

TEST(Btree, SubtreeValuesAreReferenceCounted) {
	metadata_device m(2048);
	block_address sub = btree::create_empty(m.tm(), 8);
	{
		btree s(m.tm(), sub, 8);
		for (uint64_t k = 0; k < 600; k++)
			s.insert64(k, k);
		sub = s.root();
	}
	subtree_ref_counter refs(m.tm());
	block_address top = btree::create_empty(m.tm(), 8);
	btree t(m.tm(), top, 8, refs);
	t.insert64(1, sub);
	m.tm().inc(sub);
	t.insert64(2, sub);
	EXPECT_EQ(m.sm().get_count(sub), 2u);
	t.remove(1);
	EXPECT_EQ(m.sm().get_count(sub), 1u);
	// Overwriting with an equal value drops nothing.
	t.insert64(2, sub);
	EXPECT_EQ(m.sm().get_count(sub), 1u);
}

TEST(Btree, RangeIterationVisitsExactlyTheRange) {
	metadata_device m(2048);
	btree_builder b(m.tm(), 8);
	for (uint64_t k = 0; k < 50000; k++)
		b.push_back64(k * 2, k);
	btree t(m.tm(), b.finish(), 8);
	for (auto [lo, hi] : std::vector<std::pair<uint64_t, uint64_t>>{
	         {0, 1}, {1, 2}, {0, 100000}, {777, 20001}, {99998, 200000}, {5, 5}, {60000, 60003}}) {
		std::vector<uint64_t> got;
		t.for_each_in(lo, hi, [&](uint64_t k, const uint8_t *v) {
			EXPECT_EQ(base::load_le64(v), k / 2);
			got.push_back(k);
		});
		std::vector<uint64_t> want;
		for (uint64_t k = (lo + 1) / 2 * 2; k < hi && k < 100000; k += 2)
			want.push_back(k);
		EXPECT_EQ(got, want) << lo << ".." << hi;
	}
}

TEST(BtreeBuilder, BuildsValidTreesOfEverySize) {
	for (uint64_t n : {0ull, 1ull, 83ull, 251ull, 252ull, 253ull, 336ull, 10000ull, 63505ull}) {
		metadata_device m(2048);
		btree_builder b(m.tm(), 8);
		for (uint64_t k = 0; k < n; k++)
			b.push_back64(k * 2, k);
		block_address root = b.finish();
		auto s = check_structure(m, root, 8, true);
		btree t(m.tm(), root, 8);
		EXPECT_EQ(t.count(), n);
		for (uint64_t k = 0; k < n; k += 7)
			EXPECT_EQ(t.lookup64(k * 2), k) << n;
		m.commit({{root, 8}});
		m.expect_exact_counts({{root, 8}});
	}
}

TEST(BtreeBuilder, SplicedLeavesAreShared) {
	metadata_device m(2048);
	btree_builder a(m.tm(), 8);
	for (uint64_t k = 0; k < 252; k++)
		a.push_back64(k, k);
	block_address leaf = a.finish(); // a single full leaf
	btree_builder b(m.tm(), 8);
	b.push_leaf(leaf, 0, 251);
	for (uint64_t k = 1000; k < 1200; k++)
		b.push_back64(k, k);
	block_address root = b.finish();
	EXPECT_EQ(m.sm().get_count(leaf), 2u);
	btree t(m.tm(), root, 8);
	EXPECT_EQ(t.count(), 452u);
	EXPECT_EQ(t.lookup64(5), 5u);
	EXPECT_EQ(t.lookup64(1100), 1100u);
	m.commit({{root, 8}, {leaf, 8}});
	m.expect_exact_counts({{root, 8}, {leaf, 8}});
}

} // namespace
