// thin_read_floor (developer tool): reads and checksums every metadata
// block in use once, in large sorted reads - the floor a checker's time is
// measured against in `make bench`.  --count prints the number of blocks.
// --write-bytes N then writes N bytes to stdout in 1 MiB writes: the dump
// floor (a dump's reading and its output, with no per-mapping work).
#include "base/command_line.h"
#include "base/crc32c.h"
#include "base/output.h"
#include "dev-tools/commands.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_reader.h"
#include "thin-provisioning/metadata_input.h"

#include <iostream>
#include <string_view>
#include <unistd.h>

namespace thin {

int thin_read_floor_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], "Usage: thin_read_floor [options] <metadata file>\n"
	                                "Reads every metadata block in use once, in large sorted reads.\n"
	                                "Options:\n"
	                                "  {--count}      print the number of blocks read\n"
	                                "  {--write-bytes} <n>  then write n bytes to stdout\n"
	                                "  {-h|--help}\n"
	                                "  {-V|--version}\n"};
	po::options_description opts;
	opts.add_options()("count", "")("write-bytes", po::value<std::string>(), "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	auto io = open_metadata(vm["input"].as<std::string>(), "Metadata device/file too small.");
	superblock sb = read_superblock(*io);

	// The used blocks, from the metadata space map's bitmaps.
	auto used_or_not = pdata::read_used_blocks(*io, pdata::read_metadata_index(*io, sb.metadata_sm()));
	if (!used_or_not) {
		std::cerr << io->name() << ": the metadata space map cannot be read\n";
		return 1;
	}
	std::vector<pdata::block_address> used = std::move(*used_or_not);
	if (vm.count("count")) {
		std::cout << used.size() << "\n";
		return 0;
	}
	uint32_t acc = 0;
	pdata::read_in_batches(*io, used, [&](pdata::block_address, const uint8_t *d) {
		if (d)
			acc ^= base::crc32c_raw(0xffffffffu, d + 4, pdata::BLOCK_SIZE - 4);
	});
	if (vm.count("write-bytes")) {
		uint64_t left = base::parse_natural("--write-bytes", vm["write-bytes"].as<std::string>());
		std::string chunk(1 << 20, ' ');
		base::output_sink out(STDOUT_FILENO, "stdout");
		for (; left; left -= std::min<uint64_t>(left, chunk.size()))
			out.put(std::string_view(chunk).substr(0, std::min<uint64_t>(left, chunk.size())));
		out.flush();
	}
	std::cout << used.size() << " blocks, checksum xor " << acc << "\n";
	return 0;
}

} // namespace thin
