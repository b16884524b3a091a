// Bottom-up construction of a btree from sorted input.
#include "persistent-data/btree.h"

#include "persistent-data/btree_spine.h"

#include <stdexcept>

namespace pdata {

btree_builder::btree_builder(transaction_manager &tm, uint32_t value_size)
    : tm_(tm), value_size_(value_size) {}

void btree_builder::push_back(uint64_t key, const uint8_t *value) {
	if (last_key_ && key <= *last_key_)
		throw std::logic_error("btree_builder: keys must be strictly ascending");
	last_key_ = key;
	keys_.push_back(key);
	values_.insert(values_.end(), value, value + value_size_);
	if (keys_.size() == max_entries_for(value_size_))
		flush_leaf();
}

void btree_builder::push_back64(uint64_t key, uint64_t value) {
	uint8_t v[8];
	base::store_le64(v, value);
	push_back(key, v);
}

void btree_builder::push_leaf(block_address leaf, uint64_t first_key, uint64_t last_key) {
	if ((last_key_ && first_key <= *last_key_) || last_key < first_key)
		throw std::logic_error("btree_builder: spliced node out of key order");
	flush_leaf();
	tm_.inc(leaf);
	leaves_.push_back({leaf, first_key});
	last_key_ = last_key;
	spliced_.insert(leaf);
}

void btree_builder::flush_leaf() {
	if (keys_.empty())
		return;
	write_ref w = tm_.new_block(btree_node_validator());
	node_mut n(w->data);
	n.init(LEAF_NODE, value_size_);
	for (size_t i = 0; i < keys_.size(); i++) {
		n.set_key(uint32_t(i), keys_[i]);
		n.set_value(uint32_t(i), values_.data() + i * value_size_);
	}
	n.set_nr_entries(uint32_t(keys_.size()));
	leaves_.push_back({w->location, keys_.front()});
	keys_.clear();
	values_.clear();
}

// Evens out the last two nodes of a level when the last one is under a
// third full (the kernel's lower bound for non-root nodes).  Spliced nodes
// are shared and are left alone.
void btree_builder::even_out_tail(std::vector<pending_node> &level) {
	if (level.size() < 2)
		return;
	pending_node &a = level[level.size() - 2], &b = level.back();
	if (spliced_.count(a.block) || spliced_.count(b.block))
		return;
	write_ref wa = tm_.bm().write(a.block, btree_node_validator());
	write_ref wb = tm_.bm().write(b.block, btree_node_validator());
	node_mut na(wa->data), nb(wb->data);
	uint32_t min = na.max_entries() / 3;
	if (nb.nr_entries() >= min)
		return;
	uint32_t total = na.nr_entries() + nb.nr_entries();
	if (total <= na.max_entries()) {
		shift_entries(na, nb, -int(nb.nr_entries()));
		tm_.dec(b.block);
		level.pop_back();
		return;
	}
	shift_entries(na, nb, int(na.nr_entries()) - int(total / 2));
	b.first_key = nb.key(0);
}

block_address btree_builder::build_level(std::vector<pending_node> level) {
	even_out_tail(level);
	while (level.size() > 1) {
		std::vector<pending_node> up;
		uint32_t max = max_entries_for(8);
		for (size_t i = 0; i < level.size(); i += max) {
			write_ref w = tm_.new_block(btree_node_validator());
			node_mut n(w->data);
			n.init(INTERNAL_NODE, 8);
			size_t end = std::min(level.size(), i + max);
			for (size_t k = i; k < end; k++) {
				n.set_key(uint32_t(k - i), level[k].first_key);
				n.set_value64(uint32_t(k - i), level[k].block);
			}
			n.set_nr_entries(uint32_t(end - i));
			up.push_back({w->location, level[i].first_key});
		}
		level.swap(up);
		even_out_tail(level);
	}
	return level.front().block;
}

block_address btree_builder::finish() {
	flush_leaf();
	if (leaves_.empty())
		return btree::create_empty(tm_, value_size_);
	block_address root = build_level(std::move(leaves_));
	leaves_.clear();
	return root;
}

} // namespace pdata
