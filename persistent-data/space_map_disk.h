// The data device's space map, stored in the metadata device: a btree
// index of bitmaps plus the overflow tree (space_map_ll.h).  Its blocks
// are allocated from, and counted by, the metadata space map of the
// transaction manager it is given.
#pragma once

#include "persistent-data/space_map_ll.h"

#include <memory>
#include <unordered_set>

namespace pdata {

class disk_space_map : public space_map {
public:
	// A new map of NR_BLOCKS free blocks.
	static std::unique_ptr<disk_space_map> create(transaction_manager &tm, block_address nr_blocks);
	// The map whose root a superblock holds.
	static std::unique_ptr<disk_space_map> open(transaction_manager &tm, const uint8_t *root);

	block_address nr_blocks() const override { return ll_.nr_blocks(); }
	block_address nr_free() const override { return ll_.nr_blocks() - ll_.nr_allocated(); }
	ref_count get_count(block_address b) override { return ll_.get(b); }
	void set_count(block_address b, ref_count c) override;
	void inc(block_address b) override;
	void dec(block_address b) override;
	block_address new_block() override;
	void extend(block_address extra) override { ll_.extend(extra); }
	void commit() override;
	const sm_root_bytes &root() const override { return root_; }

private:
	disk_space_map(transaction_manager &tm, std::unique_ptr<index_store> index, uint64_t nr_blocks,
	               uint64_t nr_allocated, block_address ref_root);

	space_map_ll ll_;
	std::unordered_set<block_address> freed_; // since the last commit: not reusable yet
	block_address cursor_ = 0;
	sm_root_bytes root_{};
};

} // namespace pdata
