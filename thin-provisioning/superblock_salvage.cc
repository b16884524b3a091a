#include "thin-provisioning/superblock_salvage.h"

#include "base/endian.h"
#include "base/error.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_reader.h"
#include "thin-provisioning/device_details.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace thin {
namespace {

using pdata::block_address;
using pdata::node_ref;

const char NEEDS_FIELD[] =
    "The following field needs to be provided on the command line due to corruption in the superblock: ";

// What one scan of the device learns.
struct scan {
	struct node {
		uint32_t value_size;
		bool leaf;
		uint32_t nr_entries;
	};
	std::unordered_map<block_address, node> nodes;
	std::unordered_map<block_address, std::vector<block_address>> children; // internal nodes
	std::unordered_set<block_address> referenced;                           // by an internal node
	// Leaves of 8-byte values that all look like block numbers: top-level
	// leaves (device id -> mapping root), or a mapping leaf of data block 0.
	std::unordered_map<block_address, std::vector<std::pair<uint64_t, block_address>>> small_leaves;
	std::unordered_map<block_address, std::vector<std::pair<uint64_t, device_details>>> details_leaves;
	std::optional<uint64_t> max_data_block;
	uint32_t max_time = 0;
	std::vector<superblock> copies; // sound superblocks found anywhere (metadata snapshots)
};

// CLAIMED: the number of blocks the pool's metadata had (a value below it
// may be a block number).
scan scan_device(pdata::block_io &io, block_address claimed) {
	scan s;
	const block_address n = io.nr_blocks();
	// (A sparse file's holes are zeros: no node, no superblock there.)
	std::vector<block_address> all;
	for (auto [begin, end] : io.written_extents())
		for (block_address b = begin; b < end; b++)
			all.push_back(b);
	pdata::read_in_batches(io, std::move(all), [&](block_address b, const uint8_t *data) {
		if (!data)
			return;
		if (superblock_problems(data, b, n).empty()) {
			s.copies.push_back(decode_superblock(data));
			return;
		}
		// (A leaf whose header is wrong under a sound checksum counts as
		// the leaf its place says it is: leaf_by_position.)
		std::vector<uint8_t> mended;
		if (pdata::btree_node_validator().check(data, b)) {
			static const pdata::checksum_validator sound("btree node", pdata::salt::btree_node, 8);
			uint32_t vs = base::load_le32(data + 24);
			std::string what;
			std::optional<std::vector<uint8_t>> leaf;
			if (!sound.check(data, b) && (vs == DEVICE_DETAILS_SIZE || vs == MAPPING_VALUE_SIZE))
				leaf = pdata::leaf_by_position(data, vs, 0, std::nullopt, what);
			if (!leaf)
				return;
			mended = std::move(*leaf);
			data = mended.data();
		}
		node_ref nd(data);
		if (!nd.keys_ascending())
			return; // not a node we can use
		uint32_t nr = nd.nr_entries();
		s.nodes[b] = {nd.value_size(), nd.is_leaf(), nr};
		if (!nd.is_leaf()) {
			auto &kids = s.children[b];
			for (uint32_t i = 0; i < nr; i++) {
				kids.push_back(nd.value64(i));
				s.referenced.insert(nd.value64(i));
			}
			return;
		}
		if (nd.value_size() == DEVICE_DETAILS_SIZE) {
			auto &v = s.details_leaves[b];
			for (uint32_t i = 0; i < nr; i++)
				v.push_back({nd.key(i), decode_device_details(nd.value(i))});
			return;
		}
		if (nd.value_size() != MAPPING_VALUE_SIZE)
			return;
		bool small = true;
		for (uint32_t i = 0; i < nr && small; i++)
			small = nd.value64(i) < claimed;
		if (small) {
			auto &v = s.small_leaves[b];
			for (uint32_t i = 0; i < nr; i++)
				v.push_back({nd.key(i), nd.value64(i)});
		}
		// Mapping evidence (harmless for top-level leaves: their values are
		// small, so they add nothing above what real mappings show).
		if (!small)
			for (uint32_t i = 0; i < nr; i++) {
				auto bt = unpack_block_time(nd.value64(i));
				s.max_data_block = std::max(s.max_data_block.value_or(0), bt.data_block);
				s.max_time = std::max(s.max_time, bt.time);
			}
	});
	return s;
}

enum class tree_kind { none, details, top_level };

// A candidate tree: its kind and what its leaves hold.
struct tree {
	tree_kind kind = tree_kind::none;
	std::map<uint64_t, device_details> details;    // details trees
	std::map<uint64_t, block_address> mapping_roots; // top-level trees
};

class classifier {
public:
	explicit classifier(const scan &s) : s_(s) {}

	tree classify(block_address root) {
		tree t;
		// Most unreferenced nodes are mapping-tree roots: their first leaf
		// tells, without walking them.
		block_address b = root;
		for (int depth = 0; depth < 64; depth++) {
			auto it = s_.nodes.find(b);
			if (it == s_.nodes.end())
				return t;
			if (it->second.leaf)
				break;
			const auto &kids = s_.children.at(b);
			if (kids.empty())
				return t;
			b = kids.front();
		}
		if (!s_.details_leaves.count(b) && !s_.small_leaves.count(b))
			return t;
		std::vector<block_address> leaves;
		if (!collect_leaves(root, leaves) || leaves.empty())
			return t;
		const auto &first = s_.nodes.at(leaves.front());
		if (first.value_size == DEVICE_DETAILS_SIZE) {
			for (block_address l : leaves) {
				auto it = s_.details_leaves.find(l);
				if (it == s_.details_leaves.end())
					return t;
				for (const auto &[dev, d] : it->second)
					t.details[dev] = d;
			}
			t.kind = tree_kind::details;
			return t;
		}
		// A top-level value is the root of a mapping tree: a node of 8-byte
		// values.  Some roots may be damaged (the devices lose their
		// mappings, not their place), but a tree none of whose values is a
		// mapping root is something else.
		size_t valid_roots = 0;
		for (block_address l : leaves) {
			auto it = s_.small_leaves.find(l);
			if (it == s_.small_leaves.end())
				return t;
			for (const auto &[dev, r] : it->second) {
				auto nd = s_.nodes.find(r);
				if (nd != s_.nodes.end() && nd->second.value_size == MAPPING_VALUE_SIZE)
					valid_roots++;
				t.mapping_roots[dev] = r;
			}
		}
		if (!t.mapping_roots.empty() && !valid_roots) {
			t.mapping_roots.clear();
			return t;
		}
		t.kind = tree_kind::top_level;
		return t;
	}

private:
	// Leaves below ROOT, all of one value size; false if the subtree is not
	// whole (a child is not a node, a cycle, mixed value sizes).
	bool collect_leaves(block_address root, std::vector<block_address> &leaves) {
		std::vector<block_address> stack{root};
		std::unordered_set<block_address> seen;
		std::optional<uint32_t> vs;
		while (!stack.empty()) {
			block_address b = stack.back();
			stack.pop_back();
			auto it = s_.nodes.find(b);
			if (it == s_.nodes.end() || !seen.insert(b).second)
				return false;
			if (it->second.leaf) {
				if (vs && *vs != it->second.value_size)
					return false;
				vs = it->second.value_size;
				leaves.push_back(b);
				continue;
			}
			const auto &kids = s_.children.at(b);
			for (auto k = kids.rbegin(); k != kids.rend(); ++k)
				stack.push_back(*k);
		}
		return true;
	}

	const scan &s_;
};

// How recent and complete a pair looks: the highest transaction recorded in
// its details, then the number of devices, then the latest times.
using score = std::tuple<uint64_t, size_t, uint32_t>;

score score_of(const tree &details) {
	uint64_t trans = 0;
	uint32_t time = 0;
	for (const auto &[dev, d] : details.details) {
		trans = std::max(trans, d.transaction_id);
		time = std::max({time, d.creation_time, d.snapshotted_time});
	}
	return {trans, details.details.size(), time};
}

bool same_devices(const tree &details, const tree &top) {
	if (details.details.size() != top.mapping_roots.size())
		return false;
	auto a = details.details.begin();
	for (auto b = top.mapping_roots.begin(); b != top.mapping_roots.end(); ++a, ++b)
		if (a->first != b->first)
			return false;
	return true;
}

// The mappings below mapping root ROOT as the scan saw them (leaf entry
// counts summed; a missing or cyclic node ends the count with what is
// known).
uint64_t mappings_below(const scan &s, block_address root) {
	uint64_t total = 0;
	std::vector<block_address> stack{root};
	std::unordered_set<block_address> seen;
	while (!stack.empty()) {
		block_address b = stack.back();
		stack.pop_back();
		auto it = s.nodes.find(b);
		if (it == s.nodes.end() || it->second.value_size != MAPPING_VALUE_SIZE || !seen.insert(b).second)
			continue;
		if (it->second.leaf)
			total += it->second.nr_entries;
		else
			for (block_address k : s.children.at(b))
				stack.push_back(k);
	}
	return total;
}

// How well top-level tree TOP fits the details DETAILS and the live
// metadata space map USED (when readable): whether its root is in use
// (the kernel frees the old copies a transaction replaced, so stale top
// levels with the same devices are not), how many of its device roots are
// in use, and how many devices' trees hold exactly their mapped_blocks.
using top_fit = std::tuple<bool, size_t, size_t>;

top_fit fit_of(const scan &s, block_address root, const tree &top, const tree &details,
               const std::unordered_set<block_address> *used) {
	auto in_use = [&](block_address b) { return !used || used->count(b); };
	size_t roots_in_use = 0, counts_fit = 0;
	for (const auto &[dev, r] : top.mapping_roots) {
		roots_in_use += in_use(r);
		auto d = details.details.find(dev);
		counts_fit += d != details.details.end() && mappings_below(s, r) == d->second.mapped_blocks;
	}
	return {in_use(root), roots_in_use, counts_fit};
}

bool plausible_block_size(uint32_t s) { return s >= 128 && s <= 2097152 && s % 128 == 0; }

std::string damaged_top_level(const superblock &sb) {
	return "superblock: the top level of the mapping tree (block " + std::to_string(sb.data_mapping_root) +
	       ") is damaged";
}

} // namespace

salvaged_superblock salvage_superblock(pdata::block_io &io, const superblock_overrides &given) {
	salvaged_superblock out;
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	io.read(0, 1, block.data());
	auto problems = superblock_problems(block.data(), 0, io.nr_blocks());
	std::optional<superblock> live;
	if (problems.empty())
		live = decode_superblock(block.data());
	else
		out.notes.push_back("superblock: " + problems.front() + "; scanning the device for its trees");
	// A superblock whose checksum holds tells its own fields truly even
	// when it does not fit the device (a truncated copy of the metadata):
	// the transaction id LVM checks, the data device's size, the uuid.
	// Its roots are tried as a sound superblock's are.
	// (Under a checksum that holds, a wrong magic or block number is the
	// damage, not a sign that the block is no superblock.)
	if (!live && superblock_checksum_holds(block.data())) {
		superblock d = decode_superblock(block.data());
		if (d.magic != SUPERBLOCK_MAGIC)
			out.notes.push_back("superblock: magic " + std::to_string(d.magic) + " ignored (its checksum holds)");
		if (d.blocknr != 0)
			out.notes.push_back("superblock: block number " + std::to_string(d.blocknr) + " ignored");
		d.magic = SUPERBLOCK_MAGIC;
		d.blocknr = 0;
		live = d;
	}
	std::optional<superblock> snap_copy; // the held metadata snapshot's superblock, when readable
	if (live && live->metadata_snap && live->metadata_snap < io.nr_blocks()) {
		std::vector<uint8_t> sb(pdata::BLOCK_SIZE);
		io.read(live->metadata_snap, 1, sb.data());
		if (superblock_problems(sb.data(), live->metadata_snap, io.nr_blocks()).empty())
			snap_copy = decode_superblock(sb.data());
	}
	// No other block records the data block size but a snapshot's copy of
	// the superblock; failing that, the nearest possible size is the
	// likeliest, and a wrong one only makes the kernel refuse the pool (its
	// table must give the same).
	if (live && !plausible_block_size(live->data_block_size) && !given.data_block_size) {
		uint32_t was = live->data_block_size;
		if (snap_copy && plausible_block_size(snap_copy->data_block_size)) {
			live->data_block_size = snap_copy->data_block_size;
			out.notes.push_back("superblock: data block size " + std::to_string(was) + " is none; the metadata "
			                    "snapshot's " + std::to_string(live->data_block_size) + " is used");
		} else {
			live->data_block_size = uint32_t(std::clamp<uint64_t>((uint64_t(was) + 64) / 128 * 128, 128, 2097152));
			out.notes.push_back("superblock: data block size " + std::to_string(was) + " is none; the nearest, " +
			                    std::to_string(live->data_block_size) +
			                    ", is used (the kernel refuses the pool if its table says otherwise: give "
			                    "--data-block-size then)");
		}
	}

	// (A truncated device's top level may name roots past its end.)
	scan s = scan_device(io, std::max(io.nr_blocks(), live ? live->metadata_nr_blocks : 0));
	classifier c(s);

	// Every unreferenced root of a details or top-level tree on the device.
	std::vector<std::pair<block_address, tree>> details_roots, top_roots;
	for (const auto &[b, nd] : s.nodes) {
		if (s.referenced.count(b))
			continue;
		tree t = c.classify(b);
		if (t.kind == tree_kind::details)
			details_roots.push_back({b, std::move(t)});
		else if (t.kind == tree_kind::top_level)
			top_roots.push_back({b, std::move(t)});
	}

	// The superblock's own pair: each root is evidence, not truth.  A
	// root that is not a tree of its kind (past the end, a bitmap, a
	// mapping leaf) is replaced by the tree of that kind on the device
	// whose devices are those of the other root's tree (not the held
	// snapshot's); a pair whose devices differ is kept, the devices one
	// side lacks made up later (metadata_dump.h).
	std::optional<score> live_score, live_details_score;
	if (live) {
		tree d = c.classify(live->device_details_root), t = c.classify(live->data_mapping_root);
		// The live metadata space map's blocks in use, when it is readable:
		// old copies of a tree that a later transaction replaced are free.
		std::optional<std::unordered_set<block_address>> used;
		if (live->metadata_sm().nr_blocks) {
			auto index = pdata::read_metadata_index(io, live->metadata_sm(), io.nr_blocks());
			if (auto blocks = pdata::read_used_blocks(io, index))
				used.emplace(blocks->begin(), blocks->end());
		}
		// The one tree of KIND matching OTHER's devices, not the snapshot's.
		// Several top levels may name the same devices (the kernel leaves
		// the copies it replaced on the device): only one whose root the
		// space map counts is taken, the one that fits best - device roots
		// in use, then devices whose trees hold their mapped_blocks - and
		// a tie is ambiguous.
		auto matching = [&](const std::vector<std::pair<block_address, tree>> &candidates, const tree &other,
		                    bool other_is_details, block_address snapshots) -> std::optional<block_address> {
			std::optional<std::pair<top_fit, block_address>> found;
			bool tied = false;
			for (const auto &[b, cand] : candidates) {
				if (b == snapshots)
					continue;
				if (other_is_details ? !same_devices(other, cand) : !same_devices(cand, other))
					continue;
				top_fit f = other_is_details ? fit_of(s, b, cand, other, used ? &*used : nullptr)
				                             : top_fit{!used || used->count(b), 0, 0};
				// (A free tree is a copy a transaction replaced: its
				// roots are old, and their blocks may be reused.)
				if (!std::get<0>(f))
					continue;
				if (found && f == found->first)
					tied = true;
				else if (!found || f > found->first) {
					found = {f, b};
					tied = false;
				}
			}
			if (!found || tied)
				return std::nullopt; // none, or ambiguous: leave it to the scan
			return found->second;
		};
		if (d.kind == tree_kind::details && t.kind != tree_kind::top_level) {
			if (auto b = matching(top_roots, d, true, snap_copy ? snap_copy->data_mapping_root : UINT64_MAX)) {
				out.notes.push_back("superblock: data_mapping_root " + std::to_string(live->data_mapping_root) +
				                    " is not the top level of a mapping tree; using the one at block " +
				                    std::to_string(*b) + ", whose devices are the device details'");
				live->data_mapping_root = *b;
				t = c.classify(*b);
			}
		} else if (t.kind == tree_kind::top_level && d.kind != tree_kind::details) {
			if (auto b = matching(details_roots, t, false, snap_copy ? snap_copy->device_details_root : UINT64_MAX)) {
				out.notes.push_back("superblock: device_details_root " + std::to_string(live->device_details_root) +
				                    " is not a device details tree; using the one at block " + std::to_string(*b) +
				                    ", whose devices are the mapping tree's");
				live->device_details_root = *b;
				d = c.classify(*b);
			}
		}
		if (d.kind == tree_kind::details && t.kind == tree_kind::top_level) {
			live_score = score_of(d);
			if (!same_devices(d, t))
				out.notes.push_back("superblock: the device details and the mapping tree name different devices; "
				                    "keeping both (a device without details gets details made up, one without "
				                    "mappings none)");
		} else if (d.kind == tree_kind::details && t.kind == tree_kind::none)
			// Only the top level is damaged: the details (and the space
			// maps, which tell which trees are in use) are still the
			// pool's, unless a more recent pair turns up below.
			live_details_score = score_of(d);
		else
			out.notes.push_back("superblock: its tree roots (details " +
			                    std::to_string(live->device_details_root) + ", mappings " +
			                    std::to_string(live->data_mapping_root) +
			                    ") are not a consistent pair; scanning the device for its trees");
	}
	std::optional<std::tuple<score, block_address, block_address>> best;
	for (const auto &[db, d] : details_roots)
		for (const auto &[tb, t] : top_roots) {
			if (!same_devices(d, t))
				continue;
			// (A held metadata snapshot's trees are older than the live
			// ones, whatever their details say.)
			if (snap_copy && db == snap_copy->device_details_root && tb == snap_copy->data_mapping_root &&
			    live_score)
				continue;
			auto cand = std::make_tuple(score_of(d), db, tb);
			// A device's transaction is the pool's when it was made: details
			// claiming one past the transaction of a superblock whose
			// checksum holds are damaged, not more recent.
			if (live && std::get<0>(std::get<0>(cand)) > live->trans_id)
				continue;
			if (!best || cand > *best)
				best = cand;
		}

	// The data device's size: the live data space map's, unless it is more
	// than a mapping can address (then the highest mapped block says the
	// least it can be).
	auto data_blocks = [&]() -> uint64_t {
		if (given.nr_data_blocks)
			return *given.nr_data_blocks;
		uint64_t n = live->data_sm().nr_blocks;
		if (n <= (uint64_t(1) << 40) || !s.max_data_block)
			return n;
		out.notes.push_back("superblock: the data space map's " + std::to_string(n) +
		                    " blocks are more than a pool can address; nr_data_blocks " +
		                    std::to_string(*s.max_data_block + 1) + " inferred from the highest mapped data block");
		return *s.max_data_block + 1;
	};
	out.sb = live.value_or(superblock{});
	for (const auto &[b, t] : top_roots)
		if (b != out.sb.data_mapping_root && !(snap_copy && b == snap_copy->data_mapping_root))
			out.other_top_levels.push_back(t.mapping_roots);
	if (live && (live->version < 1 || live->version > 2)) {
		out.notes.push_back("superblock: unknown version " + std::to_string(live->version) +
		                    " ignored (the kernel does not read it); writing version 2");
		out.sb.version = 2;
	}
	if (live_score && (!best || !(std::get<0>(*best) > *live_score))) {
		out.nr_data_blocks = data_blocks();
		return out; // the superblock is sound and current
	}
	if (live_details_score && (!best || !(std::get<0>(*best) > *live_details_score))) {
		// No pair is more recent than the live details (the metadata
		// snapshot's pair is older, and would lose every device created
		// since): keep the superblock; the repair finds the roots the
		// damaged top level lost among the trees still in use.
		out.nr_data_blocks = data_blocks();
		out.notes.push_back(damaged_top_level(*live) +
		                    "; keeping the live device details and searching the trees in use for the "
		                    "devices' mapping roots");
		return out;
	}
	if (live_details_score)
		out.notes.push_back(damaged_top_level(*live) + " and the device holds a more recent pair of trees");
	if (!best)
		throw base::error(io.name() + ": no consistent pair of device-details and mapping trees found");
	out.scanned = true;
	out.sb.device_details_root = std::get<1>(*best);
	out.sb.data_mapping_root = std::get<2>(*best);
	out.sb.metadata_snap = 0;
	out.notes.push_back("using the trees found at blocks " + std::to_string(out.sb.device_details_root) +
	                    " (device details) and " + std::to_string(out.sb.data_mapping_root) +
	                    " (mappings), with " + std::to_string(std::get<1>(std::get<0>(*best))) +
	                    " devices, transaction " + std::to_string(std::get<0>(std::get<0>(*best))));

	// The fields a lost superblock held, most trusted source first.
	const superblock *copy = nullptr;
	for (const auto &cp : s.copies)
		if (!copy || cp.trans_id > copy->trans_id)
			copy = &cp;
	superblock damaged = decode_superblock(block.data());
	bool damaged_magic = damaged.magic == SUPERBLOCK_MAGIC;

	if (given.data_block_size)
		out.sb.data_block_size = *given.data_block_size;
	else if (live)
		; // kept (plausible: checked above)
	else if (copy)
		out.sb.data_block_size = copy->data_block_size;
	else if (damaged_magic && plausible_block_size(damaged.data_block_size))
		out.sb.data_block_size = damaged.data_block_size;
	else
		throw base::error(std::string(NEEDS_FIELD) + "data block size");

	uint64_t details_trans = std::get<0>(std::get<0>(*best));
	if (given.transaction_id)
		out.sb.trans_id = *given.transaction_id;
	else {
		uint64_t t = details_trans;
		if (live)
			t = std::max(t, live->trans_id);
		if (copy)
			t = std::max(t, copy->trans_id);
		if (!live && !copy && details_roots.empty())
			throw base::error(std::string(NEEDS_FIELD) + "transaction id");
		if (!live)
			out.notes.push_back("transaction id " + std::to_string(t) +
		                    " inferred from the device details (LVM checks it: compare with lvs -o "
		                    "transaction_id and give --transaction-id if it differs)");
		out.sb.trans_id = t;
	}

	uint32_t time = std::max<uint32_t>(s.max_time, std::get<2>(std::get<0>(*best)));
	out.sb.time = std::max(out.sb.time, time);

	if (given.nr_data_blocks)
		out.nr_data_blocks = *given.nr_data_blocks;
	else if (live)
		out.nr_data_blocks = data_blocks();
	else if (s.max_data_block) {
		out.nr_data_blocks = *s.max_data_block + 1;
		out.notes.push_back("nr_data_blocks " + std::to_string(out.nr_data_blocks) +
		                    " inferred from the highest mapped data block (the kernel grows it to the "
		                    "data device's size)");
	} else
		throw base::error(std::string(NEEDS_FIELD) + "nr data blocks");
	if (!live) {
		out.sb.flags = 0;
		out.sb.version = 2;
		out.sb.uuid = {};
	}
	return out;
}

} // namespace thin
