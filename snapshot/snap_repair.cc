// snap_repair: salvages a damaged exception store into a new COW device:
// every exception that passes the checks is kept (a duplicate or a pair
// pointing off the device is dropped and reported), laid out afresh, and
// its data chunk copied to its new place.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "snapshot/commands.h"
#include "snapshot/store.h"

#include <iostream>
#include <sys/stat.h>

namespace snapshot {
namespace {
const char USAGE[] = "Usage: snap_repair [options]\n"
                     "Options:\n"
                     "  {-i|--input} <damaged COW device or file>\n"
                     "  {-o|--output} <new COW device or file>\n"
                     "  {-q|--quiet}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";
} // namespace

int snap_repair_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("input,i", po::value<std::string>(), "")("output,o", po::value<std::string>(), "")("quiet,q", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	const std::string input = vm["input"].as<std::string>(), output = vm["output"].as<std::string>();
	bool quiet = vm.count("quiet");
	struct stat st;
	if (::stat(output.c_str(), &st) < 0) {
		std::cerr << "Output file does not exist.\n";
		return 1;
	}
	if (base::same_file(input, output))
		throw base::error(output + ": is the input; refusing to overwrite it");
	base::file_handle in = base::open_path(input, base::access_mode::read_only);
	store s = read_store(in, std::nullopt);
	if (!s.geo) {
		for (const auto &p : s.problems)
			std::cerr << input << ": " << p.what << "\n";
		return 1;
	}
	if (!quiet)
		for (const auto &p : s.problems)
			std::cerr << p.what << "\n";
	base::file_handle out = base::open_path(output, base::access_mode::read_write);
	geometry g{s.geo->chunk_size, base::size_of(out) / s.geo->chunk_bytes()};
	std::vector<exception> kept;
	for (const auto &e : s.exceptions)
		if (e.ok)
			kept.push_back({e.old_chunk, nth_data_chunk(g, kept.size()), true});
	if (!kept.empty() && kept.back().new_chunk >= g.cow_chunks)
		throw base::error(output + ": too small for " + std::to_string(kept.size()) + " exceptions");
	std::vector<uint8_t> chunk(g.chunk_bytes());
	size_t k = 0;
	for (const auto &e : s.exceptions) {
		if (!e.ok)
			continue;
		base::read_exact(in, e.new_chunk * g.chunk_bytes(), chunk.data(), chunk.size());
		base::write_exact(out, kept[k++].new_chunk * g.chunk_bytes(), chunk.data(), chunk.size());
	}
	write_store(out, g, kept, true);
	if (!quiet) {
		std::cerr << "kept " << kept.size() << " of " << s.exceptions.size() << " exceptions";
		if (!s.hdr.valid)
			std::cerr << "; the input was marked invalid, the output is valid and holds what the snapshot "
			             "held when it was invalidated";
		std::cerr << "\n";
	}
	return 0;
}

} // namespace snapshot
