// snap_export: the snapshot's content - the origin with every exception's
// COW chunk applied - written to a file or device.  The way to get data out
// of a snapshot the kernel will not activate.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "snapshot/commands.h"
#include "snapshot/store.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace snapshot {
namespace {
const char USAGE[] = "Usage: snap_export [options] --origin <origin> --cow <COW> -o <output>\n"
                     "Options:\n"
                     "  {--origin} <origin device or file>\n"
                     "  {--cow} <COW device or file>\n"
                     "  {-o|--output} <file or device>\n"
                     "  {--force-invalid}   export a snapshot the kernel invalidated\n"
                     "  {-q|--quiet}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";
} // namespace

int snap_export_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("origin", po::value<std::string>(), "")("cow", po::value<std::string>(), "")(
	    "output,o", po::value<std::string>(), "")("force-invalid", "")("quiet,q", "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("origin") || !vm.count("cow"))
		return base::usage_error(cli, "Give both --origin and --cow.");
	if (!vm.count("output"))
		return base::usage_error(cli, "No output file provided.");
	const std::string output = vm["output"].as<std::string>();
	for (const char *in : {"origin", "cow"})
		if (::access(output.c_str(), F_OK) == 0 && base::same_file(vm[in].as<std::string>(), output))
			throw base::error(output + ": is the " + in + "; refusing to overwrite it");
	base::file_handle origin = base::open_path(vm["origin"].as<std::string>(), base::access_mode::read_only);
	base::file_handle cow = base::open_path(vm["cow"].as<std::string>(), base::access_mode::read_only);
	store s = read_store(cow, std::nullopt);
	if (!s.geo) {
		for (const auto &p : s.problems)
			std::cerr << cow.path() << ": " << p.what << "\n";
		return 1;
	}
	uint64_t origin_bytes = base::size_of(origin), cb = s.geo->chunk_bytes();
	if (!s.hdr.valid) {
		if (!vm.count("force-invalid")) {
			std::cerr << cow.path() << ": the snapshot is marked invalid; --force-invalid exports the "
			          << s.exceptions.size() << " exceptions it recorded\n";
			return 1;
		}
		std::cerr << "warning: the snapshot was invalidated; origin chunks written after that are not "
		             "recoverable and appear with the origin's current data\n";
	}
	size_t bad = 0;
	for (const auto &e : s.exceptions)
		bad += !e.ok;
	if (bad)
		std::cerr << "warning: " << bad << " exceptions fail the checks (run snap_check) and are left out\n";

	int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		throw base::file_error(output, std::strerror(errno));
	base::file_handle out(fd, output);
	std::vector<uint8_t> buf(1 << 20);
	for (uint64_t off = 0; off < origin_bytes; off += buf.size()) {
		size_t n = size_t(std::min<uint64_t>(buf.size(), origin_bytes - off));
		base::read_exact(origin, off, buf.data(), n);
		base::write_exact(out, off, buf.data(), n);
	}
	std::vector<uint8_t> chunk(cb);
	for (const auto &e : s.exceptions) {
		if (!e.ok || e.old_chunk * cb >= origin_bytes)
			continue;
		size_t n = size_t(std::min<uint64_t>(cb, origin_bytes - e.old_chunk * cb));
		base::read_exact(cow, e.new_chunk * cb, chunk.data(), n);
		base::write_exact(out, e.old_chunk * cb, chunk.data(), n);
	}
	if (::fsync(out.fd()) < 0)
		throw base::file_error(output, "fsync failed");
	if (!vm.count("quiet"))
		std::cerr << "exported " << origin_bytes << " bytes with " << s.exceptions.size() - bad << " exceptions\n";
	return 0;
}

} // namespace snapshot
