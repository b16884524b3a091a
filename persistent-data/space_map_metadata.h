// The metadata device's own space map.  Its bitmaps and overflow tree live
// in the blocks it manages and change copy-on-write through the same
// transaction manager, so updating a count can shadow a bitmap or an
// overflow-tree node, which allocates a block and drops a reference:
// updates of the map by itself.
//
// Those nested updates are queued while an update is under way and applied
// afterwards, first in first out.  The order matters: rebalancing the
// overflow tree can shadow a node (increment) and free it again
// (decrement) in one operation; applied last-in first-out, the decrement
// would land first and take a count below zero - the historic kernel bug.
// A test-only switch selects that wrong order to prove the point.
#pragma once

#include "persistent-data/space_map_ll.h"

#include <deque>
#include <memory>
#include <unordered_set>

namespace pdata {

enum class recursion_policy { fifo, lifo_for_tests_only };

class metadata_space_map : public space_map {
public:
	// Creates a map of NR_BLOCKS blocks on TM's device and makes TM allocate
	// from it.  Blocks [0, SUPERBLOCK] are reserved (SUPERBLOCK gets count 1).
	static std::unique_ptr<metadata_space_map> create(transaction_manager &tm,
	                                                  block_address nr_blocks,
	                                                  block_address superblock = 0);
	// Opens the map whose root a superblock holds, and makes TM use it.
	static std::unique_ptr<metadata_space_map> open(transaction_manager &tm, const uint8_t *root);

	block_address nr_blocks() const override;
	block_address nr_free() const override;
	ref_count get_count(block_address b) override;
	void set_count(block_address b, ref_count c) override;
	void inc(block_address b) override;
	void dec(block_address b) override;
	block_address new_block() override;
	void extend(block_address extra) override;
	void commit() override;
	const sm_root_bytes &root() const override { return root_; }

	void set_recursion_policy(recursion_policy p) { policy_ = p; }

private:
	struct op {
		enum kind_t { inc, dec, set } kind;
		block_address block;
		ref_count count;
	};

	metadata_space_map() = default;
	void submit(const op &o);
	void apply(const op &o);
	void drain();

	std::unique_ptr<space_map_ll> ll_;
	block_index *index_ = nullptr; // owned by ll_
	std::deque<op> pending_;
	bool recursing_ = false;
	recursion_policy policy_ = recursion_policy::fifo;
	bool bootstrapping_ = false;
	block_address bootstrap_cursor_ = 0, bootstrap_limit_ = 0;
	std::unordered_set<block_address> freed_;
	block_address cursor_ = 0;
	sm_root_bytes root_{};
};

} // namespace pdata
