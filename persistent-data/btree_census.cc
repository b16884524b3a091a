#include "persistent-data/btree_census.h"

#include <algorithm>

namespace pdata {

btree_census::btree_census(block_io &io, count_array &refs) : io_(io), refs_(refs) {}

void btree_census::add_root(block_address root, uint32_t value_size, uint64_t tag) {
	pending_.push_back({root, 0, std::nullopt, value_size, tag, true});
}

void btree_census::lose(const edge &e, const std::string &reason, bool fatal,
                        const damage_handler &on_damage) {
	btree_damage d;
	d.block = e.child;
	d.lost_begin = fatal ? e.key_lo : 0;
	d.lost_end = fatal ? e.key_hi.value_or(UINT64_MAX) : 0;
	d.reason = reason;
	d.fatal = fatal;
	on_damage(e.tag, d);
}

void btree_census::run(const leaf_handler &on_leaf, const damage_handler &on_damage) {
	while (!pending_.empty()) {
		std::vector<edge> level;
		level.swap(pending_);
		if (rank_)
			std::stable_sort(level.begin(), level.end(), [this](const edge &a, const edge &b) {
				return rank_(a.tag) < rank_(b.tag);
			});
		// Count every reference, and check the edges into nodes already
		// known; collect the nodes seen for the first time.
		std::unordered_map<block_address, std::vector<const edge *>> fresh;
		std::vector<block_address> to_read;
		for (const auto &e : level) {
			if (e.child < refs_.size())
				refs_.inc(e.child);
			auto it = state_.find(e.child);
			if (it != state_.end()) {
				check_edge(e, it->second, on_damage);
				continue;
			}
			auto &edges = fresh[e.child];
			if (edges.empty())
				to_read.push_back(e.child);
			edges.push_back(&e);
		}
		read_in_batches(
		    io_, to_read,
		    [&](block_address b, const uint8_t *data) {
			    const auto &edges = fresh.at(b);
			    process(*edges.front(), data, pending_, on_leaf, on_damage);
			    if (progress_ && ++nodes_read_ % 4096 == 0)
				    progress_(nodes_read_);
			    for (size_t i = 1; i < edges.size(); i++)
				    check_edge(*edges[i], state_.at(b), on_damage);
		    },
		    &stats_);
	}
}

void btree_census::check_edge(const edge &e, const node_state &s, const damage_handler &on_damage) {
	if (!s.valid) {
		lose(e, "unreadable node", true, on_damage);
		return;
	}
	if (s.nr_entries == 0)
		return;
	if (s.first_key < e.key_lo)
		lose(e, "parent key mismatch: node's first key " + std::to_string(s.first_key) +
		            " is below its parent's key " + std::to_string(e.key_lo),
		     true, on_damage);
	else if (e.key_hi && s.last_key >= *e.key_hi)
		lose(e, "node's last key " + std::to_string(s.last_key) +
		            " is not below the next key of its parent " + std::to_string(*e.key_hi),
		     true, on_damage);
}

void btree_census::process(const edge &e, const uint8_t *data, std::vector<edge> &next,
                           const leaf_handler &on_leaf, const damage_handler &on_damage) {
	node_state &s = state_[e.child];
	if (!data) {
		lose(e, "block is beyond the end of the metadata device", true, on_damage);
		return;
	}
	if (auto problem = btree_node_validator().check(data, e.child)) {
		lose(e, *problem, true, on_damage);
		return;
	}
	node_ref n(data);
	if (n.is_leaf() && n.value_size() != e.value_size) {
		lose(e, "value size mismatch: expected " + std::to_string(e.value_size) + ", got " +
		            std::to_string(n.value_size()),
		     true, on_damage);
		return;
	}
	for (uint32_t i = 1; i < n.nr_entries(); i++)
		if (n.key(i) <= n.key(i - 1)) {
			lose(e, "keys are out of order", true, on_damage);
			return;
		}
	s.valid = true;
	s.leaf = n.is_leaf();
	s.nr_entries = n.nr_entries();
	if (s.nr_entries) {
		s.first_key = n.key(0);
		s.last_key = n.key(s.nr_entries - 1);
	}
	if (n.max_entries() % 3)
		lose(e, "max entries is not divisible by 3", false, on_damage);
	if (check_min_fill_ && !e.is_root && n.nr_entries() < n.max_entries() / 3)
		lose(e, "too few entries in btree_node", false, on_damage);
	check_edge(e, s, on_damage);
	if (observer_)
		observer_(e.tag, e.child, n);

	if (n.is_leaf()) {
		on_leaf(e.tag, e.child, n);
		return;
	}
	auto &kids = children_[e.child];
	kids.reserve(n.nr_entries());
	for (uint32_t i = 0; i < n.nr_entries(); i++) {
		std::optional<uint64_t> hi = i + 1 < n.nr_entries() ? std::optional(n.key(i + 1)) : e.key_hi;
		uint64_t lo = n.key(i);
		next.push_back({n.value64(i), lo, hi, e.value_size, e.tag, false});
		kids.push_back(n.value64(i));
	}
}

uint64_t btree_census::entries_below(block_address root) {
	return fold_below(
	    root,
	    [this](block_address leaf) { return uint64_t(state_.at(leaf).nr_entries); },
	    entries_memo_);
}

std::unordered_map<block_address, uint64_t>
btree_census::paths_from(const std::vector<block_address> &roots) {
	// Reverse post-order of a depth-first walk is a topological order:
	// every parent comes before its children.
	std::vector<block_address> order;
	std::unordered_map<block_address, int> mark; // 1 on the stack, 2 done
	for (block_address r : roots) {
		if (mark[r])
			continue;
		std::vector<std::pair<block_address, size_t>> stack{{r, 0}};
		mark[r] = 1;
		while (!stack.empty()) {
			auto &[b, next] = stack.back();
			auto kids = children_.find(b);
			if (kids != children_.end() && next < kids->second.size()) {
				block_address c = kids->second[next++];
				if (!mark[c]) {
					mark[c] = 1;
					stack.push_back({c, 0});
				}
				continue;
			}
			mark[b] = 2;
			order.push_back(b);
			stack.pop_back();
		}
	}
	std::unordered_map<block_address, uint64_t> paths;
	for (block_address r : roots)
		paths[r]++;
	for (auto it = order.rbegin(); it != order.rend(); ++it) {
		auto kids = children_.find(*it);
		if (kids == children_.end())
			continue;
		uint64_t p = paths[*it];
		for (block_address c : kids->second)
			paths[c] += p;
	}
	return paths;
}

uint64_t btree_census::fold_below(block_address root,
                                  const std::function<uint64_t(block_address)> &leaf_value,
                                  std::unordered_map<block_address, uint64_t> &memo, fold how) {
	// Iterative post-order with memoisation; a node on the current path met
	// again (a cycle) contributes nothing, as does an invalid node.
	if (auto it = memo.find(root); it != memo.end())
		return it->second;
	std::unordered_map<block_address, bool> on_path;
	std::vector<std::pair<block_address, size_t>> stack{{root, 0}};
	on_path[root] = true;
	while (!stack.empty()) {
		auto &[b, next_child] = stack.back();
		auto st = state_.find(b);
		bool valid = st != state_.end() && st->second.valid;
		if (valid && !st->second.leaf) {
			const auto &kids = children_[b];
			if (next_child < kids.size()) {
				block_address c = kids[next_child++];
				if (!memo.count(c) && !on_path[c]) {
					on_path[c] = true;
					stack.push_back({c, 0});
				}
				continue;
			}
			uint64_t acc = 0;
			for (block_address c : kids)
				if (auto m = memo.find(c); m != memo.end())
					acc = how == fold::sum ? acc + m->second : std::max(acc, m->second);
			memo[b] = acc;
		} else
			memo[b] = valid ? leaf_value(b) : 0;
		on_path[b] = false;
		stack.pop_back();
	}
	return memo[root];
}

} // namespace pdata
