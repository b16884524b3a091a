// Damage inside btree nodes - keys, values, child pointers - with the
// checksum resealed, so only the structure checks can find it.
#include "base/error.h"
#include "dev-tools/thin_damage_kinds.h"
#include "persistent-data/btree_node.h"
#include "thin-provisioning/device_details.h"

namespace thin::damage {
namespace {

// With --where, the one leaf of ROLE only those trees reach; otherwise
// every block of ROLE.
std::vector<block_address> candidate_leaves(damager &d, const options &vm, block_role role) {
	if (vm.count("where"))
		return {d.pick_only_in(role, vm["where"].as<std::string>())};
	return d.blocks_with(role);
}

} // namespace

void keys_out_of_order(damager &d, const options &) {
	block_address b = leaf_with(d, 2);
	auto data = d.read(b);
	pdata::node_mut n(data.data());
	uint64_t k0 = n.key(0), k1 = n.key(1);
	n.set_key(0, k1);
	n.set_key(1, k0);
	reseal_node(data);
	d.write(b, data);
	d.report(b, "keys 0 and 1 swapped, checksum valid");
}

void mapping_past_end(damager &d, const options &) {
	block_address b = leaf_with(d, 1);
	auto data = d.read(b);
	pdata::node_mut n(data.data());
	uint64_t beyond = d.checked().sb.data_sm().nr_blocks + 5;
	uint64_t old = n.value64(0);
	n.set_value64(0, pack_block_time({beyond, unpack_block_time(old).time}));
	reseal_node(data);
	d.write(b, data);
	d.report(b, "block " + std::to_string(n.key(0)) + " now maps to data block " + std::to_string(beyond) +
	                " (was " + std::to_string(unpack_block_time(old).data_block) + ")");
}

void wrong_mapped_blocks(damager &d, const options &) {
	for (block_address b : d.blocks_with(block_role::details_node)) {
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		if (!n.is_leaf() || !n.nr_entries())
			continue;
		device_details dd = decode_device_details(n.value(0));
		dd.mapped_blocks += 7;
		encode_device_details(dd, n.value_mut(0));
		reseal_node(data);
		d.write(b, data);
		d.report(b, "thin device " + std::to_string(n.key(0)) + ": mapped_blocks " +
		                std::to_string(dd.mapped_blocks) + " (7 too many)");
		return;
	}
	throw base::error("no device details to damage");
}

void drop_details(damager &d, const options &vm) {
	// The last entry of a leaf with two or more, so the keys left stay
	// inside the leaf's range in its parent.
	for (block_address b : candidate_leaves(d, vm, block_role::details_node)) {
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		if (!n.is_leaf() || n.nr_entries() < 2)
			continue;
		uint64_t dev = n.key(n.nr_entries() - 1);
		n.delete_at(n.nr_entries() - 1);
		reseal_node(data);
		d.write(b, data);
		d.report(b, "thin device " + std::to_string(dev) + "'s details removed");
		return;
	}
	throw base::error("no details leaf with two devices");
}

void double_ref(damager &d, const options &vm) {
	// The second device's top-level entry is pointed at the first device's
	// tree, whose count still allows one reference.
	for (block_address b : candidate_leaves(d, vm, block_role::top_level_node)) {
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		if (!n.is_leaf() || n.nr_entries() < 2)
			continue;
		uint64_t root = n.value64(0);
		n.set_value64(1, root);
		reseal_node(data);
		d.write(b, data);
		// The damaged block named is the tree now referenced twice.
		d.report(root, "referenced by thin devices " + std::to_string(n.key(0)) + " and " +
		                   std::to_string(n.key(1)) + " from top-level leaf " + std::to_string(b));
		return;
	}
	throw base::error("no top-level leaf with two devices");
}

void cycle(damager &d, const options &) {
	auto internals = d.blocks_with(block_role::mapping_internal);
	if (internals.empty())
		throw base::error("no internal mapping node (use more mappings)");
	block_address b = internals[d.rng()() % internals.size()];
	auto data = d.read(b);
	pdata::node_mut n(data.data());
	n.set_value64(n.nr_entries() - 1, b);
	reseal_node(data);
	d.write(b, data);
	d.report(b, "its last child pointer points at itself");
}

} // namespace thin::damage
