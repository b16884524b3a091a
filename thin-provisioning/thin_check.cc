// thin_check: validates a pool's metadata (doc/tools.md#thin_check).  LVM runs it as
// `thin_check -q --clear-needs-check-flag` at every pool activation, so the
// exit code must be exact and -q must print nothing at all.
#include "base/command_line.h"
#include "base/error.h"
#include "persistent-data/block_io.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_checker.h"
#include "thin-provisioning/metadata_input.h"
#include "thin-provisioning/metadata_mend.h"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sys/stat.h>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_check [options] {device|file}\n"
                     "Options:\n"
                     "  {-q|--quiet}\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n"
                     "  {-m|--metadata-snap}\n"
                     "  {--auto-repair}\n"
                     "  {--override-mapping-root} <block>\n"
                     "  {--override-details-root} <block>\n"
                     "  {--clear-needs-check-flag}\n"
                     "  {--ignore-non-fatal-errors}\n"
                     "  {--skip-mappings}\n"
                     "  {--super-block-only}\n";

// A problem that stops the check before it starts: printed unless quiet.
int stop(bool quiet, const std::string &message) {
	if (!quiet)
		std::cerr << message << "\n";
	return 1;
}

} // namespace

int thin_check_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("quiet,q", "")
		("super-block-only", "")
		("skip-mappings", "")
		("ignore-non-fatal-errors", "")
		("metadata-snap,m", "")
		("override-mapping-root", po::value<std::string>(), "")
		("override-details-root", po::value<std::string>(), "")
		("clear-needs-check-flag", "")
		("auto-repair", "")
		("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;

	check_options co;
	co.super_block_only = vm.count("super-block-only");
	co.skip_mappings = vm.count("skip-mappings");
	co.metadata_snap = vm.count("metadata-snap");
	bool quiet = vm.count("quiet");
	bool ignore_non_fatal = vm.count("ignore-non-fatal-errors");
	bool auto_repair = vm.count("auto-repair");
	bool clear_flag = vm.count("clear-needs-check-flag");
	try {
		if (vm.count("override-mapping-root"))
			co.override_mapping_root = base::parse_natural(
			    "--override-mapping-root", vm["override-mapping-root"].as<std::string>());
		if (vm.count("override-details-root"))
			co.override_details_root = base::parse_natural(
			    "--override-details-root", vm["override-details-root"].as<std::string>());
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}

	// A fix writes the live metadata, so it needs a full examination of it.
	// --clear-needs-check-flag alone may follow a reduced check (as LVM users
	// configure it with --skip-mappings).
	bool overridden = co.override_mapping_root || co.override_details_root;
	if (auto_repair || clear_flag) {
		if (co.metadata_snap)
			return base::usage_error(cli, "cannot perform fix within metadata snap");
		if (overridden)
			return base::usage_error(cli, "cannot perform fix with an overridden mapping root");
		if (auto_repair && ignore_non_fatal)
			return base::usage_error(cli, "cannot perform fix by ignoring non-fatal errors");
		if (auto_repair && (co.super_block_only || co.skip_mappings))
			return base::usage_error(cli, "cannot perform fix without a full examination");
	}
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	const std::string input = vm["input"].as<std::string>();

	struct stat st;
	if (::stat(input.c_str(), &st) < 0)
		return stop(quiet, "Couldn't stat path '" + input + "': " + std::strerror(errno));
	std::unique_ptr<pdata::file_block_io> io;
	try {
		io = open_metadata(input, "Metadata device/file too small.  Is this binary metadata?");
	} catch (const base::error &e) {
		return stop(quiet, e.what());
	}

	check_report report(quiet ? nullptr : &std::cerr);
	check_result result = check_metadata(*io, co, report);
	if (!result.superblock_ok) {
		if (looks_like_xml(*io))
			return stop(quiet, "This looks like XML.  thin_check only checks the binary metadata "
			                   "format.");
		return 1;
	}
	if (!quiet) {
		// As the reference prints it: the free count of an allocator that
		// knows only the superblock, i.e. the device size in blocks less one.
		std::cout << "TRANSACTION_ID=" << result.transaction_id << "\n"
		          << "METADATA_FREE_BLOCKS=" << io->nr_blocks() - 1 << "\n";
		std::cout.flush();
	}

	bool fatal = report.fatal_count() > 0;
	bool non_fatal = report.non_fatal_count() > 0;
	if ((auto_repair || clear_flag) && !fatal) {
		io.reset(); // reopened read-write by the mender
		mend_outcome m = mend_metadata(input, result, /*clear_needs_check=*/true);
		if (m.fixed_leaks) {
			if (!quiet)
				std::cerr << "fixed metadata leaks\n";
			// What remains non-fatal after the leaks are mended (e.g. an
			// under-full node) still counts.
			size_t leaks = result.metadata_leaks.size() + result.data_leaks.size();
			non_fatal = report.non_fatal_count() > leaks;
		}
		if (m.cleared_flag && !quiet)
			std::cerr << "cleared needs_check flag\n";
	}
	if (fatal)
		return 1;
	if (non_fatal && !ignore_non_fatal)
		return 1;
	return 0;
}

} // namespace thin
