// The "low level" shared by both on-disk space maps: bitmaps of 2-bit
// counts, an index of those bitmaps, and an overflow btree of le32 counts
// for blocks counted 3 or more.  Every change is copy-on-write through the
// transaction manager.  Where the index lives is the one difference between
// the data map (a btree) and the metadata map (one index block): see
// index_store.
#pragma once

#include "persistent-data/btree.h"
#include "persistent-data/space_map.h"
#include "persistent-data/space_map_bitmap.h"

#include <memory>
#include <optional>

namespace pdata {

class index_store {
public:
	virtual ~index_store() = default;
	virtual index_entry load(uint64_t bitmap) = 0;
	virtual void save(uint64_t bitmap, const index_entry &e) = 0;
	// Persists the index; returns its root (btree root or index block).
	virtual block_address commit() = 0;
	virtual uint64_t capacity() const = 0; // most bitmaps it can hold
};

class space_map_ll {
public:
	space_map_ll(transaction_manager &tm, std::unique_ptr<index_store> index, uint64_t nr_blocks,
	             uint64_t nr_allocated, block_address ref_count_root);

	uint64_t nr_blocks() const { return nr_blocks_; }
	uint64_t nr_allocated() const { return nr_allocated_; }
	block_address ref_count_root() const { return ref_count_root_; }
	index_store &index() { return *index_; }

	ref_count get(block_address b);
	void set(block_address b, ref_count c);
	// The first block in [begin, end) whose count is 0 and for which SKIP
	// says nothing; empty if none.
	std::optional<block_address> find_free(block_address begin, block_address end,
	                                       const std::function<bool(block_address)> &skip);
	// Adds bitmaps (freshly allocated through the tm) for EXTRA more blocks.
	void extend(uint64_t extra);

	// Writes a new, zeroed bitmap and returns its index entry.
	static index_entry new_bitmap(transaction_manager &tm);

private:
	void check(block_address b) const;

	transaction_manager &tm_;
	std::unique_ptr<index_store> index_;
	uint64_t nr_blocks_, nr_allocated_;
	block_address ref_count_root_;
};

// The data map's index: a btree of index entries keyed by bitmap number,
// cached in memory and written back at commit.
std::unique_ptr<index_store> open_btree_index(transaction_manager &tm, block_address root);

// The metadata map's index: one block of up to 255 entries, held in memory.
// Committing is two steps for the metadata map, whose own updates must land
// between shadowing the block and writing the entries into it.
class block_index : public index_store {
public:
	// LOCATION 0: a new index (its block is allocated at the first commit).
	block_index(transaction_manager &tm, block_address location);
	index_entry load(uint64_t bitmap) override;
	void save(uint64_t bitmap, const index_entry &e) override;
	block_address commit() override;
	uint64_t capacity() const override { return MAX_METADATA_BITMAPS; }

	block_address shadow_block();     // step 1: a writable index block
	void write_entries(block_address); // step 2: the entries into it

private:
	transaction_manager &tm_;
	block_address location_;
	std::vector<index_entry> entries_;
};

} // namespace pdata
