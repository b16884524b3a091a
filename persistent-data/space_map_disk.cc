#include "persistent-data/space_map_disk.h"

namespace pdata {

disk_space_map::disk_space_map(transaction_manager &tm, std::unique_ptr<index_store> index,
                               uint64_t nr_blocks, uint64_t nr_allocated, block_address ref_root)
    : ll_(tm, std::move(index), nr_blocks, nr_allocated, ref_root) {}

std::unique_ptr<disk_space_map> disk_space_map::create(transaction_manager &tm,
                                                       block_address nr_blocks) {
	block_address index_root = btree::create_empty(tm, INDEX_ENTRY_SIZE);
	block_address ref_root = btree::create_empty(tm, 4);
	std::unique_ptr<disk_space_map> sm(
	    new disk_space_map(tm, open_btree_index(tm, index_root), 0, 0, ref_root));
	sm->ll_.extend(nr_blocks);
	return sm;
}

std::unique_ptr<disk_space_map> disk_space_map::open(transaction_manager &tm, const uint8_t *root) {
	sm_root r = decode_sm_root(root);
	std::unique_ptr<disk_space_map> sm(new disk_space_map(
	    tm, open_btree_index(tm, r.bitmap_root), r.nr_blocks, r.nr_allocated, r.ref_count_root));
	std::copy_n(root, SM_ROOT_SIZE, sm->root_.begin());
	return sm;
}

void disk_space_map::set_count(block_address b, ref_count c) {
	ref_count old = ll_.get(b);
	if (old == c)
		return;
	if (old && !c)
		freed_.insert(b);
	ll_.set(b, c);
}

void disk_space_map::inc(block_address b) { ll_.set(b, ll_.get(b) + 1); }

void disk_space_map::dec(block_address b) {
	ref_count old = ll_.get(b);
	if (!old)
		throw count_underflow(b);
	if (old == 1)
		freed_.insert(b);
	ll_.set(b, old - 1);
}

block_address disk_space_map::new_block() {
	auto skip = [this](block_address b) { return freed_.count(b) != 0; };
	auto b = ll_.find_free(cursor_, ll_.nr_blocks(), skip);
	if (!b)
		b = ll_.find_free(0, cursor_, skip);
	if (!b)
		throw no_free_space("data space map: no free block");
	ll_.set(*b, 1);
	cursor_ = *b + 1;
	return *b;
}

void disk_space_map::commit() {
	sm_root r;
	r.nr_blocks = ll_.nr_blocks();
	r.nr_allocated = ll_.nr_allocated();
	r.bitmap_root = ll_.index().commit();
	r.ref_count_root = ll_.ref_count_root();
	encode_sm_root(r, root_.data());
	freed_.clear();
}

} // namespace pdata
