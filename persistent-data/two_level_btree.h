// A two-level btree: the first level maps K0 to the root of a second-level
// tree, which maps K1 to a value (the thin mapping tree: device -> virtual
// block -> block_time).  Second-level trees may be shared (snapshots): the
// top level holds one reference to each root, and dropping the last one
// deletes the subtree and releases its values.
#pragma once

#include "persistent-data/btree.h"

#include <optional>

namespace pdata {

class two_level_btree {
public:
	// LEAF_RC counts the references held by second-level values.
	two_level_btree(transaction_manager &tm, block_address root, uint32_t value_size,
	                value_ref_counter &leaf_rc);

	static block_address create_empty(transaction_manager &tm) {
		return btree::create_empty(tm, 8);
	}

	block_address root() const { return root_; }

	std::optional<block_address> subtree(uint64_t k0) const;
	bool lookup(uint64_t k0, uint64_t k1, uint8_t *out) const;
	// Inserts (creating K0's subtree if needed) or overwrites.
	void insert(uint64_t k0, uint64_t k1, const uint8_t *value);
	bool remove(uint64_t k0, uint64_t k1);

	// Adds K0 -> ROOT; the caller hands over one reference to ROOT.
	void insert_subtree(uint64_t k0, block_address root);
	// Drops K0's subtree (deleted when no other parent shares it).
	bool remove_subtree(uint64_t k0);
	// Drops this tree's reference to its root, deleting what no one else
	// shares.  The object must not be used afterwards.
	void destroy();

private:
	// Shadows the path to K0's entry (so a shared top-level leaf gives its
	// subtrees their extra reference first, as the kernel orders it) and
	// returns the subtree root.
	block_address touch(uint64_t k0);

	class subtree_refs : public value_ref_counter {
	public:
		subtree_refs(transaction_manager &tm, uint32_t vs, value_ref_counter &leaf_rc)
		    : tm_(tm), vs_(vs), leaf_rc_(leaf_rc) {}
		void inc(const uint8_t *v) override { tm_.inc(base::load_le64(v)); }
		void dec(const uint8_t *v) override { btree(tm_, base::load_le64(v), vs_, leaf_rc_).destroy(); }

	private:
		transaction_manager &tm_;
		uint32_t vs_;
		value_ref_counter &leaf_rc_;
	};

	transaction_manager &tm_;
	block_address root_;
	uint32_t value_size_;
	value_ref_counter &leaf_rc_;
	subtree_refs top_rc_;
};

} // namespace pdata
