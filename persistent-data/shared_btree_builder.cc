#include "persistent-data/shared_btree_builder.h"

#include "base/endian.h"

#include <cstring>
#include <stdexcept>

namespace pdata {

namespace {

uint64_t mix(uint64_t h) {
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t hash_entry(uint64_t key, const uint8_t *value, uint32_t size) {
	uint64_t h = mix(key + 0x9e3779b97f4a7c15ull);
	for (uint32_t i = 0; i < size; i += 8) {
		uint64_t chunk = 0;
		std::memcpy(&chunk, value + i, std::min<uint32_t>(8, size - i));
		h = mix(h ^ chunk);
	}
	return h;
}

// A node ends after an entry whose hash has these low bits clear, once it
// holds at least MIN entries; average extra length 1/16 of the capacity.
constexpr uint64_t BOUNDARY_MASK = 15;

} // namespace

block_address node_dictionary::intern(uint32_t flags, uint32_t value_size,
                                      const std::vector<uint64_t> &keys,
                                      const std::vector<uint8_t> &values, bool &new_node) {
	uint64_t h = mix(flags ^ (uint64_t(value_size) << 8) ^ keys.size());
	for (size_t i = 0; i < keys.size(); i++)
		h = mix(h ^ hash_entry(keys[i], values.data() + i * value_size, value_size));
	auto range = by_hash_.equal_range(h);
	for (auto it = range.first; it != range.second; ++it) {
		read_ref r = tm_.read(it->second, btree_node_validator());
		node_ref n(r->data);
		if (n.flags() != flags || n.value_size() != value_size || n.nr_entries() != keys.size())
			continue;
		bool same = true;
		for (uint32_t i = 0; same && i < keys.size(); i++)
			same = n.key(i) == keys[i] &&
			       std::memcmp(n.value(i), values.data() + size_t(i) * value_size, value_size) == 0;
		if (same) {
			tm_.inc(it->second);
			shared_++;
			new_node = false;
			return it->second;
		}
	}
	write_ref w = tm_.new_block(btree_node_validator());
	node_mut n(w->data);
	n.init(flags, value_size);
	for (uint32_t i = 0; i < keys.size(); i++) {
		n.set_key(i, keys[i]);
		n.set_value(i, values.data() + size_t(i) * value_size);
	}
	n.set_nr_entries(uint32_t(keys.size()));
	by_hash_.emplace(h, w->location);
	written_++;
	new_node = true;
	return w->location;
}

void node_dictionary::forget_freed_nodes() {
	for (auto it = by_hash_.begin(); it != by_hash_.end();)
		if (tm_.sm().get_count(it->second) == 0)
			it = by_hash_.erase(it);
		else
			++it;
}

// One level of the tree under construction.  The entries of the node being
// filled are buffered, and so is the previous complete node: it is only
// written once the next one is known to be at least a third full, so the
// last two can be evened out at the end.
class shared_btree_builder::level {
public:
	level(shared_btree_builder &b, size_t height, uint32_t value_size)
	    : b_(b), height_(height), value_size_(value_size), max_(max_entries_for(value_size)),
	      min_fill_(max_ / 3), boundary_min_(max_ * 2 / 3) {}

	void push(uint64_t key, const uint8_t *value) {
		cur_keys_.push_back(key);
		cur_values_.insert(cur_values_.end(), value, value + value_size_);
		// Boundaries depend on keys only: a snapshot whose writes changed
		// only values (copy-on-write of mapped blocks) keeps every boundary,
		// so exactly the leaves holding those changes differ.
		bool hit = (mix(key + 0x9e3779b97f4a7c15ull) & BOUNDARY_MASK) == 0;
		if (cur_keys_.size() == max_ || (cur_keys_.size() >= boundary_min_ && hit))
			close_node();
	}

	// Writes what is buffered.  Returns true if this level produced a single
	// node and nothing above it: that node is the root.
	void flush() {
		if (cur_keys_.empty() && !held_)
			return;
		if (held_ && cur_keys_.size() < min_fill_) {
			// Even out the last two nodes.
			std::vector<uint64_t> keys = std::move(held_keys_);
			std::vector<uint8_t> values = std::move(held_values_);
			keys.insert(keys.end(), cur_keys_.begin(), cur_keys_.end());
			values.insert(values.end(), cur_values_.begin(), cur_values_.end());
			held_ = false;
			cur_keys_.clear();
			cur_values_.clear();
			if (keys.size() <= max_)
				emit(keys, values);
			else {
				size_t half = keys.size() / 2;
				emit({keys.begin(), keys.begin() + long(half)},
				     {values.begin(), values.begin() + long(half * value_size_)});
				emit({keys.begin() + long(half), keys.end()},
				     {values.begin() + long(half * value_size_), values.end()});
			}
			return;
		}
		if (held_)
			release_held();
		if (!cur_keys_.empty()) {
			emit(cur_keys_, cur_values_);
			cur_keys_.clear();
			cur_values_.clear();
		}
	}

	uint64_t nodes_emitted() const { return emitted_; }
	block_address last_block() const { return last_block_; }

private:
	void close_node() {
		if (held_)
			release_held();
		held_keys_.swap(cur_keys_);
		held_values_.swap(cur_values_);
		cur_keys_.clear();
		cur_values_.clear();
		held_ = true;
	}

	void release_held() {
		emit(held_keys_, held_values_);
		held_keys_.clear();
		held_values_.clear();
		held_ = false;
	}

	void emit(const std::vector<uint64_t> &keys, const std::vector<uint8_t> &values) {
		bool fresh;
		uint32_t flags = height_ == 0 ? LEAF_NODE : INTERNAL_NODE;
		block_address b = b_.dict_.intern(flags, value_size_, keys, values, fresh);
		if (fresh && height_ == 0 && b_.on_new_leaf_) {
			read_ref r = b_.tm_.read(b, btree_node_validator());
			b_.on_new_leaf_(node_ref(r->data));
		}
		if (!fresh && height_ > 0) {
			// An existing node already holds one reference to each of these
			// children: drop the ones taken when they were made for this one.
			for (size_t i = 0; i < keys.size(); i++)
				b_.tm_.dec(base::load_le64(values.data() + i * 8));
		}
		emitted_++;
		last_block_ = b;
		uint8_t v[8];
		base::store_le64(v, b);
		if (emitted_ == 1)
			first_key_ = keys.front(), first_block_ = b;
		else {
			if (emitted_ == 2)
				b_.level_at(height_ + 1).push_first(first_key_, first_block_);
			b_.level_at(height_ + 1).push(keys.front(), v);
		}
	}

public:
	// The first node of a level is passed up only when a second one exists
	// (a single node is the root).
	void push_first(uint64_t key, block_address b) {
		uint8_t v[8];
		base::store_le64(v, b);
		push(key, v);
	}

private:
	shared_btree_builder &b_;
	size_t height_;
	uint32_t value_size_;
	size_t max_, min_fill_, boundary_min_;
	std::vector<uint64_t> cur_keys_, held_keys_;
	std::vector<uint8_t> cur_values_, held_values_;
	bool held_ = false;
	uint64_t emitted_ = 0;
	uint64_t first_key_ = 0;
	block_address first_block_ = 0, last_block_ = 0;
};

shared_btree_builder::shared_btree_builder(transaction_manager &tm, uint32_t value_size,
                                           node_dictionary &dict, leaf_hook on_new_leaf)
    : tm_(tm), value_size_(value_size), dict_(dict), on_new_leaf_(std::move(on_new_leaf)) {}

shared_btree_builder::~shared_btree_builder() = default;

shared_btree_builder::level &shared_btree_builder::level_at(size_t i) {
	while (levels_.size() <= i)
		levels_.push_back(std::make_unique<level>(*this, levels_.size(), levels_.empty() ? value_size_ : 8));
	return *levels_[i];
}

void shared_btree_builder::push_back(uint64_t key, const uint8_t *value) {
	level_at(0).push(key, value);
}

void shared_btree_builder::push_back64(uint64_t key, uint64_t value) {
	uint8_t v[8];
	base::store_le64(v, value);
	push_back(key, v);
}

block_address shared_btree_builder::finish() {
	level_at(0);
	for (size_t i = 0; i < levels_.size(); i++) {
		levels_[i]->flush();
		if (levels_[i]->nodes_emitted() == 1 && i + 1 == levels_.size())
			return levels_[i]->last_block();
	}
	// Nothing at all was pushed: an empty leaf.
	bool fresh;
	return dict_.intern(LEAF_NODE, value_size_, {}, {}, fresh);
}

} // namespace pdata
