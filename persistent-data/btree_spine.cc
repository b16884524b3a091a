#include "persistent-data/btree_spine.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pdata {
namespace {

uint8_t *key_ptr(node_mut &n, uint32_t i) { return n.data_mut() + NODE_HEADER_SIZE + 8 * size_t(i); }

// Copies entries [from, from+count) of SRC to position AT of DST.
void copy_entries(node_mut dst, uint32_t at, node_ref src, uint32_t from, uint32_t count) {
	if (!count)
		return;
	std::memmove(key_ptr(dst, at), src.data() + NODE_HEADER_SIZE + 8 * size_t(from), 8 * size_t(count));
	std::memmove(dst.value_mut(at), src.value(from), size_t(src.value_size()) * count);
}

// Moves entries [from, nr) of N up by COUNT places.
void open_gap(node_mut n, uint32_t count) {
	copy_entries(n, count, n, 0, n.nr_entries());
}

// Moves entries [count, nr) of N down to 0.
void close_gap(node_mut n, uint32_t count) {
	copy_entries(n, 0, n, count, n.nr_entries() - count);
}

uint32_t merge_threshold(node_ref n) { return n.max_entries() / 3; }

} // namespace

void shift_entries(node_mut left, node_mut right, int count) {
	uint32_t nl = left.nr_entries(), nr = right.nr_entries();
	if (count > 0) {
		uint32_t c = uint32_t(count);
		if (c > nl || nr + c > right.max_entries())
			throw std::logic_error("btree: shift beyond node bounds");
		open_gap(right, c);
		copy_entries(right, 0, left, nl - c, c);
		left.set_nr_entries(nl - c);
		right.set_nr_entries(nr + c);
	} else if (count < 0) {
		uint32_t c = uint32_t(-count);
		if (c > nr || nl + c > left.max_entries())
			throw std::logic_error("btree: shift beyond node bounds");
		copy_entries(left, nl, right, 0, c);
		close_gap(right, c);
		left.set_nr_entries(nl + c);
		right.set_nr_entries(nr - c);
	}
	left.zero_unused();
	right.zero_unused();
}

void shadow_spine::inc_children(node_ref n) {
	for (uint32_t i = 0; i < n.nr_entries(); i++) {
		if (n.is_internal())
			tm_.inc(n.value64(i));
		else
			rc_.inc(n.value(i));
	}
}

write_ref shadow_spine::shadow_node(block_address b) {
	auto s = tm_.shadow(b, btree_node_validator());
	if (s.inc_children)
		inc_children(node_ref(s.block->data));
	return s.block;
}

void shadow_spine::step(block_address root) {
	path_.clear();
	path_.push_back(shadow_node(root));
}

void shadow_spine::step_child(uint32_t i) {
	node_mut parent = current();
	write_ref c = shadow_node(parent.value64(i));
	parent.set_value64(i, c->location);
	path_.push_back(c);
}

void shadow_spine::split_beneath() {
	node_mut n = current();
	uint32_t nr = n.nr_entries();
	uint32_t nr_left = nr / 2, nr_right = nr - nr_left;
	write_ref lw = tm_.new_block(btree_node_validator());
	write_ref rw = tm_.new_block(btree_node_validator());
	node_mut l(lw->data), r(rw->data);
	l.init(n.flags(), n.value_size());
	r.init(n.flags(), n.value_size());
	copy_entries(l, 0, n, 0, nr_left);
	copy_entries(r, 0, n, nr_left, nr_right);
	l.set_nr_entries(nr_left);
	r.set_nr_entries(nr_right);

	n.init(INTERNAL_NODE, 8);
	uint8_t v[8];
	base::store_le64(v, lw->location);
	n.insert_at(0, l.key(0), v);
	base::store_le64(v, rw->location);
	n.insert_at(1, r.key(0), v);
}

void shadow_spine::split_sibling(int index, uint64_t key) {
	if (path_.size() < 2)
		throw std::logic_error("btree: split_sibling without a parent");
	node_mut left = current();
	node_mut parent(path_[path_.size() - 2]->data);
	uint32_t nr = left.nr_entries();
	uint32_t nr_left = nr / 2, nr_right = nr - nr_left;
	write_ref rw = tm_.new_block(btree_node_validator());
	node_mut right(rw->data);
	right.init(left.flags(), left.value_size());
	copy_entries(right, 0, left, nr_left, nr_right);
	right.set_nr_entries(nr_right);
	left.set_nr_entries(nr_left);
	left.zero_unused();

	uint8_t v[8];
	base::store_le64(v, rw->location);
	parent.insert_at(uint32_t(index + 1), right.key(0), v);
	if (key >= right.key(0))
		path_.back() = rw;
}

shadow_spine::child shadow_spine::init_child(uint32_t index) {
	node_mut parent = current();
	write_ref c = shadow_node(parent.value64(index));
	parent.set_value64(index, c->location);
	return {index, c};
}

bool shadow_spine::rebalance_children(uint64_t key) {
	node_mut n = current();
	if (n.nr_entries() == 1) {
		// A single child: pull it up into this node.  If the child is
		// shared, this node becomes one more parent of its children.
		block_address b = n.value64(0);
		read_ref c = tm_.read(b, btree_node_validator());
		if (tm_.sm().count_is_more_than_one(b))
			inc_children(node_ref(c->data));
		std::memcpy(n.data_mut() + 4, c->data + 4, BLOCK_SIZE - 4);
		tm_.dec(b);
		return true;
	}
	int i = n.lower_bound(key);
	if (i < 0)
		return false;
	uint32_t nr = n.nr_entries();
	bool has_left = i > 0, has_right = uint32_t(i) + 1 < nr;
	if (!has_left)
		rebalance2(uint32_t(i));
	else if (!has_right)
		rebalance2(uint32_t(i) - 1);
	else
		rebalance3(uint32_t(i) - 1);
	return true;
}

void shadow_spine::rebalance2(uint32_t left_index) {
	child l = init_child(left_index);
	child r = init_child(left_index + 1);
	rebalance2(l, r);
}

void shadow_spine::rebalance2(child &l, child &r) {
	node_mut parent = current();
	node_mut left = l.node(), right = r.node();
	uint32_t nl = left.nr_entries(), nr = right.nr_entries();
	uint32_t threshold = 2 * (merge_threshold(left) + 1);
	if (nl + nr < threshold) {
		// Merge: right's entries join left; right's block loses the
		// parent's reference (its children are now referenced by left).
		shift_entries(left, right, -int(nr));
		parent.delete_at(r.index);
		tm_.dec(r.block->location);
	} else {
		uint32_t target_left = (nl + nr) / 2;
		shift_entries(left, right, int(nl) - int(target_left));
		parent.set_key(r.index, right.key(0));
	}
}

void shadow_spine::rebalance3(uint32_t left_index) {
	child l = init_child(left_index);
	child c = init_child(left_index + 1);
	child r = init_child(left_index + 2);
	node_mut left = l.node(), center = c.node(), right = r.node();
	if (left.max_entries() != center.max_entries() || center.max_entries() != right.max_entries())
		throw std::runtime_error("btree: siblings with different max_entries");
	uint32_t total = left.nr_entries() + center.nr_entries() + right.nr_entries();
	uint32_t threshold = merge_threshold(left) * 4 + 1;
	if (total < threshold)
		delete_center(l, c, r);
	else
		redistribute3(l, c, r);
}

void shadow_spine::delete_center(child &l, child &c, child &r) {
	node_mut parent = current();
	node_mut left = l.node(), center = c.node(), right = r.node();
	uint32_t nl = left.nr_entries(), nc = center.nr_entries();
	uint32_t into_left = std::min(left.max_entries() - nl, nc);
	shift_entries(left, center, -int(into_left));
	if (center.nr_entries())
		shift_entries(center, right, int(center.nr_entries()));
	parent.set_key(r.index, right.key(0));
	parent.delete_at(c.index);
	r.index--;
	tm_.dec(c.block->location);
	rebalance2(l, r);
}

void shadow_spine::redistribute3(child &l, child &c, child &r) {
	node_mut parent = current();
	node_mut left = l.node(), center = c.node(), right = r.node();
	int nl = int(left.nr_entries()), nc = int(center.nr_entries()), nr = int(right.nr_entries());
	int total = nl + nc + nr;
	int target_right = total / 3;
	int target_left = target_right + (target_right * 3 != total ? 1 : 0);
	if (nl < nr) {
		int s = nl - target_left;
		if (s < 0 && nc < -s) {
			// The centre cannot supply enough: empty it into left, then
			// take the rest straight from right.
			shift_entries(left, center, -nc);
			s += nc;
			shift_entries(left, right, s);
			nr += s;
		} else
			shift_entries(left, center, s);
		shift_entries(center, right, target_right - nr);
	} else {
		int s = target_right - nr;
		if (s > 0 && nc < s) {
			shift_entries(center, right, nc);
			s -= nc;
			shift_entries(left, right, s);
			nl -= s;
		} else
			shift_entries(center, right, s);
		shift_entries(left, center, nl - target_left);
	}
	parent.set_key(c.index, center.key(0));
	parent.set_key(r.index, right.key(0));
}

} // namespace pdata
