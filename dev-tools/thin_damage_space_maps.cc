// Wrong reference counts in a space map - a bitmap's 2-bit count, or a
// count of 3 or more in the reference count tree - checksums resealed.
#include "base/endian.h"
#include "base/error.h"
#include "dev-tools/thin_damage_kinds.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "thin-provisioning/device_details.h"

#include <iostream>
#include <map>

namespace thin::damage {
namespace {

// --sm: "metadata" (the default) or "data".
std::string space_map_option(const options &vm) {
	std::string which = vm.count("sm") ? vm["sm"].as<std::string>() : "metadata";
	if (which != "metadata" && which != "data")
		throw base::po::error("--sm must be metadata or data");
	return which;
}

block_role ref_count_tree_role(const std::string &which) {
	return which == "metadata" ? block_role::metadata_sm_ref_counts : block_role::data_sm_ref_counts;
}

// The bitmaps of a space map, in bitmap order (bitmap i counts blocks
// i * ENTRIES_PER_BITMAP on), from its index.
std::vector<block_address> bitmaps_of(damager &d, bool metadata) {
	superblock sb = d.checked().sb;
	std::vector<block_address> out;
	if (metadata) {
		auto index = d.read(sb.metadata_sm().bitmap_root);
		uint64_t n = (sb.metadata_sm().nr_blocks + pdata::ENTRIES_PER_BITMAP - 1) / pdata::ENTRIES_PER_BITMAP;
		for (uint64_t i = 0; i < n; i++)
			out.push_back(pdata::decode_index_entry(index.data() + pdata::METADATA_INDEX_OFFSET +
			                                        pdata::INDEX_ENTRY_SIZE * i)
			                  .blocknr);
		return out;
	}
	// The data index is a btree: its leaves' entries, in key order.
	std::map<uint64_t, block_address> by_index;
	for (block_address b : d.blocks_with(block_role::data_sm_index)) {
		auto data = d.read(b);
		pdata::node_ref n(data.data());
		if (!n.is_leaf())
			continue;
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			by_index[n.key(i)] = pdata::decode_index_entry(n.value(i)).blocknr;
	}
	for (auto &[i, b] : by_index)
		out.push_back(b);
	return out;
}

// A bitmap count of 1 or 2 (a plain image's mapping leaf, or the data block
// its first entry maps) moved one up (HIGH) or down.
void bitmap_count_off_by_one(damager &d, const options &vm, bool high) {
	std::string which = space_map_option(vm);
	bool meta = which == "metadata";
	auto bitmaps = bitmaps_of(d, meta);
	block_address victim;
	if (meta)
		victim = leaf_with(d, 1);
	else {
		auto leaf = d.read(leaf_with(d, 1));
		victim = unpack_block_time(pdata::node_ref(leaf.data()).value64(0)).data_block;
	}
	block_address bitmap = bitmaps.at(victim / pdata::ENTRIES_PER_BITMAP);
	auto entry = uint32_t(victim % pdata::ENTRIES_PER_BITMAP);
	auto data = d.read(bitmap);
	uint32_t now = pdata::bitmap_block(data.data()).get(entry);
	if (now == 0 || now == 3)
		throw base::error("block " + std::to_string(victim) + " has count " + std::to_string(now) +
		                  " in its bitmap; pick another image");
	// (A 3 in a bitmap is not a count but "see the reference count tree".)
	if (high && now == 2)
		throw base::error("block count already 2; pick another image");
	uint32_t next = high ? now + 1 : now - 1;
	pdata::bitmap_block(data.data()).set(entry, next);
	pdata::seal_checksum(data.data(), pdata::salt::bitmap);
	d.write(bitmap, data);
	std::cout << "damaged " << which << " space map: block " << victim << " stored count " << next << " (was "
	          << now << ")\n";
}

// The first count in the reference count tree that can move one up (HIGH)
// or down and still belong in the tree.
void tree_count_off_by_one(damager &d, const options &vm, bool high) {
	std::string which = space_map_option(vm);
	for (block_address b : d.blocks_with(ref_count_tree_role(which))) {
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		if (!n.is_leaf())
			continue;
		for (uint32_t i = 0; i < n.nr_entries(); i++) {
			uint32_t now = base::load_le32(n.value(i));
			if (!high && now < 4)
				continue;
			uint32_t next = high ? now + 1 : now - 1;
			base::store_le32(n.value_mut(i), next);
			reseal_node(data);
			d.write(b, data);
			std::cout << "damaged " << which << " space map: block " << n.key(i) << " stored count " << next
			          << " (was " << now << ") in reference count tree block " << b << "\n";
			return;
		}
	}
	throw base::error("no suitable entry in the " + which + " reference count tree; pick another image");
}

} // namespace

void count_high(damager &d, const options &vm) { bitmap_count_off_by_one(d, vm, true); }
void count_low(damager &d, const options &vm) { bitmap_count_off_by_one(d, vm, false); }
void overflow_high(damager &d, const options &vm) { tree_count_off_by_one(d, vm, true); }
void overflow_low(damager &d, const options &vm) { tree_count_off_by_one(d, vm, false); }

void overflow_drop(damager &d, const options &vm) {
	// The bitmap still says "see the tree"; the tree has no entry.  The last
	// entry of a leaf, so the keys left stay inside their parent's range.
	std::string which = space_map_option(vm);
	for (block_address b : d.blocks_with(ref_count_tree_role(which))) {
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		if (!n.is_leaf() || n.nr_entries() < 2)
			continue;
		uint32_t last = n.nr_entries() - 1;
		uint64_t victim = n.key(last);
		n.delete_at(last);
		reseal_node(data);
		d.write(b, data);
		std::cout << "damaged " << which << " space map: block " << victim
		          << " dropped from reference count tree block " << b << "\n";
		return;
	}
	throw base::error("no " + which + " reference count tree leaf with two entries; pick another image");
}

} // namespace thin::damage
