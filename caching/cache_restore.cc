// cache_restore (doc/tools.md#cache_restore): XML to binary cache metadata.  Format 2
// by default (the newer line's choice: dirty flags in their own bitset);
// the reference 0.9.0 writes format 1 unless told otherwise.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "caching/commands.h"
#include "caching/metadata_builder.h"
#include "caching/xml.h"
#include "persistent-data/space_map.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace caching {
namespace {
const char USAGE[] = "Usage: cache_restore [options]\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-i|--input} <input xml file>\n"
                     "  {-o|--output} <output device or file>\n"
                     "  {-q|--quiet}\n"
                     "  {--metadata-version} <1 or 2>\n"
                     "  {--omit-clean-shutdown}\n"
                     "  {-V|--version}\n";

// Zeroes the output's superblock (before writing, and when writing fails).
void invalidate(pdata::block_io &io) {
	std::vector<uint8_t> zero(pdata::BLOCK_SIZE, 0);
	io.write(0, 1, zero.data());
	io.flush();
}
} // namespace

int cache_restore_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("input,i", po::value<std::string>(), "")
		("output,o", po::value<std::string>(), "")
		("quiet,q", "")
		("metadata-version", po::value<std::string>(), "")
		("debug-override-metadata-version", po::value<std::string>(), "")
		("omit-clean-shutdown", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	build_options bo;
	bo.clean_shutdown = !vm.count("omit-clean-shutdown");
	try {
		if (vm.count("metadata-version")) {
			uint64_t v = base::parse_natural("--metadata-version", vm["metadata-version"].as<std::string>());
			if (v < 1 || v > 2)
				return base::usage_error(cli, "--metadata-version must be 1 or 2");
			bo.version = uint32_t(v);
		}
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
	const std::string input = vm["input"].as<std::string>(), output = vm["output"].as<std::string>();
	struct stat st;
	if (::stat(input.c_str(), &st) < 0) {
		std::cerr << "Couldn't stat file '" << input << "': " << std::strerror(errno) << "\n";
		return 1;
	}
	if (::stat(output.c_str(), &st) < 0) {
		std::cerr << "Output file does not exist.\n";
		return 1;
	}
	if (base::same_file(input, output))
		throw base::error(output + ": is the input; refusing to overwrite it");
	pdata::file_block_io io(output, base::access_mode::read_write);
	if (io.nr_blocks() < 16) {
		std::cerr << "Output file too small.\n";
		return 1;
	}
	invalidate(io);
	try {
		pdata::block_manager bm(io, 1024);
		auto builder = make_cache_builder(bm, bo);
		read_cache_xml(input, *builder, !vm.count("quiet"));
	} catch (const pdata::no_free_space &) {
		invalidate(io);
		std::cerr << "Output file too small: the metadata does not fit in '" << output << "'.\n";
		return 1;
	} catch (...) {
		invalidate(io);
		throw;
	}
	return 0;
}

} // namespace caching
