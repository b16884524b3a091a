// dm-bitset: N bits in a dm-array of ceil(N/64) le64 words; bit i is bit
// i % 64 (least significant first) of word i / 64 (doc/persistent-data-format.md#dm-bitset).
#pragma once

#include "persistent-data/array.h"

#include <functional>

namespace pdata {

class bitset {
public:
	bitset(transaction_manager &tm, block_address root, uint64_t nr_bits);

	// Writes a bitset of NR_BITS bits, all set to VALUE.
	static block_address create(transaction_manager &tm, uint64_t nr_bits, bool value);

	block_address root() const { return words_.root(); }
	uint64_t size() const { return nr_bits_; }

	bool test(uint64_t bit) const;
	void set(uint64_t bit, bool value = true);
	void clear(uint64_t bit) { set(bit, false); }
	// Grows (new bits take VALUE) or shrinks.
	void resize(uint64_t nr_bits, bool value);
	// Every bit in order.
	void for_each(const std::function<void(uint64_t bit, bool value)> &fn) const;

private:
	array words_;
	uint64_t nr_bits_;
};

constexpr uint64_t bitset_words(uint64_t nr_bits) { return (nr_bits + 63) / 64; }

} // namespace pdata
