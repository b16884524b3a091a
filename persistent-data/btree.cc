// Lookup, insert, iteration and destruction of copy-on-write btrees.
// Removal with rebalancing lives in btree_remove.cc.
#include "persistent-data/btree.h"

#include "persistent-data/btree_spine.h"

#include <stdexcept>

namespace pdata {

namespace {
class null_ref_counter : public value_ref_counter {
public:
	void inc(const uint8_t *) override {}
	void dec(const uint8_t *) override {}
};
} // namespace

value_ref_counter &no_ref_counting() {
	static null_ref_counter rc;
	return rc;
}

void subtree_ref_counter::inc(const uint8_t *value) { tm_.inc(base::load_le64(value)); }
void subtree_ref_counter::dec(const uint8_t *value) { tm_.dec(base::load_le64(value)); }

btree::btree(transaction_manager &tm, block_address root, uint32_t value_size, value_ref_counter &rc)
    : tm_(tm), root_(root), value_size_(value_size), rc_(rc) {}

block_address btree::create_empty(transaction_manager &tm, uint32_t value_size) {
	write_ref w = tm.new_block(btree_node_validator());
	node_mut(w->data).init(LEAF_NODE, value_size);
	return w->location;
}

namespace {

// Reads and sanity-checks a node for the read-only operations.
read_ref read_node(transaction_manager &tm, block_address b) {
	return tm.read(b, btree_node_validator());
}

} // namespace

bool btree::lookup(uint64_t key, uint8_t *out) const {
	block_address b = root_;
	for (unsigned depth = 0; depth < MAX_BTREE_DEPTH; depth++) {
		read_ref r = read_node(tm_, b);
		node_ref n(r->data);
		int i = n.lower_bound(key);
		if (n.is_leaf()) {
			if (i < 0 || n.key(uint32_t(i)) != key)
				return false;
			if (n.value_size() != value_size_)
				throw bad_block(tm_.bm().device_name(), b, "value size mismatch");
			std::memcpy(out, n.value(uint32_t(i)), value_size_);
			return true;
		}
		if (i < 0)
			return false;
		b = n.value64(uint32_t(i));
	}
	throw bad_block(tm_.bm().device_name(), b, "btree deeper than any valid tree (a cycle?)");
}

std::optional<uint64_t> btree::lookup64(uint64_t key) const {
	uint8_t v[8];
	if (value_size_ != 8)
		throw std::logic_error("lookup64 on a tree whose values are not 8 bytes");
	if (!lookup(key, v))
		return std::nullopt;
	return base::load_le64(v);
}

void btree::insert(uint64_t key, const uint8_t *value, on_overwrite policy) {
	shadow_spine spine(tm_, rc_);
	spine.step(root_);
	int index = -1;
	bool top = true;
	for (;;) {
		node_mut n = spine.current();
		if (n.nr_entries() == n.max_entries()) {
			if (top)
				spine.split_beneath();
			else
				spine.split_sibling(index, key);
		}
		n = spine.current();
		int i = n.lower_bound(key);
		if (n.is_leaf()) {
			uint32_t at = (i < 0 || n.key(uint32_t(i)) != key) ? uint32_t(i + 1) : uint32_t(i);
			if (at < n.nr_entries() && n.key(at) == key) {
				uint8_t *old = n.value_mut(at);
				if (policy == on_overwrite::drop_old_reference && !rc_.equal(old, value, value_size_))
					rc_.dec(old);
				n.set_value(at, value);
			} else
				n.insert_at(at, key, value);
			break;
		}
		if (i < 0) {
			// The key is below everything: the first child's range grows.
			n.set_key(0, key);
			i = 0;
		}
		index = i;
		spine.step_child(uint32_t(i));
		top = false;
	}
	root_ = spine.root();
}

void btree::insert64(uint64_t key, uint64_t value, on_overwrite policy) {
	uint8_t v[8];
	base::store_le64(v, value);
	insert(key, v, policy);
}

void btree::for_each(const std::function<void(uint64_t, const uint8_t *)> &fn) const {
	// Depth-first, left to right, with an explicit stack.
	struct frame {
		read_ref node;
		uint32_t next;
	};
	std::vector<frame> stack;
	stack.push_back({read_node(tm_, root_), 0});
	while (!stack.empty()) {
		frame &f = stack.back();
		node_ref n(f.node->data);
		if (n.is_leaf()) {
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				fn(n.key(i), n.value(i));
			stack.pop_back();
			continue;
		}
		if (f.next == n.nr_entries()) {
			stack.pop_back();
			continue;
		}
		block_address child = n.value64(f.next++);
		if (stack.size() >= MAX_BTREE_DEPTH)
			throw bad_block(tm_.bm().device_name(), child, "btree too deep (a cycle?)");
		stack.push_back({read_node(tm_, child), 0});
	}
}

void btree::for_each_in(uint64_t begin, uint64_t end,
                        const std::function<void(uint64_t, const uint8_t *)> &fn) const {
	struct frame {
		read_ref node;
		uint32_t next;
	};
	std::vector<frame> stack;
	stack.push_back({read_node(tm_, root_), 0});
	while (!stack.empty()) {
		frame &f = stack.back();
		node_ref n(f.node->data);
		if (n.is_leaf()) {
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				if (n.key(i) >= begin && n.key(i) < end)
					fn(n.key(i), n.value(i));
			stack.pop_back();
			continue;
		}
		// Child i holds keys in [key(i), key(i+1)).
		while (f.next < n.nr_entries() && f.next + 1 < n.nr_entries() && n.key(f.next + 1) <= begin)
			f.next++;
		if (f.next == n.nr_entries() || n.key(f.next) >= end) {
			stack.pop_back();
			continue;
		}
		block_address child = n.value64(f.next++);
		if (stack.size() >= MAX_BTREE_DEPTH)
			throw bad_block(tm_.bm().device_name(), child, "btree too deep (a cycle?)");
		stack.push_back({read_node(tm_, child), 0});
	}
}

std::optional<uint64_t> btree::lowest_key() const {
	block_address b = root_;
	for (unsigned d = 0; d < MAX_BTREE_DEPTH; d++) {
		read_ref r = read_node(tm_, b);
		node_ref n(r->data);
		if (!n.nr_entries())
			return std::nullopt;
		if (n.is_leaf())
			return n.key(0);
		b = n.value64(0);
	}
	throw bad_block(tm_.bm().device_name(), b, "btree too deep (a cycle?)");
}

std::optional<uint64_t> btree::highest_key() const {
	block_address b = root_;
	for (unsigned d = 0; d < MAX_BTREE_DEPTH; d++) {
		read_ref r = read_node(tm_, b);
		node_ref n(r->data);
		if (!n.nr_entries())
			return std::nullopt;
		if (n.is_leaf())
			return n.key(n.nr_entries() - 1);
		b = n.value64(n.nr_entries() - 1);
	}
	throw bad_block(tm_.bm().device_name(), b, "btree too deep (a cycle?)");
}

uint64_t btree::count() const {
	uint64_t n = 0;
	for_each([&](uint64_t, const uint8_t *) { n++; });
	return n;
}

void btree::destroy() {
	// Drop the root's reference; a node whose count reaches zero releases
	// its children (and a leaf its values) in turn.
	std::vector<block_address> pending{root_};
	while (!pending.empty()) {
		block_address b = pending.back();
		pending.pop_back();
		if (tm_.sm().get_count(b) > 1) {
			tm_.dec(b);
			continue;
		}
		read_ref r = read_node(tm_, b);
		node_ref n(r->data);
		for (uint32_t i = 0; i < n.nr_entries(); i++) {
			if (n.is_leaf())
				rc_.dec(n.value(i));
			else
				pending.push_back(n.value64(i));
		}
		tm_.dec(b);
	}
	root_ = 0;
}

} // namespace pdata
