// era_check (doc/tools.md#era_check).
#include "base/command_line.h"
#include "base/error.h"
#include "era/commands.h"
#include "era/era_io.h"
#include "era/metadata_checker.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace era {
namespace {
const char USAGE[] = "Usage: era_check [options] {device|file}\n"
                     "Options:\n"
                     "  {-q|--quiet}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n"
                     "  {--super-block-only}\n"
                     "  {--ignore-non-fatal-errors}\n";
} // namespace

int era_check_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("quiet,q", "")("super-block-only", "")("ignore-non-fatal-errors", "")(
	    "input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	bool quiet = vm.count("quiet");
	const std::string input = vm["input"].as<std::string>();
	struct stat st;
	if (::stat(input.c_str(), &st) < 0) {
		if (!quiet)
			std::cerr << "Couldn't stat path '" << input << "': " << std::strerror(errno) << "\n";
		return 1;
	}
	std::unique_ptr<pdata::file_block_io> io;
	try {
		io = open_era_metadata(input, "Metadata device/file too small.  Is this binary metadata?");
	} catch (const base::error &e) {
		if (!quiet)
			std::cerr << e.what() << "\n";
		return 1;
	}
	base::check_report report(quiet ? nullptr : &std::cerr);
	check_options co;
	co.super_block_only = vm.count("super-block-only");
	if (!check_era_metadata(*io, co, report).superblock_ok)
		return 1;
	bool non_fatal = report.non_fatal_count() && !vm.count("ignore-non-fatal-errors");
	return report.fatal_count() || non_fatal ? 1 : 0;
}

} // namespace era
