// thin_trim: tells the data device that the blocks the pool does not use
// are free (doc/tools.md#thin_trim): BLKDISCARD on a block device, holes punched in
// a regular file (the reference accepts block devices only).
//
// Discarding destroys data, so the free ranges come from a data space map
// that has just passed a full check: a block whose count is stored too low
// would look free while a device still maps it.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/space_map_reader.h"
#include "base/check_report.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_checker.h"
#include "thin-provisioning/metadata_input.h"

#include <iostream>
#include <map>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_trim [options] --metadata-dev {device|file} --data-dev {device|file}\n"
                     "Options:\n"
                     "  {--pool-inactive}\n"
                     "  {-q|--quiet}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

// Free ranges [begin, end) of the data space map, in data blocks.  Any
// damage to the map is an error: a block it cannot vouch for is not free.
std::vector<std::pair<uint64_t, uint64_t>> free_ranges(pdata::block_io &io, const superblock &sb) {
	pdata::block_manager bm(io, 64);
	pdata::sm_index index = pdata::read_data_index(bm, sb.data_sm());
	std::vector<std::pair<uint64_t, uint64_t>> ranges;
	auto damage = pdata::for_each_entry(io, index, "data", [&](pdata::block_address b, uint32_t entry) {
		if (entry)
			return;
		if (!ranges.empty() && ranges.back().second == b)
			ranges.back().second++;
		else
			ranges.push_back({b, b + 1});
	});
	if (!damage.empty())
		throw base::error(io.name() + ": " + damage.front().reason);
	return ranges;
}

} // namespace

int thin_trim_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("metadata-dev", po::value<std::string>(), "")
		("data-dev", po::value<std::string>(), "")
		("pool-inactive", "")
		("quiet,q", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("metadata-dev") || !vm.count("data-dev")) {
		std::cerr << USAGE;
		return 1;
	}
	bool quiet = vm.count("quiet");
	if (vm.count("pool-inactive") && !quiet)
		std::cerr << "--pool-inactive no longer required since we ensure the metadata device is opened "
		             "exclusively.\n";

	const std::string meta_path = vm["metadata-dev"].as<std::string>();
	const std::string data_path = vm["data-dev"].as<std::string>();
	auto io = open_metadata(meta_path, "Metadata is not large enough for superblock.");
	superblock sb = read_superblock(*io);

	// Only metadata that passes a full check may say which blocks are free.
	{
		check_report quiet_report(nullptr);
		check_options o;
		auto result = check_metadata(*io, o, quiet_report);
		if (quiet_report.fatal_count() || !result.space_maps_checked)
			throw base::error(meta_path + ": metadata has errors (run thin_check); nothing discarded");
	}

	try {
		base::inspect_path(data_path);
	} catch (const base::error &) {
		throw base::error("Couldn't open data device '" + data_path + "'");
	}
	base::file_handle data = base::open_path(data_path, base::access_mode::read_write);
	uint64_t block_bytes = uint64_t(sb.data_block_size) * 512;
	uint64_t need = sb.data_sm().nr_blocks * block_bytes;
	uint64_t have = base::size_of(data);
	if (have < need)
		throw base::error(data_path + ": data device is " + std::to_string(have) + " bytes, smaller than the " +
		                  std::to_string(need) + " the metadata describes");

	uint64_t discarded = 0;
	for (auto [b, e] : free_ranges(*io, sb)) {
		base::discard(data, b * block_bytes, (e - b) * block_bytes);
		discarded += e - b;
	}
	if (!quiet)
		std::cerr << "discarded " << discarded << " free data blocks of " << sb.data_sm().nr_blocks << "\n";
	return 0;
}

} // namespace thin
