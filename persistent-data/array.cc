#include "persistent-data/array.h"

#include "base/endian.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/checksum.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace pdata {
namespace {

// Array blocks are referenced from btree leaves by location.
class array_block_refs : public value_ref_counter {
public:
	explicit array_block_refs(transaction_manager &tm) : tm_(tm) {}
	void inc(const uint8_t *v) override { tm_.inc(base::load_le64(v)); }
	void dec(const uint8_t *v) override { tm_.dec(base::load_le64(v)); }

private:
	transaction_manager &tm_;
};

void init_array_block(uint8_t *d, uint32_t value_size, uint32_t nr_entries,
                      const uint8_t *default_value) {
	uint32_t max = array_entries_per_block(value_size);
	base::store_le32(d + 4, max);
	base::store_le32(d + 8, nr_entries);
	base::store_le32(d + 12, value_size);
	for (uint32_t i = 0; i < nr_entries; i++)
		std::memcpy(d + ARRAY_BLOCK_HEADER + size_t(i) * value_size, default_value, value_size);
}

std::optional<std::string> array_block_problem(const uint8_t *d, uint32_t value_size) {
	uint32_t max = base::load_le32(d + 4), nr = base::load_le32(d + 8),
	         vs = base::load_le32(d + 12);
	if (vs != value_size)
		return "array block value size " + std::to_string(vs) + ", expected " +
		       std::to_string(value_size);
	if (max != array_entries_per_block(value_size))
		return "array block max_entries " + std::to_string(max) + ", expected " +
		       std::to_string(array_entries_per_block(value_size));
	if (nr > max)
		return "array block nr_entries " + std::to_string(nr) + " exceeds max_entries";
	return std::nullopt;
}

} // namespace

const validator &array_block_validator_for_reads() { return array_block_validator(); }

array::array(transaction_manager &tm, block_address root, uint32_t value_size, uint64_t nr_entries)
    : tm_(tm), root_(root), value_size_(value_size), nr_entries_(nr_entries) {}

block_address array::create(transaction_manager &tm, uint32_t value_size, uint64_t nr_entries,
                            const uint8_t *default_value) {
	btree_builder b(tm, 8); // the new array blocks already count one reference
	uint32_t per = array_entries_per_block(value_size);
	for (uint64_t i = 0, first = 0; first < nr_entries; i++, first += per) {
		write_ref w = tm.new_block(array_block_validator());
		init_array_block(w->data, value_size, uint32_t(std::min<uint64_t>(per, nr_entries - first)),
		                 default_value);
		b.push_back64(i, w->location);
	}
	return b.finish();
}

block_address array::create(transaction_manager &tm, uint32_t value_size, uint64_t nr_entries,
                            const std::function<void(uint64_t, uint8_t *)> &value) {
	btree_builder b(tm, 8);
	uint32_t per = array_entries_per_block(value_size);
	std::vector<uint8_t> zero(value_size, 0);
	for (uint64_t i = 0, first = 0; first < nr_entries; i++, first += per) {
		uint32_t n = uint32_t(std::min<uint64_t>(per, nr_entries - first));
		write_ref w = tm.new_block(array_block_validator());
		init_array_block(w->data, value_size, n, zero.data());
		for (uint32_t k = 0; k < n; k++)
			value(first + k, w->data + ARRAY_BLOCK_HEADER + size_t(k) * value_size);
		b.push_back64(i, w->location);
	}
	return b.finish();
}

void array::get(uint64_t index, uint8_t *out) const {
	if (index >= nr_entries_)
		throw std::out_of_range("array index " + std::to_string(index) + " out of range");
	btree tree(tm_, root_, 8);
	auto loc = tree.lookup64(index / per_block());
	if (!loc)
		throw std::runtime_error("array: missing array block " + std::to_string(index / per_block()));
	read_ref r = tm_.read(*loc, array_block_validator());
	if (auto p = array_block_problem(r->data, value_size_))
		throw bad_block(tm_.bm().device_name(), *loc, *p);
	std::memcpy(out, r->data + ARRAY_BLOCK_HEADER + size_t(index % per_block()) * value_size_,
	            value_size_);
}

uint64_t array::get64(uint64_t index) const {
	uint8_t v[8];
	get(index, v);
	return base::load_le64(v);
}

write_ref array::shadow_array_block(uint64_t block_index) {
	array_block_refs refs(tm_);
	btree tree(tm_, root_, 8, refs);
	auto loc = tree.lookup64(block_index);
	if (!loc)
		throw std::runtime_error("array: missing array block " + std::to_string(block_index));
	// Shadow the path to the entry first (re-inserting the same value drops
	// nothing): a shared leaf then gives its array blocks their extra
	// reference before the array block itself is shadowed, as the kernel
	// orders it.
	tree.insert64(block_index, *loc);
	auto s = tm_.shadow(*loc, array_block_validator());
	// The values of array blocks refer to nothing, so a shared block's
	// children need no extra references.  The tree's reference moves from
	// the old block to its shadow; the shadow already dropped the old one.
	if (s.block->location != *loc)
		tree.insert64(block_index, s.block->location, on_overwrite::keep_old_reference);
	root_ = tree.root();
	return s.block;
}

void array::set(uint64_t index, const uint8_t *value) {
	if (index >= nr_entries_)
		throw std::out_of_range("array index " + std::to_string(index) + " out of range");
	write_ref w = shadow_array_block(index / per_block());
	std::memcpy(w->data + ARRAY_BLOCK_HEADER + size_t(index % per_block()) * value_size_, value,
	            value_size_);
}

void array::set64(uint64_t index, uint64_t value) {
	uint8_t v[8];
	base::store_le64(v, value);
	set(index, v);
}

void array::resize(uint64_t nr_entries, const uint8_t *default_value) {
	if (nr_entries == nr_entries_)
		return;
	array_block_refs refs(tm_);
	uint32_t per = per_block();
	uint64_t old_blocks = (nr_entries_ + per - 1) / per;
	uint64_t new_blocks = (nr_entries + per - 1) / per;
	if (nr_entries < nr_entries_) {
		btree tree(tm_, root_, 8, refs);
		for (uint64_t b = new_blocks; b < old_blocks; b++)
			tree.remove(b);
		root_ = tree.root();
		if (nr_entries % per && new_blocks) {
			write_ref w = shadow_array_block(new_blocks - 1);
			base::store_le32(w->data + 8, uint32_t(nr_entries % per));
			std::memset(w->data + ARRAY_BLOCK_HEADER + size_t(nr_entries % per) * value_size_, 0,
			            size_t(per - nr_entries % per) * value_size_);
		}
	} else {
		if (old_blocks && nr_entries_ % per) {
			// Fill the old last block up.
			write_ref w = shadow_array_block(old_blocks - 1);
			uint32_t have = uint32_t(nr_entries_ % per);
			uint32_t want = uint32_t(std::min<uint64_t>(per, nr_entries - (old_blocks - 1) * per));
			for (uint32_t i = have; i < want; i++)
				std::memcpy(w->data + ARRAY_BLOCK_HEADER + size_t(i) * value_size_, default_value,
				            value_size_);
			base::store_le32(w->data + 8, want);
		}
		btree tree(tm_, root_, 8, refs);
		for (uint64_t b = old_blocks; b < new_blocks; b++) {
			write_ref w = tm_.new_block(array_block_validator());
			init_array_block(w->data, value_size_,
			                 uint32_t(std::min<uint64_t>(per, nr_entries - b * per)), default_value);
			tree.insert64(b, w->location);
		}
		root_ = tree.root();
	}
	nr_entries_ = nr_entries;
}

void array::for_each(const std::function<void(uint64_t, const uint8_t *)> &fn) const {
	btree tree(tm_, root_, 8);
	uint32_t per = per_block();
	tree.for_each([&](uint64_t block_index, const uint8_t *v) {
		read_ref r = tm_.read(base::load_le64(v), array_block_validator());
		uint32_t n = base::load_le32(r->data + 8);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t index = block_index * per + i;
			if (index >= nr_entries_)
				return;
			fn(index, r->data + ARRAY_BLOCK_HEADER + size_t(i) * value_size_);
		}
	});
}

std::map<uint64_t, block_address> array_block_locations(block_manager &bm, block_address root) {
	struct collector : btree_visitor {
		std::map<uint64_t, block_address> out;
		void visit_leaf(const node_context &, node_ref n) override {
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				out[n.key(i)] = n.value64(i);
		}
		void damage(const btree_damage &) override {}
	} c;
	walk_btree(bm, root, {8, false}, c);
	return c.out;
}

uint64_t array_length(block_manager &bm, block_address root, uint32_t value_size) {
	auto blocks = array_block_locations(bm, root);
	if (blocks.empty())
		return 0;
	auto [index, where] = *blocks.rbegin();
	const uint32_t per = array_entries_per_block(value_size);
	try {
		read_ref r = bm.read(where, array_block_validator());
		return index * per + std::min(base::load_le32(r->data + 8), per);
	} catch (const bad_block &) {
		return (index + 1) * per;
	}
}

void walk_array(block_manager &bm, block_address root, uint32_t value_size, uint64_t nr_entries,
                const std::function<void(uint64_t, const uint8_t *)> &value,
                const std::function<void(const array_damage &)> &damage, array_read how) {
	uint32_t per = array_entries_per_block(value_size);
	uint64_t nr_blocks = (nr_entries + per - 1) / per;
	std::map<uint64_t, block_address> blocks;

	struct collector : btree_visitor {
		std::map<uint64_t, block_address> &out;
		const std::function<void(const array_damage &)> &on_damage;
		uint32_t per;
		collector(std::map<uint64_t, block_address> &o,
		          const std::function<void(const array_damage &)> &d, uint32_t p)
		    : out(o), on_damage(d), per(p) {}
		void visit_leaf(const node_context &, node_ref n) override {
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				out[n.key(i)] = n.value64(i);
		}
		void damage(const btree_damage &d) override {
			if (!d.fatal)
				return;
			uint64_t end = d.lost_end == UINT64_MAX ? UINT64_MAX : d.lost_end * per;
			on_damage({d.lost_begin * per, end, d.block, d.reason});
		}
	} c(blocks, damage, per);
	walk_btree(bm, root, {8, true}, c);

	uint64_t expected = 0;
	for (const auto &[bi, loc] : blocks) {
		if (bi >= nr_blocks) {
			damage({bi * per, (bi + 1) * per, loc, "array block index beyond the array's size"});
			continue;
		}
		if (bi != expected)
			damage({expected * per, bi * per, loc, "array blocks missing"});
		expected = bi + 1;
		uint64_t first = bi * per;
		uint64_t want = std::min<uint64_t>(per, nr_entries - first);
		try {
			read_ref r = bm.read(loc, array_block_validator());
			std::optional<std::string> p = array_block_problem(r->data, value_size);
			uint32_t n = base::load_le32(r->data + 8);
			if (!p && n != want)
				p = "array block holds " + std::to_string(n) + " entries, expected " + std::to_string(want);
			if (p && how == array_read::strict) {
				damage({first, first + want, loc, *p});
				continue;
			}
			if (p) {
				// The checksum and block number hold: the values are where
				// the block's place in the array says they are.
				damage({first, first, loc, *p + "; its values read by their position"});
				n = uint32_t(want);
			}
			for (uint32_t i = 0; i < n; i++)
				value(first + i, r->data + ARRAY_BLOCK_HEADER + size_t(i) * value_size);
		} catch (const bad_block &e) {
			damage({first, first + want, loc, e.reason()});
		}
	}
	if (expected < nr_blocks)
		damage({expected * per, nr_entries, root, "array blocks missing"});
}

} // namespace pdata
