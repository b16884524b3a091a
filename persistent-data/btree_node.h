// The on-disk btree node shared by every tree (doc/persistent-data-format.md#btree-nodes).
//
//   off  size  field
//     0     4  csum (salt 121107)
//     4     4  flags: 1 = internal, 2 = leaf
//     8     8  blocknr (own location)
//    16     4  nr_entries
//    20     4  max_entries
//    24     4  value_size (8 for internal nodes)
//    28     4  padding
//    32        max_entries le64 keys, then max_entries values of value_size
//
// Internal node values are le64 child block numbers; key[i] is the lowest
// key of child i.  Bytes past nr_entries are ignored on read (the kernel
// leaves stale bytes there) and zeroed by our writers.
#pragma once

#include "base/endian.h"
#include "persistent-data/block.h"
#include "persistent-data/checksum.h"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace pdata {

constexpr uint32_t INTERNAL_NODE = 1;
constexpr uint32_t LEAF_NODE = 2;
constexpr size_t NODE_HEADER_SIZE = 32;

// Capacity for a value size: the raw fit rounded down to a multiple of 3.
constexpr uint32_t max_entries_for(uint32_t value_size) {
	return uint32_t((BLOCK_SIZE - NODE_HEADER_SIZE) / (8 + value_size) / 3 * 3);
}

// Read-only view of a node's bytes.  Accessors trust the header; call
// header_problem() first on bytes that were not validated.
class node_ref {
public:
	explicit node_ref(const uint8_t *data) : d_(data) {}

	uint32_t flags() const { return base::load_le32(d_ + 4); }
	bool is_leaf() const { return flags() & LEAF_NODE; }
	bool is_internal() const { return flags() & INTERNAL_NODE; }
	block_address blocknr() const { return base::load_le64(d_ + 8); }
	uint32_t nr_entries() const { return base::load_le32(d_ + 16); }
	uint32_t max_entries() const { return base::load_le32(d_ + 20); }
	uint32_t value_size() const { return base::load_le32(d_ + 24); }

	uint64_t key(uint32_t i) const { return base::load_le64(d_ + NODE_HEADER_SIZE + 8 * size_t(i)); }
	const uint8_t *value(uint32_t i) const {
		return d_ + NODE_HEADER_SIZE + 8 * size_t(max_entries()) + size_t(value_size()) * i;
	}
	uint64_t value64(uint32_t i) const { return base::load_le64(value(i)); }
	const uint8_t *data() const { return d_; }

	// Index of the last key <= KEY, or -1 if every key is greater.
	int lower_bound(uint64_t key) const;

	// Strictly ascending keys, as every sound node has.
	bool keys_ascending() const {
		for (uint32_t i = 1; i < nr_entries(); i++)
			if (key(i) <= key(i - 1))
				return false;
		return true;
	}

	// Structural problems the kernel itself rejects: no/both flags, entries
	// that do not fit the block, nr_entries > max_entries.  Empty if sound.
	std::optional<std::string> header_problem() const;

private:
	const uint8_t *d_;
};

// For a repair: a copy of the leaf at DATA (its checksum and block number
// sound, its header perhaps not) read by position.  A leaf of VALUE_SIZE
// values has the kernel's max_entries for that size, its values where that
// puts them, and only the first entries whose keys ascend within [LO, HI)
// count.  A leaf whose header is sound may lose only its last entry that
// way (nr_entries one too high reads a stale or empty slot); keys out of
// order anywhere else mean its entries cannot be trusted.  Nullopt when the
// node is not plainly a leaf (its flags), no entry is left, or the entries
// cannot be trusted; WHAT says what was mended ("" when nothing needed it).
std::optional<std::vector<uint8_t>> leaf_by_position(const uint8_t *data, uint32_t value_size, uint64_t lo,
                                                     std::optional<uint64_t> hi, std::string &what);

// Mutable view for writers.
class node_mut : public node_ref {
public:
	explicit node_mut(uint8_t *data) : node_ref(data), m_(data) {}

	// Formats an empty node.
	void init(uint32_t flags, uint32_t value_size);
	void set_flags(uint32_t f) { base::store_le32(m_ + 4, f); }
	void set_nr_entries(uint32_t n) { base::store_le32(m_ + 16, n); }
	void set_key(uint32_t i, uint64_t k) { base::store_le64(m_ + NODE_HEADER_SIZE + 8 * size_t(i), k); }
	uint8_t *value_mut(uint32_t i) {
		return m_ + NODE_HEADER_SIZE + 8 * size_t(max_entries()) + size_t(value_size()) * i;
	}
	void set_value(uint32_t i, const uint8_t *v) { std::memcpy(value_mut(i), v, value_size()); }
	void set_value64(uint32_t i, uint64_t v) { base::store_le64(value_mut(i), v); }

	// Inserts KEY/VALUE at position I, shifting later entries up.
	void insert_at(uint32_t i, uint64_t key, const uint8_t *value);
	// Removes the entry at I, shifting later entries down.
	void delete_at(uint32_t i);
	// Zeroes key and value slots past nr_entries (our writers leave no stale bytes).
	void zero_unused();
	uint8_t *data_mut() { return m_; }

private:
	uint8_t *m_;
};

// Checksum, own location and header_problem().
const validator &btree_node_validator();

} // namespace pdata
