// Reference counts for every block of a device, held compactly in memory:
// one byte per block, with the rare counts above 254 in a side table.  Used
// by writers that build metadata from scratch (restore, repair) and by the
// checker that recounts everything.
#pragma once

#include "persistent-data/block.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace pdata {

class count_array {
public:
	explicit count_array(uint64_t nr_blocks = 0) : small_(nr_blocks, 0) {}

	uint64_t size() const { return small_.size(); }
	void resize(uint64_t nr_blocks) { small_.resize(nr_blocks, 0); }

	uint32_t get(block_address b) const {
		uint8_t s = small_.at(b);
		return s == BIG ? big_.at(b) : s;
	}

	void set(block_address b, uint32_t c) {
		uint8_t &s = small_.at(b);
		if (s == BIG && c < BIG)
			big_.erase(b);
		if (c >= BIG) {
			s = BIG;
			big_[b] = c;
		} else
			s = uint8_t(c);
	}

	void inc(block_address b, uint32_t by = 1) {
		uint8_t &s = small_.at(b);
		if (s != BIG && uint32_t(s) + by < BIG)
			s = uint8_t(s + by);
		else
			set(b, get(b) + by);
	}

	void dec(block_address b) {
		uint32_t c = get(b);
		if (!c)
			throw std::underflow_error("count of block " + std::to_string(b) + " is already 0");
		set(b, c - 1);
	}

	// Number of blocks with a non-zero count.
	uint64_t nr_allocated() const {
		uint64_t n = 0;
		for (uint8_t s : small_)
			n += s != 0;
		return n;
	}

private:
	static constexpr uint8_t BIG = 255;
	std::vector<uint8_t> small_;
	std::unordered_map<block_address, uint32_t> big_;
};

} // namespace pdata
