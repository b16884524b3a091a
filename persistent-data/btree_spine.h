// The path of writable (shadowed) nodes from a btree's root down to the
// node being changed, and the node surgery insert and remove need: splits
// on the way down, and the kernel's rebalancing of two or three siblings.
#pragma once

#include "persistent-data/btree.h"

#include <vector>

namespace pdata {

class shadow_spine {
public:
	shadow_spine(transaction_manager &tm, value_ref_counter &rc) : tm_(tm), rc_(rc) {}

	// Shadows the root and makes it current.
	void step(block_address root);
	// Shadows child I of the current node, records the shadow's location in
	// the current node, and makes the child current.
	void step_child(uint32_t i);

	node_mut current() { return node_mut(path_.back()->data); }
	block_address current_location() const { return path_.back()->location; }
	block_address root() const { return path_.front()->location; }

	// The current node is the full root: its entries move to two new
	// children and it becomes an internal node above them.
	void split_beneath();
	// The current node is full and is child INDEX of its parent: its upper
	// half moves to a new right sibling; the half that should hold KEY
	// becomes current.
	void split_sibling(int index, uint64_t key);

	// Removal: before descending from the current (internal) node towards
	// KEY, merge or even out the child on the way with its siblings, or
	// collapse a node with a single child into itself.  Returns false when
	// KEY is below every key (it cannot be in the tree).
	bool rebalance_children(uint64_t key);

	// Shadows B and, when the original was shared, gives its children
	// (or, for a leaf, its values) their extra reference.
	write_ref shadow_node(block_address b);

private:
	struct child {
		uint32_t index;
		write_ref block;
		node_mut node() { return node_mut(block->data); }
	};

	child init_child(uint32_t index);
	void inc_children(node_ref n);
	void rebalance2(uint32_t left_index);
	void rebalance2(child &l, child &r);
	void rebalance3(uint32_t left_index);
	void delete_center(child &l, child &c, child &r);
	void redistribute3(child &l, child &c, child &r);

	transaction_manager &tm_;
	value_ref_counter &rc_;
	std::vector<write_ref> path_;
};

// Entry moves between nodes of one level (keys and values together).
// Moves COUNT entries from the end of LEFT to the front of RIGHT (COUNT > 0)
// or from the front of RIGHT to the end of LEFT (COUNT < 0).
void shift_entries(node_mut left, node_mut right, int count);

} // namespace pdata
