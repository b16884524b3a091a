// thin_metadata_pack and thin_metadata_unpack: a metadata device's used
// blocks to a compressed file and back (format: metadata_pack.h).
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "persistent-data/block_io.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_input.h"
#include "thin-provisioning/metadata_pack.h"

#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace thin {
namespace {

const char PACK_USAGE[] = "Usage: thin_metadata_pack [options]\n"
                          "Options:\n"
                          "  {-h|--help}\n"
                          "  {-i|--input} <input metadata (binary format)>\n"
                          "  {-o|--output} <output packed file>\n"
                          "  {-V|--version}\n";
const char UNPACK_USAGE[] = "Usage: thin_metadata_unpack [options]\n"
                            "Options:\n"
                            "  {-h|--help}\n"
                            "  {-i|--input} <input packed file>\n"
                            "  {-o|--output} <output metadata (binary format)>\n"
                            "  {-V|--version}\n";

// Parses -i/-o; returns an exit code when the tool must stop.
std::optional<int> parse(int argc, char **argv, base::tool_cli &cli, std::string &in, std::string &out) {
	namespace po = base::po;
	po::options_description opts;
	opts.add_options()("input,i", po::value<std::string>(), "")("output,o", po::value<std::string>(), "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	in = vm["input"].as<std::string>();
	out = vm["output"].as<std::string>();
	return std::nullopt;
}

} // namespace

int thin_metadata_pack_main(int argc, char **argv) {
	base::tool_cli cli{argv[0], PACK_USAGE};
	std::string in, out;
	if (auto rc = parse(argc, argv, cli, in, out))
		return *rc;
	auto dev = open_metadata(in, "Metadata is not large enough for superblock.");
	if (::access(out.c_str(), F_OK) == 0 && base::same_file(in, out))
		throw base::error(out + ": is the input; refusing to overwrite it");
	auto st = pack_metadata(*dev, out);
	if (!st.used_space_map)
		std::cerr << in << ": metadata space map unreadable: packed every non-zero block (" << st.packed
		          << ")\n";
	return 0;
}

int thin_metadata_unpack_main(int argc, char **argv) {
	base::tool_cli cli{argv[0], UNPACK_USAGE};
	std::string in, out;
	if (auto rc = parse(argc, argv, cli, in, out))
		return *rc;
	uint64_t blocks = packed_device_blocks(in); // rejects a non-pack input before touching OUT
	if (::access(out.c_str(), F_OK) == 0 && base::same_file(in, out))
		throw base::error(out + ": is the input; refusing to overwrite it");
	bool exists = ::access(out.c_str(), F_OK) == 0;
	bool regular = !exists || base::inspect_path(out).kind == base::file_kind::regular;
	if (regular) {
		// A regular file is emptied and made exactly the device's size:
		// sparse, all zeros, so only the packed blocks need writing.
		int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || ::ftruncate(fd, 0) < 0 || ::ftruncate(fd, off_t(blocks * pdata::BLOCK_SIZE)) < 0) {
			int e = errno;
			if (fd >= 0)
				::close(fd);
			throw base::file_error(out, std::strerror(e));
		}
		::close(fd);
	}
	pdata::file_block_io dev(out, base::access_mode::read_write);
	unpack_metadata(in, dev, regular);
	return 0;
}

} // namespace thin
