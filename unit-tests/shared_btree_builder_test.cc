// Node sharing on bulk build: equal trees share every node, trees that
// differ in a few entries share all but the nodes around the differences,
// and every count stays exact.
#include "persistent-data/btree.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/shared_btree_builder.h"
#include "unit-tests/metadata_fixture.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace pdata;
using testing_support::metadata_device;

namespace {

block_address build(metadata_device &m, node_dictionary &dict, const std::map<uint64_t, uint64_t> &entries,
                    uint64_t *new_leaves = nullptr) {
	shared_btree_builder b(m.tm(), 8, dict, [&](node_ref) {
		if (new_leaves)
			(*new_leaves)++;
	});
	for (auto &[k, v] : entries)
		b.push_back64(k, v);
	return b.finish();
}

struct fill_checker : btree_visitor {
	unsigned problems = 0;
	void damage(const btree_damage &d) override {
		ADD_FAILURE() << "block " << d.block << ": " << d.reason;
		problems++;
	}
};

TEST(SharedBtreeBuilder, EqualTreesShareEverythingAndDifferingOnesShareMost) {
	metadata_device m(16384);
	node_dictionary dict(m.tm());
	std::map<uint64_t, uint64_t> origin;
	std::mt19937_64 rng(1);
	for (uint64_t k = 0; k < 200000; k++)
		if (rng() % 3)
			origin[k] = k * 7;
	uint64_t leaves_a = 0, leaves_b = 0, leaves_c = 0;
	block_address a = build(m, dict, origin, &leaves_a);
	block_address b = build(m, dict, origin, &leaves_b);
	EXPECT_EQ(a, b);
	EXPECT_EQ(leaves_b, 0u);
	EXPECT_EQ(m.sm().get_count(a), 2u);

	// A snapshot with scattered writes: only the leaves around them differ.
	auto snap = origin;
	unsigned writes = 0;
	for (auto it = snap.begin(); it != snap.end(); std::advance(it, std::min<size_t>(5000, std::distance(it, snap.end()))), writes++)
		it->second = 999999;
	block_address c = build(m, dict, snap, &leaves_c);
	EXPECT_NE(c, a);
	EXPECT_LE(leaves_c, writes * 3) << "sharing lost after divergences (" << leaves_a << " leaves in all)";

	std::vector<testing_support::tree_root> roots{{a, 8}, {b, 8}, {c, 8}};
	m.commit(roots);
	m.expect_exact_counts(roots);
	for (block_address r : {a, c}) {
		fill_checker f;
		block_manager bm(m.io());
		walk_btree(bm, r, {8, true}, f);
		EXPECT_EQ(f.problems, 0u);
	}
	btree tc(m.tm(), c, 8);
	uint64_t n = 0;
	tc.for_each([&](uint64_t k, const uint8_t *v) {
		EXPECT_EQ(base::load_le64(v), snap.at(k));
		n++;
	});
	EXPECT_EQ(n, snap.size());
}

TEST(SharedBtreeBuilder, SmallAndEmptyTrees) {
	for (uint64_t n : {0ull, 1ull, 50ull, 84ull, 200ull, 252ull, 253ull, 400ull, 5000ull}) {
		metadata_device m(2048);
		node_dictionary dict(m.tm());
		std::map<uint64_t, uint64_t> e;
		for (uint64_t k = 0; k < n; k++)
			e[k * 3] = k;
		block_address r = build(m, dict, e);
		m.commit({{r, 8}});
		m.expect_exact_counts({{r, 8}});
		fill_checker f;
		block_manager bm(m.io());
		walk_btree(bm, r, {8, true}, f);
		EXPECT_EQ(btree(m.tm(), r, 8).count(), n);
	}
}

} // namespace
