// thin_restore: XML -> binary metadata (doc/tools.md#thin_restore).
#include "base/command_line.h"
#include "base/error.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/space_map.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/output_target.h"
#include "thin-provisioning/override_options.h"
#include "thin-provisioning/xml_parser.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_restore [options]\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-i|--input} <input xml file>\n"
                     "  {-o|--output} <output device or file>\n"
                     "  {--transaction-id} <natural>\n"
                     "  {--data-block-size} <natural>\n"
                     "  {--nr-data-blocks} <natural>\n"
                     "  {-q|--quiet}\n"
                     "  {-V|--version}\n";

} // namespace

// Shared with thin_repair: the override options and their parsing.
void add_override_options(base::po::options_description &opts) {
	opts.add_options()
		("transaction-id", base::po::value<std::string>(), "")
		("data-block-size", base::po::value<std::string>(), "")
		("nr-data-blocks", base::po::value<std::string>(), "");
}

build_overrides parse_overrides(const base::po::variables_map &vm) {
	build_overrides o;
	if (vm.count("transaction-id"))
		o.transaction_id =
		    base::parse_natural("--transaction-id", vm["transaction-id"].as<std::string>());
	if (vm.count("data-block-size"))
		o.data_block_size = uint32_t(
		    base::parse_natural("--data-block-size", vm["data-block-size"].as<std::string>()));
	if (vm.count("nr-data-blocks"))
		o.nr_data_blocks =
		    base::parse_natural("--nr-data-blocks", vm["nr-data-blocks"].as<std::string>());
	return o;
}

int thin_restore_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("input,i", po::value<std::string>(), "")
		("output,o", po::value<std::string>(), "")
		("quiet,q", "");
	add_override_options(opts);
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	build_overrides overrides;
	try {
		overrides = parse_overrides(vm);
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}

	const std::string input = vm["input"].as<std::string>();
	const std::string output = vm["output"].as<std::string>();
	struct stat st;
	if (::stat(input.c_str(), &st) < 0) {
		std::cerr << "Couldn't stat file '" << input << "': " << std::strerror(errno) << "\n";
		return 1;
	}
	auto io = open_output(output, input, MIN_METADATA_BLOCKS);
	try {
		pdata::block_manager bm(*io, 1024); // new blocks are written out as they fill
		auto builder = make_metadata_builder(bm, overrides);
		parse_thin_xml(input, *builder, !vm.count("quiet"));
	} catch (const pdata::no_free_space &) {
		invalidate_superblock(*io);
		std::cerr << "Output file too small: the metadata does not fit in '" << output << "' ("
		          << io->nr_blocks() << " blocks of 4096 bytes).\n";
		return 1;
	} catch (...) {
		invalidate_superblock(*io);
		throw;
	}
	return 0;
}

} // namespace thin
