// Copy-on-write B+trees with 64-bit keys and fixed-size values, as the kernel
// lays them out (btree_node.h).  Values are raw bytes of the tree's value
// size; a value_ref_counter says how to add or drop a reference to whatever a
// value points at (a subtree root, a data block), so sharing between trees
// (snapshots) keeps exact reference counts.
//
// Updates follow the kernel's algorithm: the path from the root is shadowed
// top-down; a full node splits (the root beneath itself, any other node into
// a new right sibling); removal rebalances the child it descends into with
// one or two siblings, merging when they are under-full.
#pragma once

#include "persistent-data/btree_node.h"
#include "persistent-data/transaction_manager.h"

#include <functional>
#include <unordered_set>
#include <optional>
#include <vector>

namespace pdata {

class value_ref_counter {
public:
	virtual ~value_ref_counter() = default;
	virtual void inc(const uint8_t *value) = 0;
	virtual void dec(const uint8_t *value) = 0;
	// Overwriting a value with an equal one drops no reference.
	virtual bool equal(const uint8_t *a, const uint8_t *b, uint32_t size) const {
		return std::memcmp(a, b, size) == 0;
	}
};

// Values that refer to nothing.
value_ref_counter &no_ref_counting();

// Values that are le64 block numbers in the same transaction manager's space
// map (the roots of subtrees in a multi-level tree).
class subtree_ref_counter : public value_ref_counter {
public:
	explicit subtree_ref_counter(transaction_manager &tm) : tm_(tm) {}
	void inc(const uint8_t *value) override;
	void dec(const uint8_t *value) override;

private:
	transaction_manager &tm_;
};

enum class on_overwrite {
	drop_old_reference, // the usual case: the old value is gone
	keep_old_reference, // the caller already accounted for the old value
};

// Deeper than any tree a 4 KiB node size allows (a cycle, if reached).
constexpr unsigned MAX_BTREE_DEPTH = 64;

class btree {
public:
	btree(transaction_manager &tm, block_address root, uint32_t value_size,
	      value_ref_counter &rc = no_ref_counting());

	// Writes an empty tree (one empty leaf) and returns its root.
	static block_address create_empty(transaction_manager &tm, uint32_t value_size);

	block_address root() const { return root_; }
	uint32_t value_size() const { return value_size_; }

	// Copies the value for KEY into OUT (value_size bytes).  Throws bad_block
	// on a damaged node.
	bool lookup(uint64_t key, uint8_t *out) const;
	std::optional<uint64_t> lookup64(uint64_t key) const;

	// Inserts or overwrites.  The root may move (read root() afterwards).
	void insert(uint64_t key, const uint8_t *value,
	            on_overwrite policy = on_overwrite::drop_old_reference);
	void insert64(uint64_t key, uint64_t value,
	              on_overwrite policy = on_overwrite::drop_old_reference);

	// Removes KEY and drops its value's reference.  False if absent.
	bool remove(uint64_t key);

	// Every entry in ascending key order.
	void for_each(const std::function<void(uint64_t key, const uint8_t *value)> &fn) const;
	// The entries with BEGIN <= key < END, in order; subtrees outside the
	// range are not read.
	void for_each_in(uint64_t begin, uint64_t end,
	                 const std::function<void(uint64_t key, const uint8_t *value)> &fn) const;
	std::optional<uint64_t> lowest_key() const;
	std::optional<uint64_t> highest_key() const;
	uint64_t count() const;

	// Drops the tree's reference to its root; nodes (and values) whose count
	// reaches zero release their children in turn.  The object must not be
	// used afterwards (root() is 0).
	void destroy();

private:
	transaction_manager &tm_;
	block_address root_;
	uint32_t value_size_;
	value_ref_counter &rc_;
};

// Builds a tree bottom-up from entries in strictly ascending key order:
// leaves are filled completely (the last two rebalanced so no node is under
// a third full), then each internal level the same way.  Existing nodes can
// be spliced in whole with push_node(), which adds a reference to them: that
// is how identical leaves are shared between snapshots on restore.
class btree_builder {
public:
	// Values pushed are stored as they are: the caller owns whatever
	// references they hold (new blocks already count one).
	btree_builder(transaction_manager &tm, uint32_t value_size);

	void push_back(uint64_t key, const uint8_t *value);
	void push_back64(uint64_t key, uint64_t value);
	// Splices in an existing node (any level 0 leaf) whose keys are all above
	// every key pushed so far; FIRST_KEY and LAST_KEY are its key range.
	void push_leaf(block_address leaf, uint64_t first_key, uint64_t last_key);

	// Writes the remaining nodes and returns the root (an empty leaf when
	// nothing was pushed).
	block_address finish();

private:
	struct pending_node {
		block_address block;
		uint64_t first_key;
	};

	void flush_leaf();
	void even_out_tail(std::vector<pending_node> &level);
	block_address build_level(std::vector<pending_node> level);

	transaction_manager &tm_;
	uint32_t value_size_;
	std::vector<uint64_t> keys_;
	std::vector<uint8_t> values_;
	std::vector<pending_node> leaves_;
	std::optional<uint64_t> last_key_;
	std::unordered_set<block_address> spliced_;
};

} // namespace pdata
