#include "persistent-data/two_level_btree.h"

namespace pdata {

two_level_btree::two_level_btree(transaction_manager &tm, block_address root, uint32_t value_size,
                                 value_ref_counter &leaf_rc)
    : tm_(tm), root_(root), value_size_(value_size), leaf_rc_(leaf_rc),
      top_rc_(tm, value_size, leaf_rc) {}

std::optional<block_address> two_level_btree::subtree(uint64_t k0) const {
	return btree(tm_, root_, 8).lookup64(k0);
}

bool two_level_btree::lookup(uint64_t k0, uint64_t k1, uint8_t *out) const {
	auto sub = subtree(k0);
	return sub && btree(tm_, *sub, value_size_).lookup(k1, out);
}

block_address two_level_btree::touch(uint64_t k0) {
	btree top(tm_, root_, 8, top_rc_);
	auto sub = top.lookup64(k0);
	if (!sub) {
		block_address fresh = btree::create_empty(tm_, value_size_);
		top.insert64(k0, fresh);
		root_ = top.root();
		return fresh;
	}
	top.insert64(k0, *sub); // equal value: shadows the path, drops nothing
	root_ = top.root();
	return *sub;
}

void two_level_btree::insert(uint64_t k0, uint64_t k1, const uint8_t *value) {
	block_address sub = touch(k0);
	btree s(tm_, sub, value_size_, leaf_rc_);
	s.insert(k1, value);
	if (s.root() != sub) {
		// Shadowing the old subtree root already dropped its reference.
		btree top(tm_, root_, 8, top_rc_);
		top.insert64(k0, s.root(), on_overwrite::keep_old_reference);
		root_ = top.root();
	}
}

bool two_level_btree::remove(uint64_t k0, uint64_t k1) {
	if (!subtree(k0))
		return false;
	block_address sub = touch(k0);
	btree s(tm_, sub, value_size_, leaf_rc_);
	bool found = s.remove(k1);
	if (s.root() != sub) {
		btree top(tm_, root_, 8, top_rc_);
		top.insert64(k0, s.root(), on_overwrite::keep_old_reference);
		root_ = top.root();
	}
	return found;
}

void two_level_btree::insert_subtree(uint64_t k0, block_address root) {
	btree top(tm_, root_, 8, top_rc_);
	top.insert64(k0, root);
	root_ = top.root();
}

bool two_level_btree::remove_subtree(uint64_t k0) {
	btree top(tm_, root_, 8, top_rc_);
	bool found = top.remove(k0);
	root_ = top.root();
	return found;
}

void two_level_btree::destroy() {
	btree(tm_, root_, 8, top_rc_).destroy();
	root_ = 0;
}

} // namespace pdata
