// cache_repair (doc/tools.md#cache_repair): what cache_dump --repair reads, written
// by cache_restore's builder into a new metadata device.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "caching/cache_io.h"
#include "caching/commands.h"
#include "caching/metadata_builder.h"
#include "caching/metadata_dump.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace caching {
namespace {
const char USAGE[] = "Usage: cache_repair [options]\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-i|--input} <input metadata (binary format)>\n"
                     "  {-o|--output} <output metadata (binary format)>\n"
                     "  {-q|--quiet}\n"
                     "  {-V|--version}\n";
} // namespace

int cache_repair_main(int argc, char **argv) {
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
	auto in = open_cache_metadata(input, "Metadata is not large enough for superblock.");
	std::vector<std::string> notes;
	superblock sb = read_cache_superblock_for_repair(*in, notes);
	if (!vm.count("quiet"))
		for (const auto &line : notes)
			std::cerr << line << "\n";
	pdata::file_block_io out(output, base::access_mode::read_write);
	std::vector<uint8_t> zero(pdata::BLOCK_SIZE, 0);
	out.write(0, 1, zero.data());
	try {
		pdata::block_manager in_bm(*in, 256), out_bm(out, 1024);
		build_options bo;
		bo.version = sb.version; // the format the cache was using
		auto builder = make_cache_builder(out_bm, bo);
		dump_result r = dump_cache(in_bm, sb, *builder, true);
		if (!vm.count("quiet"))
			for (const auto &line : r.damage)
				std::cerr << line << "\n";
	} catch (...) {
		out.write(0, 1, zero.data());
		out.flush();
		throw;
	}
	return 0;
}

} // namespace caching
