#include "persistent-data/bitset.h"

#include "base/endian.h"

#include <stdexcept>

namespace pdata {

bitset::bitset(transaction_manager &tm, block_address root, uint64_t nr_bits)
    : words_(tm, root, 8, bitset_words(nr_bits)), nr_bits_(nr_bits) {}

block_address bitset::create(transaction_manager &tm, uint64_t nr_bits, bool value) {
	uint8_t word[8];
	base::store_le64(word, value ? ~uint64_t(0) : 0);
	block_address root = array::create(tm, 8, bitset_words(nr_bits), word);
	if (value && nr_bits % 64) {
		// Bits past the end stay clear.
		bitset b(tm, root, nr_bits);
		b.words_.set64(nr_bits / 64, (uint64_t(1) << (nr_bits % 64)) - 1);
		root = b.root();
	}
	return root;
}

bool bitset::test(uint64_t bit) const {
	if (bit >= nr_bits_)
		throw std::out_of_range("bit " + std::to_string(bit) + " out of range");
	return (words_.get64(bit / 64) >> (bit % 64)) & 1;
}

void bitset::set(uint64_t bit, bool value) {
	if (bit >= nr_bits_)
		throw std::out_of_range("bit " + std::to_string(bit) + " out of range");
	uint64_t w = words_.get64(bit / 64);
	uint64_t mask = uint64_t(1) << (bit % 64);
	uint64_t nw = value ? (w | mask) : (w & ~mask);
	if (nw != w)
		words_.set64(bit / 64, nw);
}

void bitset::resize(uint64_t nr_bits, bool value) {
	uint64_t old = nr_bits_;
	if (nr_bits < old && nr_bits % 64) {
		// Clear the bits that leave, so growing again starts from zero.
		uint64_t w = words_.get64(nr_bits / 64) & ((uint64_t(1) << (nr_bits % 64)) - 1);
		words_.set64(nr_bits / 64, w);
	}
	uint8_t word[8];
	base::store_le64(word, value ? ~uint64_t(0) : 0);
	words_.resize(bitset_words(nr_bits), word);
	nr_bits_ = nr_bits;
	if (nr_bits > old) {
		if (value)
			for (uint64_t b = old; b < std::min(nr_bits, (old + 63) / 64 * 64); b++)
				set(b, true);
		if (value && nr_bits % 64)
			words_.set64(nr_bits / 64,
			             words_.get64(nr_bits / 64) & ((uint64_t(1) << (nr_bits % 64)) - 1));
	}
}

void bitset::for_each(const std::function<void(uint64_t, bool)> &fn) const {
	words_.for_each([&](uint64_t index, const uint8_t *v) {
		uint64_t w = base::load_le64(v);
		for (unsigned i = 0; i < 64; i++) {
			uint64_t bit = index * 64 + i;
			if (bit >= nr_bits_)
				return;
			fn(bit, (w >> i) & 1);
		}
	});
}

} // namespace pdata
