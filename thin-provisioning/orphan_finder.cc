#include "thin-provisioning/orphan_finder.h"

#include "base/endian.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_reader.h"
#include "thin-provisioning/device_details.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace thin {
namespace {

using pdata::block_address;

// A key range a device lost, and the damaged node that lost it.
struct lost_range {
	uint64_t dev;
	uint64_t begin, end; // half-open; end UINT64_MAX: to the end
	block_address at;
};

// Records every block a walk reaches, and what the device trees lose.
class reach_visitor : public pdata::btree_visitor {
public:
	reach_visitor(std::unordered_set<block_address> &reached, std::vector<lost_range> *lost, uint64_t dev)
	    : reached_(reached), lost_(lost), dev_(dev) {}
	// Device trees are walked whole even where they share subtrees, so
	// that every device sharing a damaged node records the keys it lost.
	bool visit_internal(const pdata::node_context &c, pdata::node_ref n) override {
		if (reached_.insert(c.block).second && refs)
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				(*refs)[n.value64(i)]++;
		return true;
	}
	void visit_leaf(const pdata::node_context &c, pdata::node_ref) override { reached_.insert(c.block); }
	// References seen from the distinct internal nodes reached (and, for a
	// top-level tree, from its leaves: the device roots).
	std::unordered_map<block_address, uint32_t> *refs = nullptr;
	void damage(const pdata::btree_damage &d) override {
		if (d.fatal && lost_)
			lost_->push_back({dev_, d.lost_begin, d.lost_end, d.block});
	}

protected:
	std::unordered_set<block_address> &reached_;

private:
	std::vector<lost_range> *lost_;
	uint64_t dev_;
};

// The metadata space map's stored count of every block in use; nullopt
// when it cannot be read.
std::optional<std::unordered_map<block_address, uint32_t>> stored_counts(pdata::block_manager &bm,
                                                                         const superblock &sb) {
	pdata::sm_root root = sb.metadata_sm();
	if (!root.nr_blocks)
		return std::nullopt;
	// (On a truncated device, only the blocks left have counts.)
	const uint64_t left = bm.io().nr_blocks();
	return pdata::read_nonzero_counts(bm, pdata::read_metadata_index(bm.io(), root, left), root, left);
}

// Walks the trees SB (and a held snapshot's copy) keeps: marks what they
// reach; collects what the live device trees lose.
// ROOTS (when given): the device roots the top level lists.
void walk_trees(pdata::block_manager &bm, const superblock &sb, std::unordered_set<block_address> &reached,
                std::unordered_map<block_address, uint32_t> &refs, std::vector<lost_range> *lost,
                std::vector<std::pair<uint64_t, block_address>> *roots = nullptr,
                const std::map<uint64_t, block_address> *top_level_as_leaf = nullptr) {
	reach_visitor details(reached, nullptr, 0);
	details.refs = &refs;
	pdata::walk_btree(bm, sb.device_details_root, {DEVICE_DETAILS_SIZE, false}, details);
	// The top level, keeping device ids with their roots.
	class top_visitor : public reach_visitor {
	public:
		using reach_visitor::reach_visitor;
		void visit_leaf(const pdata::node_context &c, pdata::node_ref n) override {
			// A leaf the live and the snapshot's top levels share holds
			// one reference to each root, however often it is walked.
			bool first = reached_.insert(c.block).second;
			for (uint32_t i = 0; i < n.nr_entries(); i++) {
				roots.push_back({n.key(i), n.value64(i)});
				if (first)
					(*refs)[n.value64(i)]++;
			}
		}
		std::vector<std::pair<uint64_t, block_address>> roots;
	} top(reached, nullptr, 0);
	top.refs = &refs;
	if (top_level_as_leaf) {
		// (Its flags say internal; walked as such it would take mappings
		// for device roots.  It holds one reference to each root.)
		reached.insert(sb.data_mapping_root);
		for (const auto &[dev, root] : *top_level_as_leaf) {
			top.roots.push_back({dev, root});
			refs[root]++;
		}
	} else {
		pdata::walk_btree(bm, sb.data_mapping_root, {MAPPING_VALUE_SIZE, false}, top);
	}
	if (roots)
		*roots = top.roots;
	for (const auto &[dev, root] : top.roots) {
		reach_visitor v(reached, lost, dev);
		v.refs = &refs;
		pdata::walk_btree(bm, root, {MAPPING_VALUE_SIZE, false}, v);
	}
}

// Mappings in the tree at ROOT.
uint64_t entries_in(pdata::block_manager &bm, block_address root) {
	class counter : public pdata::btree_visitor {
	public:
		void visit_leaf(const pdata::node_context &, pdata::node_ref n) override { entries += n.nr_entries(); }
		void damage(const pdata::btree_damage &) override {}
		uint64_t entries = 0;
	} c;
	pdata::walk_btree(bm, root, {MAPPING_VALUE_SIZE, false}, c);
	return c.entries;
}

// Device roots named by more top-level entries (and other parents) than
// the space map counts: the tree goes to the one device whose details fit
// it; the others drop it, each losing its whole key range there.
void resolve_aliases(pdata::block_manager &bm, const std::unordered_map<block_address, uint32_t> &counts,
                     const std::vector<std::pair<uint64_t, block_address>> &roots,
                     const std::map<uint64_t, device_details> &details,
                     std::unordered_map<block_address, uint32_t> &refs, std::vector<lost_range> &lost,
                     orphan_mappings &out) {
	std::map<block_address, std::vector<uint64_t>> devs_of;
	for (const auto &[dev, root] : roots)
		devs_of[root].push_back(dev);
	for (const auto &[root, devs] : devs_of) {
		auto c = counts.find(root);
		uint32_t counted = c == counts.end() ? 0 : c->second;
		if (devs.size() < 2 || refs[root] <= counted)
			continue;
		uint64_t entries = entries_in(bm, root);
		std::vector<uint64_t> fit;
		for (uint64_t d : devs)
			if (auto it = details.find(d); it != details.end() && it->second.mapped_blocks == entries)
				fit.push_back(d);
		std::string what = "mapping tree at block " + std::to_string(root) + " is named by " +
		                   std::to_string(devs.size()) + " thin devices but counted " +
		                   std::to_string(counted) + " times";
		if (fit.size() != 1) {
			out.notes.push_back(what + ": no single device's details fit its " + std::to_string(entries) +
			                    " mappings, so all keep it");
			continue;
		}
		for (uint64_t d : devs) {
			if (d == fit.front())
				continue;
			out.dropped[d] = root;
			refs[root]--;
			lost.push_back({d, 0, UINT64_MAX, root});
			out.notes.push_back(what + ": kept by thin device " + std::to_string(fit.front()) +
			                    " (its mapped_blocks fit), thin device " + std::to_string(d) +
			                    " rebuilt from its own orphaned nodes");
		}
	}
}

struct candidate {
	bool leaf;
	bool reached; // also reached from a readable tree (a shared node)
	std::vector<block_address> children;
};

// Mapping nodes counted more often than the readable trees point at them
// (a parent of theirs is lost; unreached ones lost every parent), and of
// those the tops: the ones no other unreached candidate points at.
struct orphan_tops {
	std::unordered_map<block_address, candidate> cands;
	std::vector<block_address> tops; // ascending
};

orphan_tops find_tops(pdata::block_manager &bm, const std::unordered_map<block_address, uint32_t> &counts,
                      const std::unordered_map<block_address, uint32_t> &refs,
                      const std::unordered_set<block_address> &reached, block_address claimed) {
	orphan_tops out;
	std::vector<block_address> short_of_parents;
	for (const auto &[b, c] : counts) {
		auto r = refs.find(b);
		if (c > (r == refs.end() ? 0 : r->second))
			short_of_parents.push_back(b);
	}
	pdata::read_in_batches(bm.io(), short_of_parents, [&](block_address b, const uint8_t *data) {
		if (!data || pdata::btree_node_validator().check(data, b))
			return;
		pdata::node_ref nd(data);
		if (nd.value_size() != MAPPING_VALUE_SIZE)
			return;
		candidate c{nd.is_leaf(), reached.count(b) != 0, {}};
		bool small = true;
		for (uint32_t i = 0; i < nd.nr_entries(); i++) {
			if (!nd.is_leaf())
				c.children.push_back(nd.value64(i));
			small = small && nd.value64(i) < claimed;
		}
		if (nd.is_leaf() && small && nd.nr_entries() > 1)
			return; // a top-level leaf (device roots), not mappings
		out.cands[b] = std::move(c);
	});
	// A candidate below an unreached candidate comes back with it.
	std::unordered_set<block_address> has_parent;
	for (const auto &[b, c] : out.cands)
		if (!c.reached)
			for (block_address k : c.children)
				has_parent.insert(k);
	for (const auto &[b, c] : out.cands)
		if (!has_parent.count(b))
			out.tops.push_back(b);
	std::sort(out.tops.begin(), out.tops.end());
	return out;
}

// The device roots a top level whose checksum fails still lists, read
// without the checksum (a flipped bit elsewhere in the node leaves them
// intact).  Only nodes whose structure holds are read: a sound header,
// their own block number, 8-byte values, keys ascending.  What they say is
// a hint that identify_roots cross-checks, never taken on trust.
std::map<uint64_t, block_address> unchecked_top_level(pdata::block_io &io, block_address root) {
	std::map<uint64_t, block_address> out;
	std::vector<uint8_t> data(pdata::BLOCK_SIZE);
	std::vector<block_address> stack{root};
	std::unordered_set<block_address> seen;
	while (!stack.empty()) {
		block_address b = stack.back();
		stack.pop_back();
		// (A top level is two levels deep for thousands of devices; a
		// bound keeps a damaged one from leading anywhere.)
		if (b >= io.nr_blocks() || !seen.insert(b).second || seen.size() > 4096)
			continue;
		io.read(b, 1, data.data());
		pdata::node_ref nd(data.data());
		if (nd.header_problem() || nd.blocknr() != b || nd.value_size() != MAPPING_VALUE_SIZE ||
		    !nd.keys_ascending())
			continue;
		for (uint32_t i = 0; i < nd.nr_entries(); i++) {
			if (nd.is_internal())
				stack.push_back(nd.value64(i));
			else
				out[nd.key(i)] = nd.value64(i);
		}
	}
	return out;
}

// Where a device's lost root may be named: the damaged live top level read
// without its checksum, then the metadata snapshot's top level.
struct root_hints {
	std::string source; // "the damaged top level", ...
	bool alone;         // names a device's root even when others of its count are not named
	std::map<uint64_t, block_address> roots;
};

// The roots that the other top levels on the device (mostly copies the
// kernel replaced: a device's root changes only when it is written, so an
// older copy still names the current root of every device not written
// since) name for one device only, among the orphaned trees TOPS: tree T
// for device D when every such top level naming T names it for D and none
// names another orphaned tree for D.  (An origin and its snapshot share a
// root until one is written: a copy from then names it for both, and it is
// not used for either.)
std::map<uint64_t, block_address> exclusively_named(const std::vector<std::map<uint64_t, block_address>> &tops_found,
                                                    const orphan_tops &tops) {
	std::unordered_set<block_address> orphaned(tops.tops.begin(), tops.tops.end());
	std::map<uint64_t, std::set<block_address>> trees_of;
	std::map<block_address, std::set<uint64_t>> devs_of;
	for (const auto &top : tops_found)
		for (const auto &[dev, root] : top)
			if (orphaned.count(root)) {
				trees_of[dev].insert(root);
				devs_of[root].insert(dev);
			}
	std::map<uint64_t, block_address> out;
	for (const auto &[dev, trees] : trees_of)
		if (trees.size() == 1 && devs_of[*trees.begin()].size() == 1)
			out[dev] = *trees.begin();
	return out;
}

// Devices whose details are read but whose top-level entry is lost (the
// top level is damaged): each gets the orphaned tree whose mapping count is
// its mapped_blocks, when that is unambiguous.  Several devices of one
// count share one tree only as far as its missing references allow (fresh
// snapshots share their origin's root).  Several trees of one count are
// told apart only by a hint naming one of them for the device (the first
// hint that does, within the tree's missing references).  A hint from the
// metadata snapshot counts only when every such device is named: a device
// made since the snapshot may hold a root the snapshot gave another device.
// The damaged live top level speaks for each of its devices alone (a
// flipped bit in one entry says nothing about the others).
std::map<uint64_t, block_address>
identify_roots(pdata::block_manager &bm, const std::unordered_map<block_address, uint32_t> &counts,
               const std::unordered_map<block_address, uint32_t> &refs, const orphan_tops &tops,
               const std::vector<uint64_t> &rootless, const std::map<uint64_t, device_details> &details,
               const std::vector<root_hints> &hints, std::vector<std::string> &notes) {
	std::map<uint64_t, block_address> found;
	std::map<uint64_t, std::vector<uint64_t>> devs_by_count;
	for (uint64_t d : rootless)
		devs_by_count[details.at(d).mapped_blocks].push_back(d);
	std::map<uint64_t, std::vector<block_address>> trees_by_count;
	std::map<block_address, uint32_t> missing; // references a lost parent made
	for (block_address t : tops.tops) {
		auto r = refs.find(t);
		missing[t] = counts.at(t) - (r == refs.end() ? 0 : r->second);
		trees_by_count[entries_in(bm, t)].push_back(t);
	}
	auto name = [](uint64_t d) { return "thin device " + std::to_string(d); };
	for (const auto &[count, devs] : devs_by_count) {
		auto t = trees_by_count.find(count);
		std::string what = std::to_string(count) + " mappings";
		if (t == trees_by_count.end()) {
			for (uint64_t d : devs)
				notes.push_back(name(d) + ": no orphaned mapping tree holds its " + what +
				                ": its mappings are lost");
			continue;
		}
		const auto &trees = t->second;
		if (trees.size() == 1 && missing[trees.front()] >= devs.size()) {
			for (uint64_t d : devs) {
				found[d] = trees.front();
				notes.push_back(name(d) + ": mapping root found at block " + std::to_string(trees.front()) +
				                " (the only orphaned tree of its " + what + ")");
			}
			continue;
		}
		// Each device's root from the first hint that names a fitting
		// tree.  A hint naming one tree for more devices than lost it is
		// wrong about some of them, and nothing tells which: it is not used
		// for this count.
		std::map<block_address, uint32_t> use;
		std::map<uint64_t, std::pair<block_address, size_t>> named; // dev -> (tree, hint)
		std::vector<bool> usable(hints.size());
		for (size_t h = 0; h < hints.size(); h++) {
			std::map<block_address, uint32_t> names;
			usable[h] = true;
			for (uint64_t d : devs)
				if (auto s = hints[h].roots.find(d); s != hints[h].roots.end() && missing.count(s->second))
					usable[h] = usable[h] && ++names[s->second] <= missing[s->second];
			if (!usable[h])
				notes.push_back(hints[h].source + " names one tree for more thin devices of " + what +
				                " than lost it: not used for them");
		}
		for (uint64_t d : devs)
			for (size_t h = 0; h < hints.size(); h++) {
				auto s = hints[h].roots.find(d);
				if (!usable[h] || s == hints[h].roots.end() ||
				    std::find(trees.begin(), trees.end(), s->second) == trees.end() ||
				    use[s->second] >= missing[s->second])
					continue;
				use[s->second]++;
				named[d] = {s->second, h};
				break;
			}
		bool all = named.size() == devs.size();
		std::vector<uint64_t> unnamed;
		for (uint64_t d : devs) {
			auto n = named.find(d);
			if (n != named.end() && (all || hints[n->second.second].alone)) {
				found[d] = n->second.first;
				notes.push_back(name(d) + ": mapping root found at block " + std::to_string(found[d]) +
				                " (an orphaned tree of its " + what + " " + hints[n->second.second].source +
				                " names for it)");
			} else {
				if (n != named.end())
					use[n->second.first]--; // (a hint not taken holds no place)
				unnamed.push_back(d);
			}
		}
		// The last device of a count and the last tree of it with a
		// reference to spare belong together: every other tree of the
		// count went to a device that lost its root.
		std::vector<block_address> spare;
		for (block_address tr : trees)
			for (uint32_t i = use[tr]; i < missing[tr]; i++)
				spare.push_back(tr);
		if (unnamed.size() == 1 && spare.size() == 1 && unnamed.size() < devs.size()) {
			found[unnamed.front()] = spare.front();
			notes.push_back(name(unnamed.front()) + ": mapping root found at block " +
			                std::to_string(spare.front()) + " (the one orphaned tree of its " + what +
			                " left when the other devices of that count had theirs)");
			continue;
		}
		for (uint64_t d : unnamed)
			notes.push_back(name(d) + ": " + std::to_string(trees.size()) + " orphaned trees of its " + what +
			                " could be its own and nothing tells which: its mappings are left out");
	}
	return found;
}

} // namespace

orphan_mappings find_orphans(pdata::block_manager &bm, const superblock &sb,
                             const std::map<uint64_t, device_details> &details,
                             const std::vector<std::map<uint64_t, block_address>> &other_top_levels,
                             const std::map<uint64_t, block_address> *top_level_as_leaf) {
	orphan_mappings out;
	auto counts = stored_counts(bm, sb);
	if (!counts) {
		// (A lost superblock took the space map's root with it: the trees
		// were found by scanning, and every mapping they reach is kept.)
		out.notes.push_back(sb.metadata_sm().nr_blocks
		                        ? "metadata space map unreadable: orphaned mapping subtrees not searched"
		                        : "the metadata space map's root was in the lost superblock: mapping subtrees "
		                          "cut off from the trees found are not searched");
		return out;
	}
	// (A truncated device's top level names roots past its end.)
	const block_address claimed = std::max<block_address>(bm.nr_blocks(), sb.metadata_nr_blocks);
	std::unordered_set<block_address> reached;
	std::unordered_map<block_address, uint32_t> refs;
	std::vector<lost_range> lost;
	std::vector<std::pair<uint64_t, block_address>> device_roots, snapshot_roots;
	bool snapshot_unreadable = false;
	walk_trees(bm, sb, reached, refs, &lost, &device_roots, top_level_as_leaf);
	if (sb.metadata_snap) {
		// Trees a held metadata snapshot keeps are in use, not orphans:
		// when they cannot be read, none can be told from an orphan.
		std::vector<uint8_t> b(pdata::BLOCK_SIZE);
		bool readable = sb.metadata_snap < bm.nr_blocks();
		if (readable) {
			bm.io().read(sb.metadata_snap, 1, b.data());
			readable = superblock_problems(b.data(), sb.metadata_snap, claimed).empty();
		}
		if (readable)
			walk_trees(bm, decode_superblock(b.data()), reached, refs, nullptr, &snapshot_roots);
		else
			snapshot_unreadable = true;
	}
	// (Without the snapshot's references an alias can be missed, never
	// made up: it is found by references above the stored count.)
	resolve_aliases(bm, *counts, device_roots, details, refs, lost, out);
	if (snapshot_unreadable) {
		out.notes.push_back("metadata snapshot superblock (block " + std::to_string(sb.metadata_snap) +
		                    ") unreadable: its trees cannot be told from orphaned ones, which are not searched");
		return out;
	}

	// Devices the damaged top level lost: their roots are orphans too.
	std::set<uint64_t> rooted;
	for (const auto &[dev, root] : device_roots)
		rooted.insert(dev);
	std::vector<uint64_t> rootless;
	for (const auto &[dev, d] : details)
		if (!rooted.count(dev))
			rootless.push_back(dev);
	if (!rootless.empty()) {
		auto tops = find_tops(bm, *counts, refs, reached, claimed);
		std::vector<root_hints> hints;
		hints.push_back({"the damaged top level", true, unchecked_top_level(bm.io(), sb.data_mapping_root)});
		hints.push_back({"a top level the kernel replaced", true, exclusively_named(other_top_levels, tops)});
		hints.push_back({"the metadata snapshot", false, {snapshot_roots.begin(), snapshot_roots.end()}});
		out.found_roots = identify_roots(bm, *counts, refs, tops, rootless, details, hints, out.notes);
		for (const auto &[dev, root] : out.found_roots) {
			refs[root]++;
			reach_visitor v(reached, &lost, dev);
			v.refs = &refs;
			pdata::walk_btree(bm, root, {MAPPING_VALUE_SIZE, false}, v);
		}
	}
	if (lost.empty())
		return out; // nothing is missing, so nothing can be an orphan of it

	auto tops = find_tops(bm, *counts, refs, reached, claimed);
	const auto &roots = tops.tops;
	for (block_address r : roots) {
		class keys_visitor : public pdata::btree_visitor {
		public:
			void visit_leaf(const pdata::node_context &, pdata::node_ref nd) override {
				for (uint32_t i = 0; i < nd.nr_entries(); i++)
					entries.push_back({nd.key(i), nd.value64(i)});
			}
			void damage(const pdata::btree_damage &) override {}
			std::vector<std::pair<uint64_t, uint64_t>> entries;
		} keys;
		pdata::walk_btree(bm, r, {MAPPING_VALUE_SIZE, false}, keys);
		if (keys.entries.empty())
			continue;
		uint64_t first = keys.entries.front().first, last = keys.entries.back().first;
		std::string what = "orphaned mapping subtree at block " + std::to_string(r) + " (keys " +
		                   std::to_string(first) + ".." + std::to_string(last) + ", " +
		                   std::to_string(keys.entries.size()) + " mappings)";
		std::set<block_address> at;
		std::set<uint64_t> devs;
		for (const auto &l : lost)
			if (first >= l.begin && (l.end == UINT64_MAX || last < l.end)) {
				at.insert(l.at);
				devs.insert(l.dev);
			}
		if (at.size() != 1) {
			out.notes.push_back(what + (at.empty() ? " fits no device's lost keys"
			                                       : " fits keys lost by several damaged nodes") +
			                    ": left out");
			continue;
		}
		std::string to;
		for (uint64_t d : devs) {
			auto &m = out.by_device[d];
			m.insert(m.end(), keys.entries.begin(), keys.entries.end());
			to += (to.empty() ? "" : ", ") + std::to_string(d);
		}
		out.notes.push_back(what + " recovered for thin device" + (devs.size() > 1 ? "s " : " ") + to);
	}
	for (auto &[d, m] : out.by_device) {
		std::sort(m.begin(), m.end());
		m.erase(std::unique(m.begin(), m.end(), [](const auto &a, const auto &b) { return a.first == b.first; }),
		        m.end());
	}
	return out;
}

} // namespace thin
