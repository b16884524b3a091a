#include "persistent-data/btree_node.h"

#include <algorithm>

namespace pdata {

int node_ref::lower_bound(uint64_t k) const {
	int lo = -1, hi = int(nr_entries());
	while (hi - lo > 1) {
		int mid = lo + (hi - lo) / 2;
		if (key(uint32_t(mid)) <= k)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

std::optional<std::string> node_ref::header_problem() const {
	uint32_t f = flags();
	if ((f & INTERNAL_NODE) && (f & LEAF_NODE))
		return "node is marked both internal and leaf";
	if (!(f & (INTERNAL_NODE | LEAF_NODE)))
		return "node is neither internal nor leaf (flags " + std::to_string(f) + ")";
	uint64_t need = NODE_HEADER_SIZE + (8 + uint64_t(value_size())) * max_entries();
	if (value_size() == 0 || need > BLOCK_SIZE)
		return "max_entries " + std::to_string(max_entries()) + " of value size " +
		       std::to_string(value_size()) + " do not fit in a block";
	if (nr_entries() > max_entries())
		return "nr_entries " + std::to_string(nr_entries()) + " exceeds max_entries " +
		       std::to_string(max_entries());
	if (is_internal() && value_size() != 8)
		return "internal node with value size " + std::to_string(value_size());
	return {};
}

std::optional<std::vector<uint8_t>> leaf_by_position(const uint8_t *data, uint32_t value_size, uint64_t lo,
                                                     std::optional<uint64_t> hi, std::string &what) {
	node_ref n(data);
	what.clear();
	if (n.flags() != LEAF_NODE)
		return std::nullopt;
	std::vector<uint8_t> copy(data, data + BLOCK_SIZE);
	node_mut m(copy.data());
	const uint32_t max = max_entries_for(value_size);
	std::vector<std::string> mended;
	if (n.value_size() != value_size) {
		mended.push_back("value size " + std::to_string(n.value_size()) + " read as " + std::to_string(value_size));
		base::store_le32(copy.data() + 24, value_size);
	}
	if (n.max_entries() != max) {
		mended.push_back("max_entries " + std::to_string(n.max_entries()) + " read as " + std::to_string(max));
		base::store_le32(copy.data() + 20, max);
	}
	uint32_t nr = std::min(n.nr_entries(), max), keep = 0;
	for (uint64_t prev = 0; keep < nr; keep++) {
		uint64_t k = m.key(keep);
		if (k < lo || (hi && k >= *hi) || (keep && k <= prev))
			break;
		prev = k;
	}
	bool header_sound = mended.empty() && !n.header_problem();
	if (header_sound && keep + 1 < n.nr_entries())
		return std::nullopt;
	if (keep != n.nr_entries())
		mended.push_back("nr_entries " + std::to_string(n.nr_entries()) + ": the first " + std::to_string(keep) +
		                 ", whose keys ascend in the parent's range, read");
	if (!keep)
		return std::nullopt;
	m.set_nr_entries(keep);
	for (const auto &x : mended)
		what += (what.empty() ? "" : "; ") + x;
	return copy;
}

void node_mut::init(uint32_t flags, uint32_t value_size) {
	std::memset(m_ + 4, 0, BLOCK_SIZE - 4);
	set_flags(flags);
	base::store_le32(m_ + 20, max_entries_for(value_size));
	base::store_le32(m_ + 24, value_size);
}

void node_mut::insert_at(uint32_t i, uint64_t k, const uint8_t *v) {
	uint32_t n = nr_entries();
	uint8_t *keys = m_ + NODE_HEADER_SIZE;
	std::memmove(keys + 8 * (size_t(i) + 1), keys + 8 * size_t(i), 8 * size_t(n - i));
	std::memmove(value_mut(i + 1), value_mut(i), size_t(value_size()) * (n - i));
	set_key(i, k);
	set_value(i, v);
	set_nr_entries(n + 1);
}

void node_mut::delete_at(uint32_t i) {
	uint32_t n = nr_entries();
	uint8_t *keys = m_ + NODE_HEADER_SIZE;
	std::memmove(keys + 8 * size_t(i), keys + 8 * (size_t(i) + 1), 8 * size_t(n - i - 1));
	std::memmove(value_mut(i), value_mut(i + 1), size_t(value_size()) * (n - i - 1));
	set_nr_entries(n - 1);
	std::memset(keys + 8 * size_t(n - 1), 0, 8);
	std::memset(value_mut(n - 1), 0, value_size());
}

void node_mut::zero_unused() {
	uint32_t n = nr_entries(), m = max_entries();
	std::memset(m_ + NODE_HEADER_SIZE + 8 * size_t(n), 0, 8 * size_t(m - n));
	std::memset(value_mut(n), 0, size_t(value_size()) * (m - n));
}

namespace {

class node_validator : public validator {
public:
	std::optional<std::string> check(const uint8_t *data, block_address where) const override {
		if (!checksum_matches(data, salt::btree_node))
			return std::string("bad checksum in btree node");
		node_ref n(data);
		if (n.blocknr() != where)
			return "bad block nr in btree node (says " + std::to_string(n.blocknr()) + ")";
		return n.header_problem();
	}

	void prepare(uint8_t *data, block_address where) const override {
		base::store_le64(data + 8, where);
		seal_checksum(data, salt::btree_node);
	}
};

} // namespace

const validator &btree_node_validator() {
	static const node_validator v;
	return v;
}

} // namespace pdata
