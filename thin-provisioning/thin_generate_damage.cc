// thin_generate_damage (developer tool): makes one named kind of damage in
// a metadata image, in place, and says on stdout which block it damaged and
// how - so tests can check that the checker names it and that repair
// recovers everything else.  Checksums are re-sealed where the damage is
// meant to be structural only.
#include "base/command_line.h"
#include "base/endian.h"
#include "base/error.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/metadata_checker.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <unistd.h>

namespace thin {
namespace {

using pdata::block_address;
using pdata::BLOCK_SIZE;

const char USAGE[] =
    "Usage: thin_generate_damage <metadata file> --kind <kind> [options]\n"
    "Damages the metadata in place and prints what it did.\n"
    "Kinds:\n"
    "  bad-checksum --target ROLE   flip a bit in a block of that role\n"
    "  zero-block --target ROLE     zero a block of that role\n"
    "    (either with --where live|snapshot: a block only the live trees, or\n"
    "     only the held metadata snapshot's trees, reach; or with --dev N:\n"
    "     a mapping node of thin device N)\n"
    "  keys-out-of-order            swap two keys of a mapping leaf\n"
    "  mapping-past-end             map a block beyond nr_data_blocks\n"
    "  mapped-blocks                wrong mapped_blocks in the details\n"
    "  drop-details [--where live|snapshot]  a device's entry removed from\n"
    "                               the details\n"
    "  count-high --sm metadata|data  a stored count one too high (a leak)\n"
    "  count-low --sm metadata|data   a stored count one too low\n"
    "  overflow-high --sm metadata|data  a count of 3 or more, in the reference\n"
    "                               count tree, one too high\n"
    "  overflow-low --sm metadata|data   ... one too low\n"
    "  overflow-drop --sm metadata|data  such a count's entry removed from\n"
    "                               the tree\n"
    "  double-ref [--where live|snapshot]  two devices point at one unshared\n"
    "                               tree\n"
    "  cycle                        a mapping node points at its ancestor\n"
    "  zero-superblock\n"
    "  stale-superblock             superblock points at the older trees a\n"
    "                               metadata snapshot holds\n"
    "  needs-check                  set the superblock's needs_check flag\n"
    "  metadata-nr-blocks           superblock claims a larger device\n"
    "  truncate [--blocks N]        cut the file (default: to half)\n"
    "  random --count N             N random used blocks zeroed or garbled\n"
    "Roles: superblock, snapshot-superblock, details-node, top-level-node,\n"
    "  mapping-internal, mapping-leaf, metadata-sm-index, metadata-sm-bitmap,\n"
    "  metadata-sm-ref-counts, data-sm-index, data-sm-bitmap, data-sm-ref-counts\n"
    "Options:\n"
    "  {--seed} <n>\n"
    "  {-h|--help}\n"
    "  {-V|--version}\n";

class damager {
public:
	damager(const std::string &path, uint64_t seed)
	    : path_(path), io_(path, base::access_mode::read_write), rng_(seed) {
		check_report quiet(true);
		check_options o;
		o.record_roles = true;
		result_ = check_metadata(io_, o, quiet);
		if (!result_.superblock_ok)
			throw base::error(path + ": the superblock is already damaged");
	}

	std::vector<block_address> blocks_with(block_role r) const {
		std::vector<block_address> v;
		for (block_address b = 0; b < result_.roles.size(); b++)
			if (result_.roles[b] == r)
				v.push_back(b);
		return v;
	}

	block_address pick(block_role r) {
		auto v = blocks_with(r);
		if (v.empty())
			throw base::error(path_ + ": no block holds a " + role_name(r));
		return v[rng_() % v.size()];
	}

	// A block of role R that only the live trees reach (WHERE == "live") or
	// only the held metadata snapshot's trees reach ("snapshot").
	block_address pick_only_in(block_role r, const std::string &where) {
		if (where != "live" && where != "snapshot")
			throw base::po::error("--where must be live or snapshot");
		if (!result_.sb.metadata_snap)
			throw base::error(path_ + ": has no metadata snapshot");
		auto roles_of = [&](bool snapshot_trees) {
			check_report quiet(true);
			check_options o;
			o.record_roles = true;
			o.metadata_snap = snapshot_trees;
			o.skip_metadata_snap = !snapshot_trees;
			return check_metadata(io_, o, quiet).roles;
		};
		auto live = roles_of(false), snap = roles_of(true);
		auto &mine = where == "live" ? live : snap;
		auto &other = where == "live" ? snap : live;
		std::vector<block_address> v;
		for (block_address b = 1; b < mine.size(); b++)
			if (mine[b] == r && other[b] == block_role::unused)
				v.push_back(b);
		if (v.empty())
			throw base::error(path_ + ": no " + role_name(r) + " is reached only from the " + where +
			                  " trees");
		return v[rng_() % v.size()];
	}

	// A mapping node of role R that thin device DEV reaches.
	block_address pick_of_device(block_role r, uint64_t dev) {
		std::vector<block_address> v;
		for (const auto &[b, owner] : result_.mapping_owner)
			if (owner == dev && result_.roles[b] == r)
				v.push_back(b);
		if (v.empty())
			throw base::error(path_ + ": thin device " + std::to_string(dev) + " has no " + role_name(r));
		return v[rng_() % v.size()];
	}

	std::vector<uint8_t> read(block_address b) {
		std::vector<uint8_t> d(BLOCK_SIZE);
		io_.read(b, 1, d.data());
		return d;
	}

	void write(block_address b, const std::vector<uint8_t> &d) {
		io_.write(b, 1, d.data());
		io_.flush();
	}

	void report(block_address b, const std::string &what) {
		std::cout << "damaged block " << b << " (" << role_name(role(b)) << "): " << what << "\n";
	}

	block_role role(block_address b) const {
		return b < result_.roles.size() ? result_.roles[b] : block_role::unused;
	}

	const check_result &checked() const { return result_; }
	pdata::file_block_io &io() { return io_; }
	std::mt19937_64 &rng() { return rng_; }

private:
	std::string path_;
	pdata::file_block_io io_;
	std::mt19937_64 rng_;
	check_result result_;
};

block_role parse_role(const std::string &s) {
	for (int r = int(block_role::superblock); r <= int(block_role::data_sm_ref_counts); r++)
		if (s == role_name(block_role(r)))
			return block_role(r);
	throw base::po::error("unknown role '" + s + "'");
}

// A mapping leaf with at least N entries.
block_address leaf_with(damager &d, uint32_t n) {
	for (block_address b : d.blocks_with(block_role::mapping_leaf)) {
		auto data = d.read(b);
		if (pdata::node_ref(data.data()).nr_entries() >= n)
			return b;
	}
	throw base::error("no mapping leaf with " + std::to_string(n) + " entries");
}

void reseal_node(std::vector<uint8_t> &data) { pdata::seal_checksum(data.data(), pdata::salt::btree_node); }

// --sm: "metadata" (the default) or "data".
std::string space_map_option(const base::po::variables_map &vm) {
	std::string which = vm.count("sm") ? vm["sm"].as<std::string>() : "metadata";
	if (which != "metadata" && which != "data")
		throw base::po::error("--sm must be metadata or data");
	return which;
}

block_role ref_count_tree_role(const std::string &which) {
	return which == "metadata" ? block_role::metadata_sm_ref_counts : block_role::data_sm_ref_counts;
}

// Sets the 2-bit count of BLOCK in a bitmap of the map whose bitmaps have
// ROLE, walking the bitmaps in block order (bitmap i holds blocks
// i*16320...).  Works for the usual images where bitmaps are allocated in
// order; the index gives the exact mapping, read here from the checker's
// view through the roles only.
void set_bitmap_count(damager &d, block_role bitmap_role, const std::vector<block_address> &bitmaps,
                      block_address block, uint32_t value) {
	block_address bm = bitmaps.at(block / pdata::ENTRIES_PER_BITMAP);
	auto data = d.read(bm);
	pdata::bitmap_block(data.data()).set(uint32_t(block % pdata::ENTRIES_PER_BITMAP), value);
	pdata::seal_checksum(data.data(), pdata::salt::bitmap);
	d.write(bm, data);
	(void)bitmap_role;
}

// The bitmaps of a space map, in bitmap order.
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
	// The data index is a btree: collect its leaves' entries in key order.
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

int damage(damager &d, const std::string &kind, const base::po::variables_map &vm) {
	auto &rng = d.rng();
	if (kind == "bad-checksum" || kind == "zero-block") {
		if (!vm.count("target"))
			throw base::po::error(kind + " needs --target ROLE");
		auto role = parse_role(vm["target"].as<std::string>());
		block_address b = vm.count("where") ? d.pick_only_in(role, vm["where"].as<std::string>())
		                  : vm.count("dev")  ? d.pick_of_device(role, base::parse_natural("--dev", vm["dev"].as<std::string>()))
		                                     : d.pick(role);
		auto data = d.read(b);
		if (kind == "zero-block")
			std::fill(data.begin(), data.end(), 0);
		else
			data[4 + rng() % (BLOCK_SIZE - 4)] ^= uint8_t(1u << (rng() % 8));
		d.write(b, data);
		d.report(b, kind);
		return 0;
	}
	if (kind == "keys-out-of-order") {
		block_address b = leaf_with(d, 2);
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		uint64_t k0 = n.key(0), k1 = n.key(1);
		n.set_key(0, k1);
		n.set_key(1, k0);
		reseal_node(data);
		d.write(b, data);
		d.report(b, "keys 0 and 1 swapped, checksum valid");
		return 0;
	}
	if (kind == "mapping-past-end") {
		block_address b = leaf_with(d, 1);
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		uint64_t beyond = d.checked().sb.data_sm().nr_blocks + 5;
		uint64_t old = n.value64(0);
		n.set_value64(0, pack_block_time({beyond, unpack_block_time(old).time}));
		reseal_node(data);
		d.write(b, data);
		d.report(b, "block " + std::to_string(n.key(0)) + " now maps to data block " +
		                std::to_string(beyond) + " (was " +
		                std::to_string(unpack_block_time(old).data_block) + ")");
		return 0;
	}
	if (kind == "mapped-blocks") {
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
			return 0;
		}
		throw base::error("no device details to damage");
	}
	if (kind == "drop-details") {
		// The last entry of a leaf with two or more, so the keys left stay
		// inside the leaf's range in its parent (with --where, in a leaf
		// only those trees reach).
		std::vector<block_address> leaves = d.blocks_with(block_role::details_node);
		if (vm.count("where"))
			leaves = {d.pick_only_in(block_role::details_node, vm["where"].as<std::string>())};
		for (block_address b : leaves) {
			auto data = d.read(b);
			pdata::node_mut n(data.data());
			if (!n.is_leaf() || n.nr_entries() < 2)
				continue;
			uint64_t dev = n.key(n.nr_entries() - 1);
			n.delete_at(n.nr_entries() - 1);
			reseal_node(data);
			d.write(b, data);
			d.report(b, "thin device " + std::to_string(dev) + "'s details removed");
			return 0;
		}
		throw base::error("no details leaf with two devices");
	}
	if (kind == "count-high" || kind == "count-low") {
		std::string which = space_map_option(vm);
		bool meta = which == "metadata";
		auto bitmaps = bitmaps_of(d, meta);
		block_address victim;
		if (meta)
			victim = leaf_with(d, 1); // a mapping leaf: count 1 in a plain image
		else {
			auto leaf = d.read(leaf_with(d, 1));
			victim = unpack_block_time(pdata::node_ref(leaf.data()).value64(0)).data_block;
		}
		auto bm = d.read(bitmaps.at(victim / pdata::ENTRIES_PER_BITMAP));
		uint32_t now = pdata::bitmap_block(bm.data()).get(uint32_t(victim % pdata::ENTRIES_PER_BITMAP));
		if (now == 0 || now == 3)
			throw base::error("block " + std::to_string(victim) + " has count " +
			                  std::to_string(now) + " in its bitmap; pick another image");
		uint32_t next = kind == "count-high" ? (now == 2 ? 1 : now + 1) : now - 1;
		if (kind == "count-high" && now == 2)
			throw base::error("block count already 2; pick another image");
		set_bitmap_count(d, meta ? block_role::metadata_sm_bitmap : block_role::data_sm_bitmap, bitmaps,
		                 victim, next);
		std::cout << "damaged " << which << " space map: block " << victim << " stored count "
		          << next << " (was " << now << ")\n";
		return 0;
	}
	if (kind == "overflow-high" || kind == "overflow-low") {
		// A count kept in a space map's reference count tree (bitmap entry 3).
		std::string which = space_map_option(vm);
		for (block_address b : d.blocks_with(ref_count_tree_role(which))) {
			auto data = d.read(b);
			pdata::node_mut n(data.data());
			if (!n.is_leaf())
				continue;
			for (uint32_t i = 0; i < n.nr_entries(); i++) {
				uint32_t now = base::load_le32(n.value(i));
				if (kind == "overflow-low" && now < 4)
					continue; // one less must still belong in the tree
				uint32_t next = kind == "overflow-high" ? now + 1 : now - 1;
				base::store_le32(n.value_mut(i), next);
				reseal_node(data);
				d.write(b, data);
				std::cout << "damaged " << which << " space map: block " << n.key(i) << " stored count "
				          << next << " (was " << now << ") in reference count tree block " << b << "\n";
				return 0;
			}
		}
		throw base::error("no suitable entry in the " + which + " reference count tree; pick another image");
	}
	if (kind == "overflow-drop") {
		// A count of 3 or more whose entry is gone from the reference count
		// tree (the bitmap still says "see the tree").  The last entry of a
		// leaf, so the keys left stay inside their parent's range.
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
			return 0;
		}
		throw base::error("no " + which + " reference count tree leaf with two entries; pick another image");
	}
	if (kind == "double-ref") {
		// Point the second device's top-level entry at the first device's
		// tree (with --where, in a top-level leaf only those trees reach).
		std::vector<block_address> leaves = d.blocks_with(block_role::top_level_node);
		if (vm.count("where"))
			leaves = {d.pick_only_in(block_role::top_level_node, vm["where"].as<std::string>())};
		for (block_address b : leaves) {
			auto data = d.read(b);
			pdata::node_mut n(data.data());
			if (!n.is_leaf() || n.nr_entries() < 2)
				continue;
			uint64_t root = n.value64(0);
			n.set_value64(1, root);
			reseal_node(data);
			d.write(b, data);
			// The victim is the tree root now referenced twice with count 1.
			d.report(root, "referenced by thin devices " + std::to_string(n.key(0)) + " and " +
			                   std::to_string(n.key(1)) + " from top-level leaf " + std::to_string(b));
			return 0;
		}
		throw base::error("no top-level leaf with two devices");
	}
	if (kind == "cycle") {
		auto internals = d.blocks_with(block_role::mapping_internal);
		if (internals.empty())
			throw base::error("no internal mapping node (use more mappings)");
		block_address b = internals[rng() % internals.size()];
		auto data = d.read(b);
		pdata::node_mut n(data.data());
		n.set_value64(n.nr_entries() - 1, b);
		reseal_node(data);
		d.write(b, data);
		d.report(b, "its last child pointer points at itself");
		return 0;
	}
	if (kind == "zero-superblock") {
		d.write(0, std::vector<uint8_t>(BLOCK_SIZE, 0));
		d.report(0, "zeroed");
		return 0;
	}
	if (kind == "stale-superblock") {
		// A superblock that still points at older trees: those the held
		// metadata snapshot keeps (the newer live trees stay on the device).
		auto data = d.read(0);
		superblock sb = decode_superblock(data.data());
		if (!sb.metadata_snap)
			throw base::error("stale-superblock needs an image with a metadata snapshot");
		superblock old = decode_superblock(d.read(sb.metadata_snap).data());
		sb.device_details_root = old.device_details_root;
		sb.data_mapping_root = old.data_mapping_root;
		encode_superblock(sb, data.data());
		d.write(0, data);
		std::cout << "superblock made stale: roots " << old.device_details_root << " and "
		          << old.data_mapping_root << " of the metadata snapshot\n";
		return 0;
	}
	if (kind == "needs-check") {
		auto data = d.read(0);
		superblock sb = decode_superblock(data.data());
		sb.flags |= NEEDS_CHECK_FLAG;
		encode_superblock(sb, data.data());
		d.write(0, data);
		d.report(0, "needs_check flag set");
		return 0;
	}
	if (kind == "metadata-nr-blocks") {
		auto data = d.read(0);
		superblock sb = decode_superblock(data.data());
		sb.metadata_nr_blocks = d.io().nr_blocks() + 1000;
		encode_superblock(sb, data.data());
		d.write(0, data);
		d.report(0, "metadata_nr_blocks " + std::to_string(sb.metadata_nr_blocks));
		return 0;
	}
	if (kind == "truncate") {
		uint64_t blocks = vm.count("blocks") ? base::parse_natural("--blocks", vm["blocks"].as<std::string>())
		                                     : d.io().nr_blocks() / 2;
		if (::truncate(d.io().name().c_str(), off_t(blocks * BLOCK_SIZE)) < 0)
			throw base::file_error(d.io().name(), std::strerror(errno));
		std::cout << "truncated to " << blocks << " blocks\n";
		return 0;
	}
	if (kind == "random") {
		uint64_t count = vm.count("count") ? base::parse_natural("--count", vm["count"].as<std::string>()) : 1;
		std::vector<block_address> used;
		for (block_address b = 1; b < d.checked().roles.size(); b++)
			if (d.role(b) != block_role::unused)
				used.push_back(b);
		std::shuffle(used.begin(), used.end(), rng);
		for (uint64_t i = 0; i < count && i < used.size(); i++) {
			auto data = d.read(used[i]);
			bool zero = rng() & 1;
			if (zero)
				std::fill(data.begin(), data.end(), 0);
			else
				for (int k = 0; k < 16; k++)
					data[rng() % BLOCK_SIZE] = uint8_t(rng());
			d.write(used[i], data);
			d.report(used[i], zero ? "zeroed" : "garbled");
		}
		return 0;
	}
	throw base::po::error("unknown damage kind '" + kind + "'");
}

} // namespace

int thin_generate_damage_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("kind", po::value<std::string>(), "")
		("target", po::value<std::string>(), "")
		("where", po::value<std::string>(), "")
		("dev", po::value<std::string>(), "")
		("sm", po::value<std::string>(), "")
		("seed", po::value<std::string>(), "")
		("count", po::value<std::string>(), "")
		("blocks", po::value<std::string>(), "")
		("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("kind"))
		return base::usage_error(cli, "No --kind given.");
	try {
		uint64_t seed = vm.count("seed") ? base::parse_natural("--seed", vm["seed"].as<std::string>()) : 1;
		damager d(vm["input"].as<std::string>(), seed);
		return damage(d, vm["kind"].as<std::string>(), vm);
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
}

} // namespace thin
