#include "thin-provisioning/metadata_dump.h"

#include "base/xml_text.h"
#include "persistent-data/btree_node_checks.h"
#include "persistent-data/btree_walker.h"
#include "thin-provisioning/orphan_finder.h"

#include <cstring>
#include <map>

namespace thin {
namespace {

using pdata::block_address;
using pdata::btree_damage;
using pdata::node_context;
using pdata::node_ref;

std::string describe(const char *tree, const btree_damage &d) {
	std::string s = std::string(tree) + ": " + d.reason + " (block " + std::to_string(d.block) +
	                ")";
	if (d.lost_end == UINT64_MAX)
		s += ", keys from " + std::to_string(d.lost_begin) + " on lost";
	else if (d.lost_end > d.lost_begin)
		s += ", keys [" + std::to_string(d.lost_begin) + ", " + std::to_string(d.lost_end) +
		     ") lost";
	return s;
}

// Reads ahead every child of an internal node in one sorted batch.
void prefetch_children(pdata::block_manager &bm, node_ref n) {
	std::vector<block_address> kids;
	kids.reserve(n.nr_entries());
	for (uint32_t i = 0; i < n.nr_entries(); i++)
		kids.push_back(n.value64(i));
	bm.prefetch(std::move(kids));
}

// Collects the leaf entries of a one-level tree into a map.
template <typename Value, typename Decode>
class collecting_visitor : public pdata::btree_visitor {
public:
	collecting_visitor(pdata::block_manager &bm, const char *tree, Decode decode,
	                   std::vector<std::string> &damage)
	    : bm_(bm), tree_(tree), decode_(decode), damage_(damage) {}

	bool visit_internal(const node_context &, node_ref n) override {
		prefetch_children(bm_, n);
		return true;
	}
	void visit_leaf(const node_context &, node_ref n) override {
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			entries[n.key(i)] = decode_(n.value(i));
	}
	void damage(const btree_damage &d) override {
		if (d.fatal || d.mended)
			damage_.push_back(describe(tree_, d));
	}

	std::map<uint64_t, Value> entries;

private:
	pdata::block_manager &bm_;
	const char *tree_;
	Decode decode_;
	std::vector<std::string> &damage_;
};

// Streams one device's mappings, in key order, into a run joiner.
class mapping_visitor : public pdata::btree_visitor {
public:
	// Mappings to data blocks at or past DATA_LIMIT are dropped and reported
	// (repair: the kernel could never use them).
	// EXTRA: mappings found elsewhere (orphans), merged in key order.
	mapping_visitor(pdata::block_manager &bm, uint64_t dev, run_joiner *runs,
	                std::vector<std::string> &damage, uint64_t data_limit = UINT64_MAX,
	                const std::vector<std::pair<uint64_t, uint64_t>> *extra = nullptr)
	    : bm_(bm), dev_(dev), runs_(runs), damage_(damage), data_limit_(data_limit), extra_(extra) {}

	// The extra mappings not passed yet (call once the walk is over).
	void finish() { add_extra_below(UINT64_MAX, true); }

	bool visit_internal(const node_context &, node_ref n) override {
		prefetch_children(bm_, n);
		return true;
	}
	void visit_leaf(const node_context &, node_ref n) override {
		for (uint32_t i = 0; i < n.nr_entries(); i++) {
			add_extra_below(n.key(i), false);
			add(n.key(i), n.value64(i));
		}
	}
	void damage(const btree_damage &d) override {
		if (d.fatal || d.mended)
			damage_.push_back("thin device " + std::to_string(dev_) + ": " +
			                  describe("mapping tree", d));
	}

	uint64_t count = 0;

private:
	void add_extra_below(uint64_t key, bool all) {
		while (extra_ && next_extra_ < extra_->size() && (all || (*extra_)[next_extra_].first < key)) {
			add((*extra_)[next_extra_].first, (*extra_)[next_extra_].second);
			next_extra_++;
		}
		// A key the tree holds too: the tree's mapping wins.
		while (!all && extra_ && next_extra_ < extra_->size() && (*extra_)[next_extra_].first == key)
			next_extra_++;
	}

	void add(uint64_t key, uint64_t value) {
		block_time bt = unpack_block_time(value);
		if (bt.data_block >= data_limit_) {
			damage_.push_back("thin device " + std::to_string(dev_) + ": block " + std::to_string(key) +
			                  " maps to data block " + std::to_string(bt.data_block) +
			                  ", beyond the data device: mapping dropped");
			return;
		}
		count++;
		if (runs_)
			runs_->add(key, bt.data_block, bt.time);
	}

	pdata::block_manager &bm_;
	uint64_t dev_;
	run_joiner *runs_;
	std::vector<std::string> &damage_;
	uint64_t data_limit_;
	const std::vector<std::pair<uint64_t, uint64_t>> *extra_;
	size_t next_extra_ = 0;
};

// Repair: a top level whose root node says "internal" but holds the
// devices' roots (a flipped flag, checksum sealed).  Walked as it says, it
// descends into the devices' own trees and takes their mappings for device
// roots: data block and time packed, far past the metadata device (or the
// key ranges cut every device off).  When most roots found are past the
// device, or none is found, the root is read as the leaf it is, and taken
// if it names every device that has details, each once, each root inside
// the device.
// Returns whether it was: then ROOTS holds the leaf's entries and the walk's
// notes (keys "lost" by a walk that read the wrong node kind) are replaced
// by one saying what was done.
bool reread_top_level_as_leaf(pdata::block_manager &bm, const superblock &sb,
                              const std::map<uint64_t, device_details> &details,
                              std::map<uint64_t, block_address> &roots, std::vector<std::string> &walk_notes) {
	uint64_t beyond = 0;
	for (const auto &[dev, root] : roots)
		beyond += root >= bm.nr_blocks();
	if ((!roots.empty() && beyond * 2 <= roots.size()) || sb.data_mapping_root >= bm.nr_blocks())
		return false;
	pdata::read_ref r;
	try {
		r = bm.read(sb.data_mapping_root, pdata::btree_node_validator());
	} catch (const pdata::bad_block &) {
		return false;
	}
	node_ref n(r->data);
	if (n.is_leaf() || node_shape_problem(n, MAPPING_VALUE_SIZE) || !n.nr_entries())
		return false;
	std::map<uint64_t, block_address> as_leaf;
	for (uint32_t i = 0; i < n.nr_entries(); i++) {
		if (n.value64(i) >= bm.nr_blocks() || !details.count(n.key(i)) || (i && n.key(i) <= n.key(i - 1)))
			return false;
		as_leaf[n.key(i)] = n.value64(i);
	}
	// (A real internal node of a top level names fewer entries than there
	// are devices: one for each leaf below it.)
	if (as_leaf.size() != details.size())
		return false;
	walk_notes.assign(1, "top level of the mapping tree: its root (block " + std::to_string(sb.data_mapping_root) +
	                         ") is marked internal, but walked as such it reached " + std::to_string(beyond) +
	                         " of " + std::to_string(roots.size()) +
	                         " device roots past the metadata device; read as a leaf, it names the roots of all " +
	                         std::to_string(as_leaf.size()) + " devices: taken");
	roots = std::move(as_leaf);
	return true;
}

} // namespace

dump_result dump_metadata(pdata::block_manager &bm, const superblock &sb,
                          uint64_t nr_data_blocks, const dump_options &opts, emitter &out) {
	dump_result result;

	auto decode_details = [](const uint8_t *v) { return decode_device_details(v); };
	collecting_visitor<device_details, decltype(decode_details)> details(
	    bm, "device details tree", decode_details, result.damage);
	pdata::walk_btree(bm, sb.device_details_root, {DEVICE_DETAILS_SIZE, false, opts.repair}, details);

	auto decode_root = [](const uint8_t *v) { return base::load_le64(v); };
	std::vector<std::string> top_level_notes;
	collecting_visitor<block_address, decltype(decode_root)> roots(
	    bm, "top level of the mapping tree", decode_root, top_level_notes);
	pdata::walk_btree(bm, sb.data_mapping_root, {MAPPING_VALUE_SIZE, false, opts.repair}, roots);
	bool read_as_leaf = opts.repair && reread_top_level_as_leaf(bm, sb, details.entries, roots.entries, top_level_notes);
	result.damage.insert(result.damage.end(), top_level_notes.begin(), top_level_notes.end());

	// Repair: subtrees a damaged node cut off, given back to their devices.
	orphan_mappings orphans;
	if (opts.repair) {
		orphans = find_orphans(bm, sb, details.entries, opts.other_top_levels,
		                       read_as_leaf ? &roots.entries : nullptr);
		result.damage.insert(result.damage.end(), orphans.notes.begin(), orphans.notes.end());
		roots.entries.insert(orphans.found_roots.begin(), orphans.found_roots.end());
	}
	auto extra_for = [&](uint64_t dev) -> const std::vector<std::pair<uint64_t, uint64_t>> * {
		auto it = orphans.by_device.find(dev);
		return it == orphans.by_device.end() ? nullptr : &it->second;
	};

	superblock_info info;
	info.uuid = base::uuid_text(sb.uuid.data(), sb.uuid.size());
	if (opts.repair && !base::printable_ascii(info.uuid)) {
		result.damage.push_back("superblock: the uuid is not printable text; dropped (the kernel does not read it)");
		info.uuid.clear();
	}
	info.time = sb.time;
	info.transaction = opts.transaction_id.value_or(sb.trans_id);
	info.flags = sb.flags;
	info.version = sb.version;
	info.data_block_size = opts.data_block_size.value_or(sb.data_block_size);
	info.nr_data_blocks = opts.nr_data_blocks.value_or(nr_data_blocks);
	out.begin_superblock(info);

	// Repair: a device whose details are lost keeps its mappings, with
	// details made up of what can be known: mapped_blocks recounted below,
	// the transaction and creation time of the device with the nearest id
	// that has details (devices made together have neighbouring ids), and
	// the pool's current time as the snapshot time, so that the kernel
	// takes every mapping for shared and copies before it writes (a time
	// too old would let it overwrite blocks a snapshot still maps).
	if (opts.repair) {
		const auto known = details.entries; // (before any is made up)
		for (const auto &[dev, root] : roots.entries) {
			if (known.count(dev))
				continue;
			device_details made;
			made.snapshotted_time = sb.time;
			std::string from = "none has details";
			auto higher = known.lower_bound(dev), nearest = higher;
			if (higher != known.begin()) {
				auto lower = std::prev(higher);
				if (higher == known.end() || dev - lower->first <= higher->first - dev)
					nearest = lower;
			}
			if (nearest != known.end()) {
				made.transaction_id = nearest->second.transaction_id;
				made.creation_time = nearest->second.creation_time;
				from = "from thin device " + std::to_string(nearest->first);
			}
			details.entries[dev] = made;
			result.damage.push_back("thin device " + std::to_string(dev) +
			                        " has a mapping tree but no details: details recreated (mapped_blocks "
			                        "counted, transaction and creation time " +
			                        from + ", snapshot time " + std::to_string(sb.time) + ")");
		}
	}
	for (const auto &[dev, d] : details.entries) {
		if (!opts.dev_ids.empty() && !opts.dev_ids.count(dev))
			continue;
		auto root = roots.entries.find(dev);
		if (root == roots.entries.end()) {
			result.damage.push_back("thin device " + std::to_string(dev) +
			                        " has details but no mapping tree");
			if (opts.repair)
				continue;
		}
		device_details shown = d;
		// (Repair: a device whose entry aliases another's tree has only
		// what was found of its own.)
		bool own_tree = root != roots.entries.end() && !orphans.dropped.count(dev);
		if (opts.repair && root != roots.entries.end()) {
			// Print the count of the mappings that can actually be read.
			std::vector<std::string> ignored;
			mapping_visitor counter(bm, dev, nullptr, ignored, info.nr_data_blocks, extra_for(dev));
			if (own_tree)
				pdata::walk_btree(bm, root->second, {MAPPING_VALUE_SIZE, false, true}, counter);
			counter.finish();
			shown.mapped_blocks = counter.count;
		}
		out.begin_device(dev, shown);
		if (!opts.skip_mappings && root != roots.entries.end()) {
			run_joiner runs(out);
			mapping_visitor v(bm, dev, &runs, result.damage,
			                  opts.repair ? info.nr_data_blocks : UINT64_MAX, extra_for(dev));
			if (own_tree)
				pdata::walk_btree(bm, root->second, {MAPPING_VALUE_SIZE, false, opts.repair}, v);
			v.finish();
			runs.flush();
		}
		out.end_device();
	}
	for (const auto &[dev, root] : roots.entries)
		if (!details.entries.count(dev))
			result.damage.push_back("thin device " + std::to_string(dev) +
			                        " has a mapping tree but no details");
	out.end_superblock();
	return result;
}

} // namespace thin
