#include "persistent-data/space_map_ll.h"

#include "persistent-data/checksum.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace pdata {

namespace {

class btree_index : public index_store {
public:
	btree_index(transaction_manager &tm, block_address root) : tm_(tm), root_(root) {}

	index_entry load(uint64_t bitmap) override {
		if (auto it = cache_.find(bitmap); it != cache_.end())
			return it->second;
		uint8_t v[INDEX_ENTRY_SIZE];
		if (!btree(tm_, root_, INDEX_ENTRY_SIZE).lookup(bitmap, v))
			throw std::runtime_error("space map index has no entry for bitmap " +
			                         std::to_string(bitmap));
		index_entry e = decode_index_entry(v);
		cache_[bitmap] = e;
		return e;
	}

	void save(uint64_t bitmap, const index_entry &e) override {
		cache_[bitmap] = e;
		dirty_.insert(bitmap);
	}

	block_address commit() override {
		btree t(tm_, root_, INDEX_ENTRY_SIZE);
		for (uint64_t bitmap : dirty_) {
			uint8_t v[INDEX_ENTRY_SIZE];
			encode_index_entry(cache_.at(bitmap), v);
			t.insert(bitmap, v);
		}
		dirty_.clear();
		root_ = t.root();
		return root_;
	}

	uint64_t capacity() const override { return UINT64_MAX; }

private:
	transaction_manager &tm_;
	block_address root_;
	std::map<uint64_t, index_entry> cache_;
	std::set<uint64_t> dirty_;
};

} // namespace

std::unique_ptr<index_store> open_btree_index(transaction_manager &tm, block_address root) {
	return std::make_unique<btree_index>(tm, root);
}

block_index::block_index(transaction_manager &tm, block_address location)
    : tm_(tm), location_(location) {
	if (!location)
		return;
	read_ref r = tm.read(location, index_validator());
	for (uint32_t i = 0; i < MAX_METADATA_BITMAPS; i++) {
		index_entry e = decode_index_entry(r->data + METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * i);
		entries_.push_back(e);
	}
}

index_entry block_index::load(uint64_t bitmap) {
	if (bitmap >= entries_.size())
		throw std::runtime_error("metadata space map index has no entry for bitmap " +
		                         std::to_string(bitmap));
	return entries_[bitmap];
}

void block_index::save(uint64_t bitmap, const index_entry &e) {
	if (bitmap >= MAX_METADATA_BITMAPS)
		throw std::runtime_error("metadata space map index is full");
	if (bitmap >= entries_.size())
		entries_.resize(bitmap + 1);
	entries_[bitmap] = e;
}

block_address block_index::shadow_block() {
	if (!location_)
		location_ = tm_.new_block(index_validator())->location;
	else
		location_ = tm_.shadow(location_, index_validator()).block->location;
	return location_;
}

void block_index::write_entries(block_address where) {
	write_ref w = tm_.bm().write(where, index_validator());
	std::fill(w->data + METADATA_INDEX_OFFSET, w->data + BLOCK_SIZE, 0);
	for (size_t i = 0; i < entries_.size(); i++)
		encode_index_entry(entries_[i], w->data + METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * i);
}

block_address block_index::commit() {
	write_entries(shadow_block());
	return location_;
}

space_map_ll::space_map_ll(transaction_manager &tm, std::unique_ptr<index_store> index,
                           uint64_t nr_blocks, uint64_t nr_allocated, block_address ref_count_root)
    : tm_(tm), index_(std::move(index)), nr_blocks_(nr_blocks), nr_allocated_(nr_allocated),
      ref_count_root_(ref_count_root) {}

void space_map_ll::check(block_address b) const {
	if (b >= nr_blocks_)
		throw std::out_of_range("space map: block " + std::to_string(b) +
		                        " is beyond the map's " + std::to_string(nr_blocks_) + " blocks");
}

ref_count space_map_ll::get(block_address b) {
	check(b);
	index_entry e = index_->load(b / ENTRIES_PER_BITMAP);
	read_ref r = tm_.read(e.blocknr, bitmap_validator());
	uint32_t v = bitmap_block::get(r->data, uint32_t(b % ENTRIES_PER_BITMAP));
	if (v < 3)
		return v;
	uint8_t c[4];
	if (!btree(tm_, ref_count_root_, 4).lookup(b, c))
		throw std::runtime_error("space map: block " + std::to_string(b) +
		                         " is marked 3 but missing from the reference count tree");
	return base::load_le32(c);
}

void space_map_ll::set(block_address b, ref_count c) {
	check(b);
	uint64_t i = b / ENTRIES_PER_BITMAP;
	uint32_t bit = uint32_t(b % ENTRIES_PER_BITMAP);
	index_entry e = index_->load(i);
	ref_count old = get(b);
	write_ref w = tm_.shadow(e.blocknr, bitmap_validator()).block;
	e.blocknr = w->location;
	bitmap_block bm(w->data);
	uint32_t old_bits = bm.get(bit);
	bm.set(bit, c > 2 ? 3 : c);
	w.reset();
	if (c > 2) {
		uint8_t v[4];
		base::store_le32(v, c);
		btree t(tm_, ref_count_root_, 4);
		t.insert(b, v);
		ref_count_root_ = t.root();
	} else if (old_bits == 3) {
		btree t(tm_, ref_count_root_, 4);
		t.remove(b);
		ref_count_root_ = t.root();
	}
	if (c && !old) {
		nr_allocated_++;
		e.nr_free -= e.nr_free ? 1 : 0;
		if (e.none_free_before == bit)
			e.none_free_before = bit + 1;
	} else if (old && !c) {
		nr_allocated_--;
		e.nr_free++;
		e.none_free_before = std::min(e.none_free_before, bit);
	}
	index_->save(i, e);
}

std::optional<block_address>
space_map_ll::find_free(block_address begin, block_address end,
                        const std::function<bool(block_address)> &skip) {
	end = std::min(end, nr_blocks_);
	if (begin >= end)
		return std::nullopt;
	for (uint64_t i = begin / ENTRIES_PER_BITMAP; i * ENTRIES_PER_BITMAP < end; i++) {
		index_entry e = index_->load(i);
		if (e.nr_free == 0)
			continue;
		uint64_t first = i * ENTRIES_PER_BITMAP;
		uint32_t from = begin > first ? uint32_t(begin - first) : 0;
		from = std::max(from, std::min(e.none_free_before, ENTRIES_PER_BITMAP));
		uint32_t to = uint32_t(std::min<uint64_t>(ENTRIES_PER_BITMAP, end - first));
		read_ref r = tm_.read(e.blocknr, bitmap_validator());
		for (uint32_t k = from; k < to; k++)
			if (!bitmap_block::get(r->data, k) && !skip(first + k))
				return first + k;
	}
	return std::nullopt;
}

index_entry space_map_ll::new_bitmap(transaction_manager &tm) {
	write_ref w = tm.new_block(bitmap_validator());
	return {w->location, ENTRIES_PER_BITMAP, 0};
}

void space_map_ll::extend(uint64_t extra) {
	uint64_t old_bitmaps = (nr_blocks_ + ENTRIES_PER_BITMAP - 1) / ENTRIES_PER_BITMAP;
	uint64_t new_bitmaps = (nr_blocks_ + extra + ENTRIES_PER_BITMAP - 1) / ENTRIES_PER_BITMAP;
	if (new_bitmaps > index_->capacity())
		throw no_free_space("space map: " + std::to_string(new_bitmaps) +
		                    " bitmaps exceed the index's capacity of " +
		                    std::to_string(index_->capacity()));
	for (uint64_t i = old_bitmaps; i < new_bitmaps; i++)
		index_->save(i, new_bitmap(tm_));
	nr_blocks_ += extra;
}

} // namespace pdata
