// Builds btrees bottom-up from sorted input, writing each distinct node
// once: a node whose contents equal a node already written (by this
// builder, for any tree) is not written again but referenced, as the kernel
// shares nodes between a snapshot and its origin.  Restoring many snapshots
// from XML then takes about the metadata the kernel had, not one copy of
// every tree.
//
// Sharing needs node boundaries that line up in trees that hold the same
// entries after a point where they differ.  Fixed-size packing never lines
// up again after one divergent entry, so a node ends where a hash of the
// entry hits a pattern (between a minimum and the maximum fill), or when it
// is full: the same entries give the same boundaries, whatever came before.
// The last two nodes of a level are evened out so no non-root node is under
// a third full (the kernel's lower bound).
#pragma once

#include "persistent-data/btree_node.h"
#include "persistent-data/transaction_manager.h"

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace pdata {

class node_dictionary;

class shared_btree_builder {
public:
	// Called for every leaf actually written (not for leaves that were
	// shared), e.g. to count the references its values hold.
	using leaf_hook = std::function<void(node_ref leaf)>;

	// DICT is shared by every builder whose trees may share nodes.
	shared_btree_builder(transaction_manager &tm, uint32_t value_size, node_dictionary &dict,
	                     leaf_hook on_new_leaf = nullptr);
	~shared_btree_builder();

	void push_back(uint64_t key, const uint8_t *value);
	void push_back64(uint64_t key, uint64_t value);
	// The root; an empty leaf when nothing was pushed.  The caller owns one
	// reference to it.
	block_address finish();

private:
	class level;
	level &level_at(size_t i);

	transaction_manager &tm_;
	uint32_t value_size_;
	node_dictionary &dict_;
	leaf_hook on_new_leaf_;
	std::vector<std::unique_ptr<level>> levels_;
};

// Remembers every node written, by content, so equal nodes are shared.
class node_dictionary {
public:
	explicit node_dictionary(transaction_manager &tm) : tm_(tm) {}

	// Returns the block of a node with exactly these entries (one more
	// reference taken), writing a new node when none exists.  NEW_NODE
	// tells which happened.
	block_address intern(uint32_t flags, uint32_t value_size, const std::vector<uint64_t> &keys,
	                     const std::vector<uint8_t> &values, bool &new_node);

	uint64_t nodes_written() const { return written_; }
	uint64_t nodes_shared() const { return shared_; }

	// Forgets nodes whose reference count has dropped to zero (a tree was
	// deleted): they must never be shared again.
	void forget_freed_nodes();

private:
	transaction_manager &tm_;
	std::unordered_multimap<uint64_t, block_address> by_hash_;
	uint64_t written_ = 0, shared_ = 0;
};

} // namespace pdata
