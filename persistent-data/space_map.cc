#include "persistent-data/space_map.h"

#include "base/endian.h"

namespace pdata {

sm_root decode_sm_root(const uint8_t *bytes) {
	sm_root r;
	r.nr_blocks = base::load_le64(bytes);
	r.nr_allocated = base::load_le64(bytes + 8);
	r.bitmap_root = base::load_le64(bytes + 16);
	r.ref_count_root = base::load_le64(bytes + 24);
	return r;
}

void encode_sm_root(const sm_root &r, uint8_t *bytes) {
	base::store_le64(bytes, r.nr_blocks);
	base::store_le64(bytes + 8, r.nr_allocated);
	base::store_le64(bytes + 16, r.bitmap_root);
	base::store_le64(bytes + 24, r.ref_count_root);
}

core_space_map::core_space_map(block_address nr_blocks)
    : counts_(nr_blocks), freed_this_transaction_(nr_blocks, false) {}

void core_space_map::check(block_address b) const {
	if (b >= counts_.size())
		throw std::out_of_range("space map: block " + std::to_string(b) +
		                        " is beyond the map's " + std::to_string(counts_.size()) +
		                        " blocks");
}

ref_count core_space_map::get_count(block_address b) {
	check(b);
	return counts_.get(b);
}

void core_space_map::set_count(block_address b, ref_count c) {
	check(b);
	if (counts_.get(b) == 0 && c > 0)
		allocated_++;
	else if (counts_.get(b) > 0 && c == 0) {
		allocated_--;
		freed_this_transaction_[b] = true;
	}
	counts_.set(b, c);
}

void core_space_map::inc(block_address b) {
	check(b);
	set_count(b, counts_.get(b) + 1);
}

void core_space_map::dec(block_address b) {
	check(b);
	if (counts_.get(b) == 0)
		throw count_underflow(b);
	set_count(b, counts_.get(b) - 1);
}

block_address core_space_map::new_block() {
	for (block_address i = 0; i < counts_.size(); i++) {
		block_address b = (cursor_ + i) % counts_.size();
		if (counts_.get(b) == 0 && !freed_this_transaction_[b]) {
			set_count(b, 1);
			cursor_ = b + 1;
			return b;
		}
	}
	throw no_free_space("core space map: no free block");
}

void core_space_map::extend(block_address extra) {
	counts_.resize(counts_.size() + extra);
	freed_this_transaction_.resize(counts_.size(), false);
}

void core_space_map::commit() {
	freed_this_transaction_.assign(counts_.size(), false);
	cursor_ = 0;
}

} // namespace pdata
