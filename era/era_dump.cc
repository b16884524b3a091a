// era_dump (doc/tools.md#era_dump): era metadata as XML; --logical folds the
// writesets into the era array.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "base/output.h"
#include "era/commands.h"
#include "era/era_io.h"
#include "era/metadata.h"
#include "era/xml.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace era {
namespace {
const char USAGE[] = "Usage: era_dump [options] {device|file}\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-o <xml file>}\n"
                     "  {-V|--version}\n"
                     "  {--repair}\n"
                     "  {--logical}\n";
} // namespace

int era_dump_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("output,o", po::value<std::string>(), "")("repair,r", "")("logical", "")(
	    "input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	bool repair = vm.count("repair");
	auto io = open_era_metadata(vm["input"].as<std::string>(), "Metadata is not large enough for superblock.");
	std::string note;
	superblock sb = repair ? read_era_superblock_for_repair(*io, note) : read_era_superblock(*io);
	if (!note.empty())
		std::cerr << note << "\n";
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
	std::vector<std::string> damage;
	dump_era(bm, sb, vm.count("logical"), true, *xml, damage, repair);
	sink.flush();
	if (damage.empty())
		return 0;
	for (const auto &d : damage)
		std::cerr << d << "\n";
	if (repair)
		return 0;
	std::cerr << "metadata contains errors (run era_check for details).\n"
	          << "perhaps you wanted to run with --repair\n";
	return 1;
}

} // namespace era
