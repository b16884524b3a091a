// thin_generate_damage (developer tool): makes one named kind of damage in
// a metadata image, in place, and says on stdout which block it damaged and
// how - so tests can check that the checker names it and that repair
// recovers everything else.  Checksums are re-sealed where the damage is
// meant to be structural only.
#include "base/command_line.h"
#include "dev-tools/commands.h"
#include "dev-tools/thin_damage_kinds.h"

namespace thin {
namespace {

struct damage_kind {
	const char *name;
	const char *options; // those the kind reads, as the usage shows them
	const char *help;    // one line
	void (*apply)(damage::damager &, const damage::options &);
};

const damage_kind KINDS[] = {
    {"bad-checksum", "--target ROLE", "flip a bit: the checksum goes stale", damage::bad_checksum},
    {"zero-block", "--target ROLE", "zero a block of that role", damage::zero_block},
    {"keys-out-of-order", "", "swap the first two keys of a mapping leaf", damage::keys_out_of_order},
    {"mapping-past-end", "", "map a block beyond the data device", damage::mapping_past_end},
    {"mapped-blocks", "", "mapped_blocks 7 too many in a device's details", damage::wrong_mapped_blocks},
    {"drop-details", "[--where W]", "a device's entry removed from the details", damage::drop_details},
    {"count-high", "[--sm SM]", "a stored bitmap count one too high (a leak)", damage::count_high},
    {"count-low", "[--sm SM]", "a stored bitmap count one too low", damage::count_low},
    {"overflow-high", "[--sm SM]", "a reference count tree's count one too high", damage::overflow_high},
    {"overflow-low", "[--sm SM]", "a reference count tree's count one too low", damage::overflow_low},
    {"overflow-drop", "[--sm SM]", "a reference count tree's entry removed", damage::overflow_drop},
    {"double-ref", "[--where W]", "two devices point at one unshared tree", damage::double_ref},
    {"cycle", "", "a mapping node's last child points at itself", damage::cycle},
    {"zero-superblock", "", "the superblock zeroed", damage::zero_superblock},
    {"stale-superblock", "", "superblock points at the snapshot's older trees", damage::stale_superblock},
    {"needs-check", "", "set the superblock's needs_check flag", damage::needs_check},
    {"metadata-nr-blocks", "", "superblock claims a larger metadata device", damage::metadata_nr_blocks},
    {"truncate", "[--blocks N]", "cut the file (default: to half)", damage::truncate_file},
    {"random", "[--count N]", "N random used blocks (default 1) zeroed or garbled", damage::random_blocks},
};

const damage_kind *find_kind(const std::string &name) {
	for (const auto &k : KINDS)
		if (name == k.name)
			return &k;
	return nullptr;
}

// "  WORD WORD ..." broken before column 78.
std::string wrapped(const std::vector<std::string> &words) {
	std::string out, line = " ";
	for (const auto &w : words) {
		if (line.size() + 1 + w.size() > 78) {
			out += line + "\n";
			line = " ";
		}
		line += " " + w;
	}
	return out + line + "\n";
}

std::string usage() {
	const size_t help_column = 32;
	std::string u = "Usage: thin_generate_damage <metadata file> --kind <kind> [options]\n"
	                "Damages the metadata in place and prints what it did.\n"
	                "Kinds:\n";
	for (const auto &k : KINDS) {
		std::string line = std::string("  ") + k.name + (*k.options ? " " : "") + k.options;
		line += line.size() + 2 <= help_column ? std::string(help_column - line.size(), ' ')
		                                       : "\n" + std::string(help_column, ' ');
		u += line + k.help + "\n";
	}
	std::vector<std::string> roles;
	for (const auto &r : damage::role_names())
		roles.push_back(r + ",");
	roles.back().pop_back();
	return u + "W is live or snapshot: what only the live trees, or only the held metadata\n"
	           "  snapshot's trees, reach.  SM is metadata (the default) or data.\n"
	           "A block of ROLE is picked at random (see --seed) from those --where W or\n"
	           "  --dev N (the mapping nodes of thin device N) leaves.  Roles:\n" +
	       wrapped(roles) +
	       "Options:\n"
	       "  {--seed} <n>\n"
	       "  {-h|--help}\n"
	       "  {-V|--version}\n";
}

} // namespace

int thin_generate_damage_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], usage()};
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
	// (Looked up before the image is opened: a misspelt kind is a usage
	// error whatever state the image is in.)
	const damage_kind *kind = find_kind(vm["kind"].as<std::string>());
	if (!kind)
		return base::usage_error(cli, "unknown damage kind '" + vm["kind"].as<std::string>() + "'");
	try {
		uint64_t seed = base::natural_option(vm, "seed", 1);
		damage::damager d(vm["input"].as<std::string>(), seed);
		kind->apply(d, vm);
		return 0;
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
}

} // namespace thin
