// Space maps: a reference count for every block of a device.
//
// Three implementations share this interface:
//   core_space_map      - counts in memory (tests, restore's bookkeeping);
//   disk space map      - the data device's map, stored in metadata
//                         (space_map_disk.h);
//   metadata space map  - the metadata device's own map, stored inside the
//                         blocks it manages (space_map_metadata.h).
#pragma once

#include "persistent-data/block.h"
#include "persistent-data/count_array.h"

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pdata {

using ref_count = uint32_t;

// A decrement of a count that is already zero: always a bug or corrupt
// metadata, never silently absorbed.
class count_underflow : public std::runtime_error {
public:
	explicit count_underflow(block_address b)
	    : std::runtime_error("space map: decrement of block " + std::to_string(b) +
	                         " whose reference count is already 0"),
	      block_(b) {}
	block_address block() const { return block_; }

private:
	block_address block_;
};

class no_free_space : public std::runtime_error {
public:
	explicit no_free_space(const std::string &what) : std::runtime_error(what) {}
};

// The 32-byte root a space map stores in its superblock
// (doc/persistent-data-format.md#space-map-root).
constexpr size_t SM_ROOT_SIZE = 32;
using sm_root_bytes = std::array<uint8_t, SM_ROOT_SIZE>;

struct sm_root {
	uint64_t nr_blocks = 0;
	uint64_t nr_allocated = 0;
	block_address bitmap_root = 0;    // data: index btree root; metadata: index block
	block_address ref_count_root = 0; // u32 overflow btree
};

sm_root decode_sm_root(const uint8_t *bytes);
void encode_sm_root(const sm_root &r, uint8_t *bytes);

class space_map {
public:
	virtual ~space_map() = default;

	virtual block_address nr_blocks() const = 0;
	virtual block_address nr_free() const = 0;
	virtual ref_count get_count(block_address b) = 0;
	virtual void set_count(block_address b, ref_count c) = 0;
	virtual void inc(block_address b) = 0;
	// Throws count_underflow when the count is already 0.
	virtual void dec(block_address b) = 0;
	// Allocates a free block (never one freed earlier in this transaction)
	// and gives it count 1.  Throws no_free_space.
	virtual block_address new_block() = 0;
	// Grows the map by EXTRA blocks (data device resize).
	virtual void extend(block_address extra) = 0;
	// Persists the map (no-op for the core map).
	virtual void commit() = 0;
	// The root to store in a superblock; valid after commit().
	virtual const sm_root_bytes &root() const = 0;

	bool count_is_more_than_one(block_address b) { return get_count(b) > 1; }
};

// Counts held in memory.  Allocation skips blocks freed since the last
// commit(), as on-disk maps must.
class core_space_map : public space_map {
public:
	explicit core_space_map(block_address nr_blocks);

	block_address nr_blocks() const override { return counts_.size(); }
	block_address nr_free() const override { return counts_.size() - allocated_; }
	ref_count get_count(block_address b) override;
	void set_count(block_address b, ref_count c) override;
	void inc(block_address b) override;
	void dec(block_address b) override;
	block_address new_block() override;
	void extend(block_address extra) override;
	void commit() override;
	const sm_root_bytes &root() const override { return no_root_; }

private:
	void check(block_address b) const;

	count_array counts_; // 4 bits a block: a writer's map of a 16 GiB device is 2 MiB
	std::vector<bool> freed_this_transaction_;
	block_address allocated_ = 0;
	block_address cursor_ = 0;
	sm_root_bytes no_root_{};
};

} // namespace pdata
