#include "persistent-data/space_map_metadata.h"

#include <stdexcept>

namespace pdata {

std::unique_ptr<metadata_space_map> metadata_space_map::create(transaction_manager &tm,
                                                               block_address nr_blocks,
                                                               block_address superblock) {
	if (nr_blocks > MAX_METADATA_BLOCKS)
		nr_blocks = MAX_METADATA_BLOCKS;
	std::unique_ptr<metadata_space_map> sm(new metadata_space_map());
	tm.set_sm(*sm);
	// Bootstrap: while the map's own structures do not exist yet, blocks are
	// handed out in order after the superblock; they are counted once the
	// map can count.
	sm->bootstrapping_ = true;
	sm->bootstrap_cursor_ = superblock + 1;
	sm->bootstrap_limit_ = nr_blocks;
	block_address ref_root = btree::create_empty(tm, 4);
	auto index = std::make_unique<block_index>(tm, 0);
	sm->index_ = index.get();
	sm->ll_ = std::make_unique<space_map_ll>(tm, std::move(index), 0, 0, ref_root);
	sm->ll_->extend(nr_blocks);
	sm->bootstrapping_ = false;
	for (block_address b = superblock; b < sm->bootstrap_cursor_; b++)
		sm->inc(b);
	sm->cursor_ = sm->bootstrap_cursor_;
	return sm;
}

std::unique_ptr<metadata_space_map> metadata_space_map::open(transaction_manager &tm,
                                                             const uint8_t *root) {
	sm_root r = decode_sm_root(root);
	if (r.nr_blocks > MAX_METADATA_BLOCKS)
		throw std::runtime_error("metadata space map claims " + std::to_string(r.nr_blocks) +
		                         " blocks, more than its index can describe");
	std::unique_ptr<metadata_space_map> sm(new metadata_space_map());
	tm.set_sm(*sm);
	auto index = std::make_unique<block_index>(tm, r.bitmap_root);
	sm->index_ = index.get();
	sm->ll_ = std::make_unique<space_map_ll>(tm, std::move(index), r.nr_blocks, r.nr_allocated,
	                                         r.ref_count_root);
	std::copy_n(root, SM_ROOT_SIZE, sm->root_.begin());
	return sm;
}

block_address metadata_space_map::nr_blocks() const { return ll_ ? ll_->nr_blocks() : 0; }

block_address metadata_space_map::nr_free() const {
	return ll_ ? ll_->nr_blocks() - ll_->nr_allocated() : 0;
}

ref_count metadata_space_map::get_count(block_address b) {
	ref_count c = ll_->get(b);
	// Updates still queued count too.
	for (const op &o : pending_) {
		if (o.block != b)
			continue;
		if (o.kind == op::inc)
			c++;
		else if (o.kind == op::dec)
			c = c ? c - 1 : 0;
		else
			c = o.count;
	}
	return c;
}

void metadata_space_map::apply(const op &o) {
	ref_count old = ll_->get(o.block);
	ref_count now;
	switch (o.kind) {
	case op::inc:
		now = old + 1;
		break;
	case op::dec:
		if (!old)
			throw count_underflow(o.block);
		now = old - 1;
		break;
	default:
		now = o.count;
	}
	if (old && !now)
		freed_.insert(o.block);
	if (now != old)
		ll_->set(o.block, now);
}

void metadata_space_map::drain() {
	while (!pending_.empty()) {
		op o;
		if (policy_ == recursion_policy::fifo) {
			o = pending_.front();
			pending_.pop_front();
		} else {
			o = pending_.back();
			pending_.pop_back();
		}
		apply(o);
	}
}

void metadata_space_map::submit(const op &o) {
	if (bootstrapping_)
		throw std::logic_error("metadata space map: count changed while bootstrapping");
	if (recursing_) {
		pending_.push_back(o);
		return;
	}
	recursing_ = true;
	try {
		apply(o);
		drain();
	} catch (...) {
		recursing_ = false;
		pending_.clear();
		throw;
	}
	recursing_ = false;
}

void metadata_space_map::set_count(block_address b, ref_count c) { submit({op::set, b, c}); }
void metadata_space_map::inc(block_address b) { submit({op::inc, b, 0}); }
void metadata_space_map::dec(block_address b) { submit({op::dec, b, 0}); }

block_address metadata_space_map::new_block() {
	if (bootstrapping_) {
		if (bootstrap_cursor_ >= bootstrap_limit_)
			throw no_free_space("metadata device too small for its space map");
		return bootstrap_cursor_++;
	}
	auto skip = [this](block_address b) { return freed_.count(b) != 0; };
	// The cursor only moves forward within a transaction, so a block whose
	// allocation is still queued is never handed out twice.
	auto b = ll_->find_free(cursor_, ll_->nr_blocks(), skip);
	if (!b)
		throw no_free_space("metadata space map: no free block (metadata device full)");
	cursor_ = *b + 1;
	submit({op::inc, *b, 0});
	return *b;
}

void metadata_space_map::extend(block_address extra) {
	if (recursing_)
		throw std::logic_error("metadata space map: extend while updating");
	recursing_ = true;
	try {
		ll_->extend(extra);
		drain();
	} catch (...) {
		recursing_ = false;
		throw;
	}
	recursing_ = false;
}

void metadata_space_map::commit() {
	recursing_ = true;
	try {
		drain();
		block_address index_block = index_->shadow_block();
		drain();
		index_->write_entries(index_block);
		sm_root r{ll_->nr_blocks(), ll_->nr_allocated(), index_block, ll_->ref_count_root()};
		encode_sm_root(r, root_.data());
	} catch (...) {
		recursing_ = false;
		throw;
	}
	recursing_ = false;
	freed_.clear();
	cursor_ = 0;
}

} // namespace pdata
