// cache_dump (doc/tools.md#cache_dump): binary cache metadata to XML, as the
// reference writes it - except that format 2's dirty flags come from the
// dirty bitset (the reference prints every block clean there).
#include "base/command_line.h"
#include "base/error.h"
#include "base/output.h"
#include "caching/cache_io.h"
#include "caching/commands.h"
#include "caching/metadata_dump.h"
#include "caching/xml.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace caching {
namespace {
const char USAGE[] = "Usage: cache_dump [options] {device|file}\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-o <xml file>}\n"
                     "  {-V|--version}\n"
                     "  {--repair}\n";
} // namespace

int cache_dump_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("output,o", po::value<std::string>(), "")
		("repair,r", "")
		("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	auto io = open_cache_metadata(vm["input"].as<std::string>(), "Metadata is not large enough for superblock.");
	const bool repair = vm.count("repair");
	std::vector<std::string> notes;
	superblock sb = repair ? read_cache_superblock_for_repair(*io, notes) : read_cache_superblock(*io);
	for (const auto &line : notes)
		std::cerr << line << "\n";

	int fd = STDOUT_FILENO;
	base::file_handle out_file;
	std::string out_name = "stdout";
	if (vm.count("output")) {
		out_name = vm["output"].as<std::string>();
		int ofd = ::open(out_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (ofd < 0)
			throw base::file_error(out_name, std::strerror(errno));
		out_file = base::file_handle(ofd, out_name);
		fd = ofd;
	}
	pdata::block_manager bm(*io, 256);
	base::output_sink sink(fd, out_name);
	auto xml = make_xml_writer(sink);
	dump_result r = dump_cache(bm, sb, *xml, repair);
	sink.flush();
	if (r.damage.empty())
		return 0;
	for (const auto &line : r.damage)
		std::cerr << line << "\n";
	if (repair)
		return 0;
	std::cerr << "metadata contains errors (run cache_check for details).\n"
	          << "perhaps you wanted to run with --repair\n";
	return 1;
}

} // namespace caching
