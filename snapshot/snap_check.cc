// snap_check: validates a dm-snapshot exception store on its COW device and
// prints the numbers `lvs` and the kernel's status report.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "snapshot/commands.h"
#include "snapshot/store.h"

#include <cstdio>
#include <iostream>

namespace snapshot {
namespace {
const char USAGE[] = "Usage: snap_check [options] {COW device|file}\n"
                     "Options:\n"
                     "  {-q|--quiet}\n"
                     "  {--origin-size} <sectors>   check origin chunks against it\n"
                     "  {--chunk-size} <sectors>    the chunk size the store must have\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";
} // namespace

int snap_check_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("quiet,q", "")("origin-size", po::value<std::string>(), "")(
	    "chunk-size", po::value<std::string>(), "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	bool quiet = vm.count("quiet");
	std::optional<uint64_t> origin_sectors, chunk_size;
	try {
		if (vm.count("origin-size"))
			origin_sectors = base::parse_natural("--origin-size", vm["origin-size"].as<std::string>());
		if (vm.count("chunk-size"))
			chunk_size = base::parse_natural("--chunk-size", vm["chunk-size"].as<std::string>());
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
	const std::string input = vm["input"].as<std::string>();
	base::file_handle cow;
	try {
		cow = base::open_path(input, base::access_mode::read_only);
	} catch (const base::error &e) {
		if (!quiet)
			std::cerr << e.what() << "\n";
		return 1;
	}
	// The origin size is known in sectors; the chunk size only once the
	// header is read, so the store is read first without it.
	store s = read_store(cow, std::nullopt);
	if (origin_sectors && s.geo)
		s = read_store(cow, (*origin_sectors + s.geo->chunk_size - 1) / s.geo->chunk_size);
	if (chunk_size && s.geo && *chunk_size != s.geo->chunk_size)
		s.problems.push_back({"chunk size is " + std::to_string(s.geo->chunk_size) + " sectors, expected " +
		                          std::to_string(*chunk_size),
		                      true});
	size_t fatal = 0;
	if (!quiet) {
		std::cerr << "examining header\n";
		if (s.geo)
			std::cerr << "examining exception areas\n";
	}
	for (const auto &p : s.problems) {
		fatal += p.fatal;
		if (!quiet)
			std::cerr << "  " << p.what << "\n";
	}
	if (s.geo && !quiet) {
		const geometry &g = *s.geo;
		uint64_t allocated = (1 + s.areas + s.exceptions.size()) * g.chunk_size;
		uint64_t total = g.cow_chunks * g.chunk_size;
		char pct[32];
		std::snprintf(pct, sizeof pct, "%.2f", total ? 100.0 * double(allocated) / double(total) : 0.0);
		std::cout << "CHUNK_SIZE=" << g.chunk_size << "\n"
		          << "VALID=" << s.hdr.valid << "\n"
		          << "EXCEPTIONS=" << s.exceptions.size() << "\n"
		          << "METADATA_AREAS=" << s.areas << "\n"
		          << "ALLOCATED_SECTORS=" << allocated << "\n"
		          << "TOTAL_SECTORS=" << total << "\n"
		          << "METADATA_SECTORS=" << (s.areas + 1) * g.chunk_size << "\n"
		          << "USED_PERCENT=" << pct << "\n";
	}
	return fatal ? 1 : 0;
}

} // namespace snapshot
