#include "thin-provisioning/device_usage.h"

#include "base/endian.h"
#include "base/error.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_census.h"
#include "persistent-data/space_map_bitmap.h"

#include <functional>
#include <map>

namespace thin {
namespace {

using pdata::block_address;

enum : uint64_t { DETAILS = 0, TOP = 1, DATA_INDEX = 2, FIRST_DEVICE = 16 };

} // namespace

std::vector<device_usage> device_usages(pdata::block_io &io, const superblock &trees,
                                        const pdata::sm_root &data_sm) {
	pdata::count_array refs(io.nr_blocks());
	pdata::btree_census census(io, refs);
	census.set_check_min_fill(false);
	std::map<uint64_t, device_details> details;
	std::map<uint64_t, block_address> roots;
	std::map<uint64_t, block_address> bitmaps; // data space map: bitmap index -> block
	std::vector<std::string> damage;
	auto on_damage = [&](uint64_t, const pdata::btree_damage &d) {
		if (d.fatal)
			damage.push_back(d.reason + " (block " + std::to_string(d.block) + ")");
	};

	// Every tree, each distinct node once.
	std::unordered_map<block_address, uint64_t> leaf_exclusive, leaf_highest;
	std::vector<block_address> leaves;
	pdata::count_array leaves_holding(data_sm.nr_blocks);
	census.add_root(trees.device_details_root, DEVICE_DETAILS_SIZE, DETAILS);
	census.add_root(trees.data_mapping_root, MAPPING_VALUE_SIZE, TOP);
	census.run(
	    [&](uint64_t tag, block_address leaf, pdata::node_ref n) {
		    if (tag == DETAILS)
			    for (uint32_t i = 0; i < n.nr_entries(); i++)
				    details[n.key(i)] = decode_device_details(n.value(i));
		    else if (tag == TOP)
			    for (uint32_t i = 0; i < n.nr_entries(); i++) {
				    roots[n.key(i)] = n.value64(i);
				    census.add_root(n.value64(i), MAPPING_VALUE_SIZE, FIRST_DEVICE);
			    }
		    else if (tag == FIRST_DEVICE) {
			    leaves.push_back(leaf);
			    // +1 so that an empty leaf (0) differs from key 0 mapped.
			    leaf_highest[leaf] = n.nr_entries() ? n.key(n.nr_entries() - 1) + 1 : 0;
			    // How many distinct leaves hold each data block.
			    for (uint32_t i = 0; i < n.nr_entries(); i++) {
				    uint64_t data = unpack_block_time(n.value64(i)).data_block;
				    if (data < leaves_holding.size())
					    leaves_holding.inc(data);
			    }
		    }
	    },
	    on_damage);
	if (!damage.empty())
		throw base::error("metadata is damaged (run thin_check for details): " + damage.front());

	// A data block is exclusive when exactly one mapping of one device
	// reaches it: it is in one leaf only, and one path from one device root
	// leads to that leaf (a leaf shared by snapshots maps it once for each).
	std::vector<block_address> device_root_list;
	for (auto &[dev, root] : roots)
		device_root_list.push_back(root);
	auto paths = census.paths_from(device_root_list);
	std::vector<block_address> single_path;
	for (block_address leaf : leaves)
		if (paths[leaf] == 1)
			single_path.push_back(leaf);
	// (Leaves reached by several paths have no exclusive blocks.)
	pdata::read_in_batches(io, single_path, [&](block_address leaf, const uint8_t *data) {
		if (!data)
			return;
		pdata::node_ref n(data);
		uint64_t excl = 0;
		for (uint32_t i = 0; i < n.nr_entries(); i++) {
			uint64_t b = unpack_block_time(n.value64(i)).data_block;
			excl += b < leaves_holding.size() && leaves_holding.get(b) == 1;
		}
		leaf_exclusive[leaf] = excl;
	});

	std::unordered_map<block_address, uint64_t> excl_memo, high_memo;
	std::vector<device_usage> out;
	for (auto &[dev, d] : details) {
		device_usage u{dev, d, 0, 0, std::nullopt};
		auto r = roots.find(dev);
		if (r != roots.end()) {
			u.mapped = census.entries_below(r->second);
			u.exclusive = census.fold_below(
			    r->second, [&](block_address l) { return leaf_exclusive[l]; }, excl_memo);
			uint64_t h = census.fold_below(
			    r->second, [&](block_address l) { return leaf_highest[l]; }, high_memo,
			    pdata::btree_census::fold::max);
			if (h)
				u.highest_mapped = h - 1;
		}
		out.push_back(u);
	}
	return out;
}

} // namespace thin
