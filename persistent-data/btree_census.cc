#include "persistent-data/btree_census.h"

#include "persistent-data/btree_node_checks.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <unordered_set>

namespace pdata {

btree_census::btree_census(block_io &io, count_array &refs)
    : io_(io), refs_(refs), state_(io.nr_blocks(), 0) {}

uint16_t btree_census::state(block_address b) const {
	if (b < state_.size())
		return state_[b];
	auto it = state_beyond_.find(b);
	return it == state_beyond_.end() ? 0 : it->second;
}

void btree_census::set_state(block_address b, uint16_t s) {
	if (b < state_.size())
		state_[b] = s;
	else
		state_beyond_[b] = s;
}

btree_census::node_keys btree_census::keys_of(node_ref n) {
	uint32_t nr = n.nr_entries();
	return {nr, nr ? n.key(0) : 0, nr ? n.key(nr - 1) : 0};
}

uint32_t btree_census::tag_index(uint64_t tag) {
	auto [it, added] = tag_indices_.try_emplace(tag, uint32_t(tags_.size()));
	if (added) {
		tags_.push_back(tag);
		tag_ranks_.push_back(rank_ ? rank_(tag) : 0);
	}
	return it->second;
}

void btree_census::set_tag_rank(std::function<int(uint64_t tag)> rank) {
	rank_ = std::move(rank);
	for (size_t i = 0; i < tags_.size(); i++)
		tag_ranks_[i] = rank_ ? rank_(tags_[i]) : 0;
}

void btree_census::add_root(block_address root, uint32_t value_size, uint64_t tag) {
	// (Value sizes are below a block's size, so fit the edge's 16 bits.)
	pending_.push_back({root, 0, 0, tag_index(tag), uint16_t(std::min<uint32_t>(value_size, 0xffff)), false, true});
}

void btree_census::lose(const edge &e, const std::string &reason, bool fatal,
                        const damage_handler &on_damage) {
	btree_damage d;
	d.block = e.child;
	d.lost_begin = fatal ? e.key_lo : 0;
	d.lost_end = fatal ? (e.has_hi ? e.key_hi : UINT64_MAX) : 0;
	d.reason = reason;
	d.fatal = fatal;
	on_damage(tags_[e.tag], d);
}

// What process() would otherwise find on the caller's thread, found by the
// thread that reads (the checksum is computed there anyway): a node's
// header, a leaf's value size against what its first edge expects, the
// order of its keys.  Then the leaf digest, the leaf's bytes still in that
// core's cache.
class btree_census::inspector {
public:
	// LEVEL: the level's edges, sorted by child; FIRST_EDGE: for each node
	// to read (in block order), the index in LEVEL of the first edge into
	// it, whose expectations count.  HANDLE: one flag per edge, set for the
	// first edge into each leaf to the digest's answer (empty without a
	// digest).  TAGS: the census's tags, copied, since a leaf handler may
	// add to them while this runs.
	inspector(const std::vector<edge> &level, const std::vector<uint32_t> &first_edge, const leaf_digest &digest,
	          std::vector<uint8_t> &handle, std::vector<uint64_t> tags)
	    : level_(level), first_edge_(first_edge), digest_(digest), handle_(handle), tags_(std::move(tags)) {}

	// The node at WHERE, the INDEX-th to read.
	std::optional<std::string> operator()(size_t index, block_address where, const uint8_t *data) const {
		if (auto problem = btree_node_validator().check(data, where))
			return problem;
		node_ref n(data);
		uint32_t first = first_edge_[index];
		const edge &e = level_[first];
		if (auto problem = node_shape_problem(n, e.value_size))
			return problem;
		if (n.is_leaf() && digest_)
			handle_[first] = digest_(tags_[e.tag], where, n);
		return std::nullopt;
	}

private:
	const std::vector<edge> &level_;
	const std::vector<uint32_t> &first_edge_;
	const leaf_digest &digest_;
	std::vector<uint8_t> &handle_; // distinct bytes: written by one thread, read after delivery
	const std::vector<uint64_t> tags_;
};

void btree_census::run(const leaf_handler &on_leaf, const damage_handler &on_damage) {
	while (!pending_.empty()) {
		std::vector<edge> level;
		level.swap(pending_);
		// Group the edges by the node they point at, in block order (the
		// order the batch reader delivers), the lowest-ranked tag first.
		// (In place: a stable sort would want a second level's worth of
		// memory; the full key keeps the order deterministic.)
		std::sort(level.begin(), level.end(), [this](const edge &a, const edge &b) {
			if (a.child != b.child)
				return a.child < b.child;
			int ra = tag_ranks_[a.tag], rb = tag_ranks_[b.tag];
			if (ra != rb)
				return ra < rb;
			return std::tie(tags_[a.tag], a.key_lo, a.key_hi, a.has_hi, a.is_root) <
			       std::tie(tags_[b.tag], b.key_lo, b.key_hi, b.has_hi, b.is_root);
		});
		// Count every reference, and check the edges into nodes already
		// known; list the nodes seen for the first time.
		std::vector<block_address> to_read; // (sorted, distinct)
		std::vector<uint32_t> first_edge;   // of each, in LEVEL
		std::vector<edge> late; // into nodes read in an earlier level
		for (size_t k = 0; k < level.size(); k++) {
			const edge &e = level[k];
			if (e.child < refs_.size())
				refs_.inc(e.child);
			uint16_t st = state(e.child);
			if (!(st & SEEN)) {
				if (to_read.empty() || to_read.back() != e.child) {
					to_read.push_back(e.child);
					first_edge.push_back(uint32_t(k));
				}
			} else if (!(st & VALID))
				lose(e, "unreadable node", true, on_damage);
			else if (st & ENTRIES)
				late.push_back(e);
		}
		size_t cursor = 0;
		// (The node checks, checksum first, are made as nodes are read,
		// mostly on the read-ahead thread; with a digest, by whichever
		// thread read the node, so both read.)
		std::vector<uint8_t> handle(digest_ ? level.size() : 0, 1);
		inspector inspect(level, first_edge, digest_, handle, digest_ ? tags_ : std::vector<uint64_t>());
		read_in_batches(
		    io_, std::move(to_read), indexed_check(std::cref(inspect)),
		    [&](block_address b, const uint8_t *data, const std::optional<std::string> &problem) {
			    while (level[cursor].child != b)
				    cursor++;
			    size_t first = cursor;
			    process(level[first], data, problem, handle.empty() || handle[first], pending_, on_leaf,
			            on_damage);
			    if (progress_ && ++nodes_read_ % 4096 == 0)
				    progress_(nodes_read_);
			    bool valid = state(b) & VALID;
			    while (++cursor < level.size() && level[cursor].child == b) {
				    if (!valid)
					    lose(level[cursor], "unreadable node", true, on_damage);
				    else
					    check_edge(level[cursor], keys_of(node_ref(data)), on_damage);
			    }
		    },
		    &stats_, digest_ ? readers::both : readers::one);
		check_late_edges(late, on_damage);
	}
}

void btree_census::check_late_edges(const std::vector<edge> &late, const damage_handler &on_damage) {
	if (late.empty())
		return;
	std::vector<block_address> blocks;
	for (const auto &e : late)
		if (blocks.empty() || blocks.back() != e.child)
			blocks.push_back(e.child);
	size_t cursor = 0;
	read_in_batches(
	    io_, blocks,
	    [&](block_address b, const uint8_t *data) {
		    while (late[cursor].child != b)
			    cursor++;
		    for (; cursor < late.size() && late[cursor].child == b; cursor++)
			    check_edge(late[cursor], keys_of(node_ref(data)), on_damage);
	    },
	    &stats_);
}

void btree_census::check_edge(const edge &e, const node_keys &k, const damage_handler &on_damage) {
	if (auto problem = key_range_problem(k.nr_entries, k.first, k.last, e.key_lo,
	                                     e.has_hi ? std::optional<uint64_t>(e.key_hi) : std::nullopt))
		lose(e, *problem, true, on_damage);
}

void btree_census::process(const edge &e, const uint8_t *data, const std::optional<std::string> &problem,
                           bool handle_leaf, std::vector<edge> &next, const leaf_handler &on_leaf,
                           const damage_handler &on_damage) {
	set_state(e.child, SEEN);
	if (!data) {
		lose(e, beyond_device_text(), true, on_damage);
		return;
	}
	if (problem) {
		lose(e, *problem, true, on_damage);
		return;
	}
	node_ref n(data);
	set_state(e.child, uint16_t(SEEN | VALID | (n.is_leaf() ? LEAF : 0) | (n.nr_entries() & ENTRIES)));
	if (auto problem = max_entries_problem(n))
		lose(e, *problem, false, on_damage);
	if (auto problem = check_min_fill_ ? fill_problem(n, e.is_root) : std::nullopt)
		lose(e, *problem, false, on_damage);
	check_edge(e, keys_of(n), on_damage);
	if (observer_)
		observer_(tags_[e.tag], e.child, n);

	if (n.is_leaf()) {
		if (handle_leaf)
			on_leaf(tags_[e.tag], e.child, n);
		return;
	}
	auto &kids = children_[e.child];
	kids.reserve(n.nr_entries());
	for (uint32_t i = 0; i < n.nr_entries(); i++) {
		bool last = i + 1 == n.nr_entries();
		next.push_back({n.value64(i), n.key(i), last ? e.key_hi : n.key(i + 1), e.tag, e.value_size,
		                last ? e.has_hi : true, false});
		kids.push_back(n.value64(i));
	}
}

std::vector<block_address> btree_census::leaves_below(block_address root) const {
	std::vector<block_address> leaves, stack{root};
	std::unordered_set<block_address> met{root}; // (cycles and shared subtrees)
	while (!stack.empty()) {
		block_address b = stack.back();
		stack.pop_back();
		uint16_t st = state(b);
		if (!(st & VALID))
			continue;
		if (st & LEAF) {
			leaves.push_back(b);
			continue;
		}
		auto kids = children_.find(b);
		if (kids == children_.end())
			continue;
		for (block_address c : kids->second)
			if (met.insert(c).second)
				stack.push_back(c);
	}
	return leaves;
}

uint64_t btree_census::entries_below(block_address root) {
	return fold_below(
	    root,
	    [this](block_address leaf) { return uint64_t(state(leaf) & ENTRIES); },
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
	// Iterative post-order over the internal nodes, memoised (leaves are
	// asked directly: memoising them would cost a map entry per leaf).  A
	// node on the current path met again (a cycle) contributes nothing, as
	// does an invalid node.
	auto value_of_leaf = [&](block_address b, bool &internal) -> uint64_t {
		uint16_t st = state(b);
		internal = (st & VALID) && !(st & LEAF);
		if (internal)
			return 0;
		return (st & VALID) ? leaf_value(b) : 0;
	};
	auto combine = [how](uint64_t acc, uint64_t v) { return how == fold::sum ? acc + v : std::max(acc, v); };
	bool internal = false;
	uint64_t direct = value_of_leaf(root, internal);
	if (!internal)
		return direct;
	if (auto it = memo.find(root); it != memo.end())
		return it->second;
	struct frame {
		block_address b;
		size_t next_child;
		uint64_t acc;
	};
	std::unordered_map<block_address, bool> on_path{{root, true}};
	std::vector<frame> stack{{root, 0, 0}};
	while (!stack.empty()) {
		frame &f = stack.back();
		const auto &kids = children_[f.b];
		if (f.next_child < kids.size()) {
			block_address c = kids[f.next_child++];
			uint64_t v = value_of_leaf(c, internal);
			if (!internal)
				f.acc = combine(f.acc, v);
			else if (auto m = memo.find(c); m != memo.end())
				f.acc = combine(f.acc, m->second);
			else if (!on_path[c]) {
				on_path[c] = true;
				stack.push_back({c, 0, 0});
			}
			continue;
		}
		memo[f.b] = f.acc;
		on_path[f.b] = false;
		uint64_t done = f.acc;
		stack.pop_back();
		if (!stack.empty())
			stack.back().acc = combine(stack.back().acc, done);
	}
	return memo[root];
}

} // namespace pdata
