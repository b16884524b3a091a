#include "dev-tools/thin_damager.h"

#include "base/command_line.h"
#include "base/error.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"

#include <iostream>

namespace thin::damage {
namespace {

check_result roles_of(pdata::block_io &io, check_options o) {
	check_report quiet(nullptr);
	o.record_roles = true;
	return check_metadata(io, o, quiet);
}

} // namespace

damager::damager(const std::string &path, uint64_t seed)
    : path_(path), io_(path, base::access_mode::read_write), rng_(seed) {
	result_ = roles_of(io_, {});
	if (!result_.superblock_ok)
		throw base::error(path + ": the superblock is already damaged");
}

std::vector<block_address> damager::blocks_with(block_role r) const {
	std::vector<block_address> v;
	for (block_address b = 0; b < result_.roles.size(); b++)
		if (result_.roles[b] == r)
			v.push_back(b);
	return v;
}

block_address damager::pick(block_role r) {
	auto v = blocks_with(r);
	if (v.empty())
		throw base::error(path_ + ": no block holds a " + role_name(r));
	return v[rng_() % v.size()];
}

block_address damager::pick_only_in(block_role r, const std::string &where) {
	if (where != "live" && where != "snapshot")
		throw base::po::error("--where must be live or snapshot");
	if (!result_.sb.metadata_snap)
		throw base::error(path_ + ": has no metadata snapshot");
	auto trees = [&](bool snapshot_trees) {
		check_options o;
		o.metadata_snap = snapshot_trees;
		o.skip_metadata_snap = !snapshot_trees;
		return roles_of(io_, o).roles;
	};
	auto live = trees(false), snap = trees(true);
	auto &mine = where == "live" ? live : snap;
	auto &other = where == "live" ? snap : live;
	std::vector<block_address> v;
	for (block_address b = 1; b < mine.size(); b++)
		if (mine[b] == r && other[b] == block_role::unused)
			v.push_back(b);
	if (v.empty())
		throw base::error(path_ + ": no " + role_name(r) + " is reached only from the " + where + " trees");
	return v[rng_() % v.size()];
}

block_address damager::pick_of_device(block_role r, uint64_t dev) {
	std::vector<block_address> v;
	for (const auto &[b, owner] : result_.mapping_owner)
		if (owner == dev && result_.roles[b] == r)
			v.push_back(b);
	if (v.empty())
		throw base::error(path_ + ": thin device " + std::to_string(dev) + " has no " + role_name(r));
	return v[rng_() % v.size()];
}

std::vector<uint8_t> damager::read(block_address b) {
	std::vector<uint8_t> d(pdata::BLOCK_SIZE);
	io_.read(b, 1, d.data());
	return d;
}

void damager::write(block_address b, const std::vector<uint8_t> &d) {
	io_.write(b, 1, d.data());
	io_.flush();
}

void damager::report(block_address b, const std::string &what) {
	std::cout << "damaged block " << b << " (" << role_name(role(b)) << "): " << what << "\n";
}

block_role damager::role(block_address b) const {
	return b < result_.roles.size() ? result_.roles[b] : block_role::unused;
}

namespace {

// Every role but unused, in the checker's order.
std::vector<block_role> target_roles() {
	std::vector<block_role> v;
	for (int r = int(block_role::superblock); r <= int(block_role::data_sm_ref_counts); r++)
		v.push_back(block_role(r));
	return v;
}

} // namespace

std::vector<std::string> role_names() {
	std::vector<std::string> v;
	for (block_role r : target_roles())
		v.push_back(role_name(r));
	return v;
}

block_role parse_role(const std::string &s) {
	for (block_role r : target_roles())
		if (s == role_name(r))
			return r;
	throw base::po::error("unknown role '" + s + "'");
}

block_address leaf_with(damager &d, uint32_t n) {
	for (block_address b : d.blocks_with(block_role::mapping_leaf)) {
		auto data = d.read(b);
		if (pdata::node_ref(data.data()).nr_entries() >= n)
			return b;
	}
	throw base::error("no mapping leaf with " + std::to_string(n) + " entries");
}

void reseal_node(std::vector<uint8_t> &data) { pdata::seal_checksum(data.data(), pdata::salt::btree_node); }

} // namespace thin::damage
