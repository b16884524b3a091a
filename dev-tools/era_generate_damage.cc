// era_generate_damage (developer tool): makes one named kind of damage in
// era metadata, with checksums resealed where only the content should be
// wrong, and says which block it hit; also replays the kernel's metadata
// snapshot so tests can hold one.  The era damage tests drive it.
#include "base/command_line.h"
#include "base/endian.h"
#include "base/error.h"
#include "dev-tools/commands.h"
#include "dev-tools/era_kernel_steps.h"
#include "dev-tools/era_metadata_editor.h"
#include "persistent-data/array.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"

#include <iostream>

namespace era {
namespace {

const char USAGE[] = "Usage: era_generate_damage <metadata file> --kind <kind> [--target <what>]\n"
                     "Kinds:\n"
                     "  bad-checksum --target superblock|writeset-tree|writeset|era-array|era-array-index\n"
                     "                     a bit flipped, the checksum left stale (writeset: the\n"
                     "                     oldest archived writeset's first bitset block)\n"
                     "  count-high, count-low\n"
                     "                     the metadata space map's count of the first era array\n"
                     "                     block, one off (resealed)\n"
                     "  era-too-high       origin block 0's era one above the current era\n"
                     "  metadata-snap      not damage: the snapshot take_metadata_snap leaves\n"
                     "  diverge-live [--era <era>]\n"
                     "                     not damage: after metadata-snap, origin block 0's era\n"
                     "                     (default: the current era) changed in the live era\n"
                     "                     array only, copy-on-write as the kernel does\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

// Past the superblock's fields and the entries of small nodes, so there
// only the checksum goes wrong (in a full array block it hits a value,
// which the checksum catches first).
constexpr size_t FLIP_AT = 1000;

void report(block_address b, const std::string &what) {
	std::cout << "damaged block " << b << ": " << what << "\n";
}

// The bitset of the oldest archived writeset.
block_address oldest_writeset_root(metadata_editor &ed) {
	auto leaf = ed.read(ed.first_leaf(ed.sb().writeset_tree_root));
	pdata::node_ref n(leaf.data());
	if (!n.nr_entries())
		throw base::error("no archived writeset to damage");
	return decode_writeset(n.value(0)).root;
}

int bad_checksum(metadata_editor &ed, const std::string &target, const base::tool_cli &cli) {
	const superblock &sb = ed.sb();
	block_address b;
	if (target == "superblock")
		b = 0;
	else if (target == "writeset-tree")
		b = sb.writeset_tree_root;
	else if (target == "writeset")
		b = ed.first_array_block(oldest_writeset_root(ed));
	else if (target == "era-array")
		b = ed.first_array_block(sb.era_array_root);
	else if (target == "era-array-index")
		b = sb.era_array_root;
	else
		return base::usage_error(cli, "unknown --target '" + target + "'");
	auto d = ed.read(b);
	d[FLIP_AT] ^= 0x08;
	ed.write(b, d);
	report(b, target + ": bad checksum");
	return 0;
}

int count_off_by_one(metadata_editor &ed, bool high) {
	block_address victim = ed.first_array_block(ed.sb().era_array_root);
	uint32_t now = ed.count(victim);
	if (now != 1)
		throw base::error("block " + std::to_string(victim) + " has count " + std::to_string(now) + ", not 1");
	ed.set_count_raw(victim, high ? 2 : 0);
	report(victim, std::string("stored count ") + (high ? "2" : "0") + " (was 1)");
	return 0;
}

int era_too_high(metadata_editor &ed) {
	const superblock &sb = ed.sb();
	if (sb.current_era == UINT32_MAX)
		throw base::error("the current era is already the highest one");
	block_address b = ed.first_array_block(sb.era_array_root);
	auto d = ed.read(b);
	base::store_le32(d.data() + pdata::ARRAY_BLOCK_HEADER, sb.current_era + 1);
	pdata::seal_checksum(d.data(), pdata::salt::array);
	ed.write(b, d);
	report(b, "origin block 0 has era " + std::to_string(sb.current_era + 1) + ", above the current era " +
	              std::to_string(sb.current_era));
	return 0;
}

} // namespace

int era_generate_damage_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("kind", po::value<std::string>(), "")("target", po::value<std::string>(), "")(
	    "era", po::value<std::string>(), "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input") || !vm.count("kind"))
		return base::usage_error(cli, "Give the metadata file and --kind.");
	std::string kind = vm["kind"].as<std::string>();
	metadata_editor ed(vm["input"].as<std::string>());

	if (kind == "bad-checksum")
		return bad_checksum(ed, vm.count("target") ? vm["target"].as<std::string>() : "", cli);
	if (kind == "count-high" || kind == "count-low")
		return count_off_by_one(ed, kind == "count-high");
	if (kind == "era-too-high")
		return era_too_high(ed);
	if (kind == "metadata-snap") {
		block_address at = take_metadata_snap(ed);
		std::cout << "metadata snapshot at block " << at << "\n";
		return 0;
	}
	if (kind == "diverge-live") {
		uint32_t era = ed.sb().current_era;
		if (vm.count("era")) {
			uint64_t v;
			try {
				v = base::parse_natural("--era", vm["era"].as<std::string>());
			} catch (const po::error &e) {
				return base::usage_error(cli, e.what());
			}
			if (v > UINT32_MAX)
				return base::usage_error(cli, "--era is above 4294967295");
			era = uint32_t(v);
		}
		auto c = set_live_era(ed, era);
		std::cout << "live era array diverged: origin block 0 era " << c.old_era << " -> " << era << " (root "
		          << c.old_root << " -> " << c.new_root << ", array block " << c.old_array_block << " -> "
		          << c.new_array_block << ")\n";
		return 0;
	}
	return base::usage_error(cli, "unknown --kind '" + kind + "'");
}

} // namespace era
