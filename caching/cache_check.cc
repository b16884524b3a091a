// cache_check (docs/cli.md 12): LVM runs `cache_check -q
// --clear-needs-check-flag` when it activates a cache.
#include "base/command_line.h"
#include "base/error.h"
#include "caching/cache_io.h"
#include "caching/commands.h"
#include "caching/metadata_checker.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace caching {
namespace {

const char USAGE[] = "Usage: cache_check [options] {device|file}\n"
                     "Options:\n"
                     "  {-q|--quiet}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n"
                     "  {--clear-needs-check-flag}\n"
                     "  {--super-block-only}\n"
                     "  {--skip-mappings}\n"
                     "  {--skip-hints}\n"
                     "  {--skip-discards}\n"
                     "  {--ignore-non-fatal-errors}\n";

int stop(bool quiet, const std::string &message) {
	if (!quiet)
		std::cerr << message << "\n";
	return 1;
}

} // namespace

int cache_check_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("quiet,q", "")
		("super-block-only", "")
		("skip-mappings", "")
		("skip-hints", "")
		("skip-discards", "")
		("clear-needs-check-flag", "")
		("ignore-non-fatal-errors", "")
		("input", po::value<std::string>(), "");
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
	if (::stat(input.c_str(), &st) < 0)
		return stop(quiet, "Couldn't stat path '" + input + "': " + std::strerror(errno));

	check_options co;
	co.super_block_only = vm.count("super-block-only");
	co.skip_mappings = vm.count("skip-mappings");
	co.skip_hints = vm.count("skip-hints");
	co.skip_discards = vm.count("skip-discards");
	std::unique_ptr<pdata::file_block_io> io;
	try {
		io = open_cache_metadata(input, "Metadata device/file too small.  Is this binary metadata?");
	} catch (const base::error &e) {
		return stop(quiet, e.what());
	}
	base::check_report report(quiet);
	check_outcome out = check_cache_metadata(*io, co, report);
	if (!out.superblock_ok)
		return 1;
	bool fatal = report.fatal_count() > 0;
	bool non_fatal = report.non_fatal_count() > 0 && !vm.count("ignore-non-fatal-errors");
	if (vm.count("clear-needs-check-flag") && !fatal && out.needs_check) {
		// Only the flag changes: the superblock is rewritten in place.
		io.reset();
		pdata::file_block_io rw(input, base::access_mode::read_write);
		std::vector<uint8_t> b(pdata::BLOCK_SIZE);
		rw.read(0, 1, b.data());
		superblock sb = decode_superblock(b.data());
		sb.flags &= ~NEEDS_CHECK;
		encode_superblock(sb, b.data());
		rw.write(0, 1, b.data());
		rw.flush();
	}
	return fatal || non_fatal ? 1 : 0;
}

} // namespace caching
