#include "persistent-data/btree_node_checks.h"

namespace pdata {

std::optional<std::string> node_shape_problem(node_ref n, uint32_t value_size) {
	if (n.is_leaf() && n.value_size() != value_size)
		return "value size mismatch: expected " + std::to_string(value_size) + ", got " +
		       std::to_string(n.value_size());
	if (!n.keys_ascending())
		return std::string("keys are out of order");
	return std::nullopt;
}

std::optional<std::string> key_range_problem(uint32_t nr, uint64_t first, uint64_t last, uint64_t lo,
                                             std::optional<uint64_t> hi) {
	if (!nr)
		return std::nullopt;
	if (first < lo)
		return "parent key mismatch: node's first key " + std::to_string(first) + " is below its parent's key " +
		       std::to_string(lo);
	if (hi && last >= *hi)
		return "node's last key " + std::to_string(last) + " is not below the next key of its parent " +
		       std::to_string(*hi);
	return std::nullopt;
}

std::optional<std::string> max_entries_problem(node_ref n) {
	if (n.max_entries() % 3)
		return std::string("max entries is not divisible by 3");
	return std::nullopt;
}

std::optional<std::string> fill_problem(node_ref n, bool is_root) {
	if (!is_root && n.nr_entries() < n.max_entries() / 3)
		return "too few entries in btree_node: " + std::to_string(n.nr_entries()) + ", expected at least " +
		       std::to_string(n.max_entries() / 3);
	return std::nullopt;
}

} // namespace pdata
