// cache_metadata_size (doc/tools.md#cache_metadata_size): the metadata a cache of N blocks
// needs, by the reference's formula and in its words.
#include "base/command_line.h"
#include "base/error.h"
#include "caching/commands.h"

#include <iostream>

namespace caching {
namespace {
const char USAGE[] = "Usage: cache_metadata_size [options]\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n"
                     "  {--block-size <sectors>}\n"
                     "  {--device-size <sectors>}\n"
                     "  {--nr-blocks <natural>}\n"
                     "  {--max-hint-width <nr bytes>}\n"
                     "\n"
                     "These all relate to the size of the fast device (eg, SSD), rather\n"
                     "than the whole cached device.\n";

int fail(const std::string &message) {
	std::cerr << message << "\n";
	return 1;
}
} // namespace

int cache_metadata_size_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("block-size", po::value<std::string>(), "")("device-size", po::value<std::string>(), "")(
	    "nr-blocks", po::value<std::string>(), "")("max-hint-width", po::value<std::string>(), "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	auto number = [&](const char *name) { return base::parse_natural(std::string("--") + name, vm[name].as<std::string>()); };
	uint64_t hint_width = 4;
	std::optional<uint64_t> nr_blocks;
	try {
		if (vm.count("max-hint-width"))
			hint_width = number("max-hint-width");
		if (vm.count("block-size") && !vm.count("device-size"))
			return fail("If you specify --block-size you must also give --device-size.");
		if (vm.count("device-size") && !vm.count("block-size"))
			return fail("If you specify --device-size you must also give --block-size.");
		if (vm.count("block-size")) {
			uint64_t bs = number("block-size"), ds = number("device-size");
			if (!bs)
				return fail("--block-size must be above 0.");
			nr_blocks = ds / bs;
		}
		if (vm.count("nr-blocks")) {
			uint64_t n = number("nr-blocks");
			if (nr_blocks && *nr_blocks != n)
				return fail("Contradictory arguments given, --nr-blocks doesn't match the --device-size and "
				            "--block-size.");
			nr_blocks = n;
		}
	} catch (const po::error &e) {
		return fail(e.what());
	}
	if (!nr_blocks)
		return fail("Please specify either --device-size and --block-size, or --nr-blocks.");
	// The reference's estimate: a fixed 4 MiB, the mapping array (16 bytes a
	// block with its index) and the hint array.
	uint64_t sectors = 8192 + *nr_blocks * 16 / 512 + *nr_blocks * (hint_width + 8) / 512;
	std::cout << sectors << " sectors\n";
	return 0;
}

} // namespace caching
