#include "era/reference_counter.h"

#include "era/superblock.h"
#include "persistent-data/btree_walker.h"

namespace era {

// Counts each node it is shown and walks on only from nodes shown for the
// first time.  Damage is named by the checker's own walks, not here.
class counting_visitor : public pdata::btree_visitor {
public:
	counting_visitor(reference_counter &c, bool writesets) : c_(c), writesets_(writesets) {}
	bool visit_internal(const pdata::node_context &ctx, pdata::node_ref) override {
		c_.inc(ctx.block);
		return !c_.seen(ctx.block);
	}
	void visit_leaf(const pdata::node_context &ctx, pdata::node_ref n) override {
		c_.inc(ctx.block);
		if (c_.seen(ctx.block))
			return;
		for (uint32_t i = 0; i < n.nr_entries(); i++) {
			if (writesets_)
				bitsets.push_back(decode_writeset(n.value(i)).root);
			else
				c_.inc(n.value64(i)); // an array block: nothing below it
		}
	}
	// A node that cannot be read is still pointed at: the pointer counts.
	void damage(const pdata::btree_damage &d) override {
		if (d.fatal)
			c_.inc(d.block);
	}
	std::vector<pdata::block_address> bitsets;

private:
	reference_counter &c_;
	bool writesets_;
};

reference_counter::reference_counter(pdata::block_manager &bm, pdata::count_array &refs)
    : bm_(bm), refs_(refs), seen_(refs.size(), false) {}

bool reference_counter::seen(pdata::block_address b) {
	if (b >= seen_.size())
		return true; // nothing to walk there
	bool was = seen_[b];
	seen_[b] = true;
	return was;
}

void reference_counter::inc(pdata::block_address b) {
	if (b < refs_.size())
		refs_.inc(b);
}

void reference_counter::writeset_tree(pdata::block_address root) {
	if (root < seen_.size() && seen_[root]) {
		inc(root);
		return;
	}
	counting_visitor v(*this, true);
	pdata::walk_btree(bm_, root, {WRITESET_SIZE, false}, v);
	for (auto b : v.bitsets)
		array(b);
}

void reference_counter::array(pdata::block_address root) {
	if (root >= seen_.size())
		return;
	if (seen_[root]) {
		inc(root);
		return;
	}
	counting_visitor v(*this, false);
	pdata::walk_btree(bm_, root, {8, false}, v);
}

} // namespace era
