// era_restore (doc/tools.md#era_restore): XML to binary era metadata.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "era/commands.h"
#include "era/metadata_builder.h"
#include "era/xml.h"
#include "persistent-data/space_map.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace era {
namespace {
const char USAGE[] = "Usage: era_restore [options]\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-i|--input} <input xml file>\n"
                     "  {-o|--output} <output device or file>\n"
                     "  {-q|--quiet}\n"
                     "  {-V|--version}\n";
void invalidate(pdata::block_io &io) {
	std::vector<uint8_t> zero(pdata::BLOCK_SIZE, 0);
	io.write(0, 1, zero.data());
	io.flush();
}
} // namespace

int era_restore_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("input,i", po::value<std::string>(), "")("output,o", po::value<std::string>(), "")(
	    "quiet,q", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
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
		auto builder = make_era_builder(bm);
		read_era_xml(input, *builder, !vm.count("quiet"));
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

} // namespace era
