// cache_check (doc/tools.md#cache_check): LVM runs `cache_check -q
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
                     "  {--auto-repair}\n"
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
		("auto-repair", "")
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
	base::check_report report(quiet ? nullptr : &std::cerr);
	bool reduced = co.super_block_only || co.skip_mappings || co.skip_hints || co.skip_discards;
	if (vm.count("auto-repair") && reduced)
		return base::usage_error(cli, "cannot perform fix without a full examination");
	check_result out = check_cache_metadata(*io, co, report);
	if (!out.superblock_ok)
		return 1;
	bool fatal = report.fatal_count() > 0;
	bool non_fatal = report.non_fatal_count() > 0 && !vm.count("ignore-non-fatal-errors");
	// --clear-needs-check-flag and --auto-repair mend leaks too (as the
	// newer line does: a leak must not keep a cache from starting), and
	// only after a check without fatal errors.
	bool clear = vm.count("clear-needs-check-flag"), repair = vm.count("auto-repair");
	if ((clear || repair) && !fatal) {
		io.reset();
		bool leaks = !out.metadata_leaks.empty() && out.space_maps_checked;
		if (mend_cache_metadata(input, out, true) && leaks) {
			if (!quiet)
				std::cerr << "fixed metadata leaks\n";
			non_fatal = report.non_fatal_count() > out.metadata_leaks.size() && !vm.count("ignore-non-fatal-errors");
		}
	}
	return fatal || non_fatal ? 1 : 0;
}

} // namespace caching
