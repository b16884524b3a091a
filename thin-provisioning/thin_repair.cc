// thin_repair: salvages what is readable from damaged metadata into a new
// metadata device (doc/tools.md#thin_repair).  LVM runs it from `lvconvert --repair`.
#include "base/command_line.h"
#include "base/error.h"
#include "persistent-data/block_manager.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_builder.h"
#include "thin-provisioning/metadata_dump.h"
#include "thin-provisioning/metadata_input.h"
#include "thin-provisioning/output_target.h"
#include "thin-provisioning/override_options.h"
#include "thin-provisioning/superblock_salvage.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_repair [options] {device|file}\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-i|--input} <input metadata (binary format)>\n"
                     "  {-o|--output} <output metadata (binary format)>\n"
                     "  {--transaction-id} <natural>\n"
                     "  {--data-block-size} <natural>\n"
                     "  {--nr-data-blocks} <natural>\n"
                     "  {-q|--quiet}\n"
                     "  {-V|--version}\n";

} // namespace

int thin_repair_main(int argc, char **argv) {
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
	bool quiet = vm.count("quiet");

	const std::string input = vm["input"].as<std::string>();
	const std::string output = vm["output"].as<std::string>();
	struct stat st;
	if (::stat(input.c_str(), &st) < 0) {
		std::cerr << "Couldn't stat file '" << input << "': " << std::strerror(errno) << "\n";
		return 1;
	}
	auto in = open_metadata(input, "Metadata is not large enough for superblock.");
	superblock_overrides given{overrides.transaction_id, overrides.nr_data_blocks, overrides.data_block_size};
	salvaged_superblock found = salvage_superblock(*in, given);
	if (!quiet)
		for (const auto &line : found.notes)
			std::cerr << line << "\n";
	const superblock &sb = found.sb;
	auto out = open_output(output, input, MIN_METADATA_BLOCKS);
	try {
		pdata::block_manager in_bm(*in, 1024);
		pdata::block_manager out_bm(*out, 1024);
		auto builder = make_metadata_builder(out_bm, overrides);
		dump_options d;
		d.repair = true;
		d.transaction_id = overrides.transaction_id;
		d.data_block_size = overrides.data_block_size;
		d.nr_data_blocks = overrides.nr_data_blocks;
		d.other_top_levels = std::move(found.other_top_levels);
		dump_result r = dump_metadata(in_bm, sb, found.nr_data_blocks, d, *builder);
		if (!quiet)
			for (const auto &line : r.damage)
				std::cerr << line << "\n";
	} catch (...) {
		invalidate_superblock(*out);
		throw;
	}
	return 0;
}

} // namespace thin
