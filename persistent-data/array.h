// dm-array: a resizable array of fixed-size values stored in "array blocks"
// (doc/persistent-data-format.md#dm-array) that a btree (value size 8) indexes by block number.
//
// Array block layout:
//   off size field
//     0   4  csum (salt 595846735)
//     4   4  max_entries = (4096 - 24) / value_size
//     8   4  nr_entries
//    12   4  value_size
//    16   8  blocknr
//    24      values, back to back
// Every array block but the last is full.  An empty array is an empty btree.
#pragma once

#include "persistent-data/btree.h"
#include "persistent-data/transaction_manager.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pdata {

constexpr size_t ARRAY_BLOCK_HEADER = 24;

constexpr uint32_t array_entries_per_block(uint32_t value_size) {
	return uint32_t((BLOCK_SIZE - ARRAY_BLOCK_HEADER) / value_size);
}

class array {
public:
	// Opens the array at ROOT holding NR_ENTRIES values of VALUE_SIZE bytes.
	array(transaction_manager &tm, block_address root, uint32_t value_size, uint64_t nr_entries);

	// Writes an array of NR_ENTRIES copies of DEFAULT_VALUE.
	static block_address create(transaction_manager &tm, uint32_t value_size, uint64_t nr_entries,
	                            const uint8_t *default_value);
	// Writes an array of NR_ENTRIES values, asking VALUE for each in index
	// order (bulk writing: each array block is written once, full).
	static block_address create(transaction_manager &tm, uint32_t value_size, uint64_t nr_entries,
	                            const std::function<void(uint64_t index, uint8_t *out)> &value);

	block_address root() const { return root_; }
	uint64_t size() const { return nr_entries_; }
	uint32_t value_size() const { return value_size_; }

	void get(uint64_t index, uint8_t *out) const;
	void set(uint64_t index, const uint8_t *value);
	uint64_t get64(uint64_t index) const;
	void set64(uint64_t index, uint64_t value);

	// Grows (new entries take DEFAULT_VALUE) or shrinks the array.
	void resize(uint64_t nr_entries, const uint8_t *default_value);

	// Every value in index order.
	void for_each(const std::function<void(uint64_t index, const uint8_t *value)> &fn) const;

private:
	uint32_t per_block() const { return array_entries_per_block(value_size_); }
	write_ref shadow_array_block(uint64_t block_index);

	transaction_manager &tm_;
	block_address root_;
	uint32_t value_size_;
	uint64_t nr_entries_;
};

// Checks an array block read from WHERE for an array of VALUE_SIZE values.
const validator &array_block_validator_for_reads();

// A damage-tolerant walk of an array: every readable value is passed to
// VALUE in index order; each problem (lost index range and reason) to
// DAMAGE; the walk goes on.
struct array_damage {
	uint64_t lost_begin, lost_end; // index range
	block_address block;
	std::string reason;
};

// Where each array block of the array at ROOT lives (array-block index ->
// block), as far as the index btree can be read: for naming the block that
// holds a bad value.
std::map<uint64_t, block_address> array_block_locations(block_manager &bm, block_address root);

// The number of entries the array at ROOT holds by its own blocks: the last
// array block's index and entry count (a whole block's worth when that block
// cannot be read; 0 when the index cannot).  What a repair falls back on when
// the superblock's count of them is damaged.
uint64_t array_length(block_manager &bm, block_address root, uint32_t value_size);

// How an array block whose header is wrong (value size, max_entries or
// nr_entries not what the array's size says) but whose checksum and block
// number hold is read: as damage, its values lost (strict: checkers), or by
// the position of its values, which the array's size fixes (repair), with
// the damage reported with an empty lost range.
enum class array_read { strict, by_position };

void walk_array(block_manager &bm, block_address root, uint32_t value_size, uint64_t nr_entries,
                const std::function<void(uint64_t index, const uint8_t *value)> &value,
                const std::function<void(const array_damage &)> &damage, array_read how = array_read::strict);

} // namespace pdata
