// The damage-tolerant walker: each kind of damage is reported with the
// block at fault and the key range it loses, and the walk goes on.
#include "persistent-data/btree.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/checksum.h"

#include <gtest/gtest.h>

#include <functional>

using namespace pdata;

namespace {

struct recorder : btree_visitor {
	std::vector<btree_damage> damage_seen;
	uint64_t entries = 0;
	std::vector<uint64_t> keys;
	void visit_leaf(const node_context &, node_ref n) override {
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			keys.push_back(n.key(i));
		entries += n.nr_entries();
	}
	void damage(const btree_damage &d) override { damage_seen.push_back(d); }
	std::vector<btree_damage> fatal() const {
		std::vector<btree_damage> f;
		for (auto &d : damage_seen)
			if (d.fatal)
				f.push_back(d);
		return f;
	}
};

// A two-level tree of 20 full leaves (keys 0..5039), written to memory.
struct two_level_tree {
	memory_block_io io{256};
	block_manager bm{io};
	core_space_map sm{256};
	transaction_manager tm{bm, sm};
	block_address root;
	std::vector<block_address> leaves;

	two_level_tree() {
		sm.set_count(0, 1);
		btree_builder b(tm, 8);
		for (uint64_t k = 0; k < 20 * 252; k++)
			b.push_back64(k, k);
		root = b.finish();
		bm.flush();
		read_ref r = bm.read(root, btree_node_validator());
		node_ref n(r->data);
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			leaves.push_back(n.value64(i));
		bm.drop_clean();
	}

	uint8_t *raw(block_address b) { return io.bytes().data() + b * BLOCK_SIZE; }
	void reseal(block_address b) { seal_checksum(raw(b), salt::btree_node); }

	recorder walk(bool min_fill = true) {
		block_manager fresh(io);
		recorder r;
		walk_btree(fresh, root, {8, min_fill}, r);
		return r;
	}
};

TEST(BtreeWalker, CleanTreeHasNoDamage) {
	two_level_tree t;
	auto r = t.walk();
	EXPECT_TRUE(r.damage_seen.empty());
	EXPECT_EQ(r.entries, 20u * 252);
}

TEST(BtreeWalker, BadChecksumLosesThatLeafOnly) {
	two_level_tree t;
	t.raw(t.leaves[5])[100] ^= 0x40;
	auto r = t.walk();
	auto f = r.fatal();
	ASSERT_EQ(f.size(), 1u);
	EXPECT_EQ(f[0].block, t.leaves[5]);
	EXPECT_EQ(f[0].lost_begin, 5u * 252);
	EXPECT_EQ(f[0].lost_end, 6u * 252);
	EXPECT_NE(f[0].reason.find("bad checksum"), std::string::npos);
	EXPECT_EQ(r.entries, 19u * 252);
}

TEST(BtreeWalker, LastLeafLosesToTheEnd) {
	two_level_tree t;
	std::memset(t.raw(t.leaves.back()), 0, BLOCK_SIZE);
	auto f = t.walk().fatal();
	ASSERT_EQ(f.size(), 1u);
	EXPECT_EQ(f[0].lost_begin, 19u * 252);
	EXPECT_EQ(f[0].lost_end, UINT64_MAX);
}

TEST(BtreeWalker, StructuralDamageWithAValidChecksum) {
	struct kase {
		const char *reason;
		std::function<void(two_level_tree &, uint8_t *)> damage;
	} cases[] = {
	    {"keys are out of order",
	     [](two_level_tree &, uint8_t *leaf) {
		     uint64_t a = base::load_le64(leaf + 32 + 8), b = base::load_le64(leaf + 32 + 16);
		     base::store_le64(leaf + 32 + 8, b);
		     base::store_le64(leaf + 32 + 16, a);
	     }},
	    {"value size mismatch", [](two_level_tree &, uint8_t *leaf) { base::store_le32(leaf + 24, 4); }},
	    {"parent key mismatch",
	     [](two_level_tree &, uint8_t *leaf) { base::store_le64(leaf + 32, 0); }},
	    {"bad block nr", [](two_level_tree &, uint8_t *leaf) { base::store_le64(leaf + 8, 1); }},
	    {"neither internal nor leaf", [](two_level_tree &, uint8_t *leaf) { base::store_le32(leaf + 4, 0); }},
	    {"exceeds max_entries", [](two_level_tree &, uint8_t *leaf) { base::store_le32(leaf + 16, 300); }},
	};
	for (auto &c : cases) {
		two_level_tree t;
		c.damage(t, t.raw(t.leaves[3]));
		t.reseal(t.leaves[3]);
		auto r = t.walk();
		auto f = r.fatal();
		ASSERT_EQ(f.size(), 1u) << c.reason;
		EXPECT_EQ(f[0].block, t.leaves[3]) << c.reason;
		EXPECT_NE(f[0].reason.find(c.reason), std::string::npos) << f[0].reason;
		EXPECT_EQ(f[0].lost_begin, 3u * 252) << c.reason;
		EXPECT_EQ(f[0].lost_end, 4u * 252) << c.reason;
		EXPECT_EQ(r.entries, 19u * 252) << c.reason;
	}
}

TEST(BtreeWalker, NonFatalProblemsStillVisitTheNode) {
	two_level_tree t;
	base::store_le32(t.raw(t.leaves[2]) + 16, 10); // under a third full
	t.reseal(t.leaves[2]);
	auto r = t.walk();
	EXPECT_TRUE(r.fatal().empty());
	ASSERT_EQ(r.damage_seen.size(), 1u);
	EXPECT_NE(r.damage_seen[0].reason.find("too few entries"), std::string::npos);
	EXPECT_EQ(r.entries, 19u * 252 + 10);
	EXPECT_TRUE(t.walk(false).damage_seen.empty());
}

TEST(BtreeWalker, CyclesAreCaughtAndTheWalkEnds) {
	two_level_tree t;
	// An internal node whose child is the root itself.
	base::store_le64(t.raw(t.root) + 32 + 8 * 252 + 8 * 4, t.root);
	t.reseal(t.root);
	auto f = t.walk().fatal();
	ASSERT_FALSE(f.empty());
	bool cycle = false;
	for (auto &d : f)
		cycle |= d.reason.find("cycle") != std::string::npos ||
		         d.reason.find("parent key") != std::string::npos;
	EXPECT_TRUE(cycle);
}

} // namespace
