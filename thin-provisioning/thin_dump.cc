// thin_dump: binary metadata -> XML or human-readable text (doc/tools.md#thin_dump).
#include "base/command_line.h"
#include "base/error.h"
#include "base/output.h"
#include "persistent-data/block_manager.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/metadata_dump.h"
#include "thin-provisioning/metadata_input.h"
#include "thin-provisioning/superblock_salvage.h"
#include "thin-provisioning/xml_emitter.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_dump [options] {device|file}\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-f|--format} {xml|human_readable}\n"
                     "  {-r|--repair}\n"
                     "  {-m|--metadata-snap} [block#]\n"
                     "  {-o <xml file>}\n"
                     "  {--dev-id} <dev-id>\n"
                     "  {--skip-mappings}\n"
                     "  {-q|--quiet}\n"
                     "  {-V|--version}\n";

bool all_digits(const std::string &s) {
	return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// -m takes an optional block number, which may be a separate word
// ("-m 130"): rewrite every spelling into a switch plus a hidden option, so
// that "-m IMAGE" keeps IMAGE as the input.
std::vector<std::string> normalise_metadata_snap(int argc, char **argv) {
	std::vector<std::string> out;
	for (int i = 0; i < argc; i++) {
		std::string a = argv[i];
		if (a == "-m" || a == "--metadata-snap") {
			out.push_back("-m");
			if (i + 1 < argc && all_digits(argv[i + 1]))
				out.push_back("--metadata-snap-block=" + std::string(argv[++i]));
		} else if (a.rfind("--metadata-snap=", 0) == 0) {
			out.push_back("-m");
			out.push_back("--metadata-snap-block=" + a.substr(16));
		} else if (a.size() > 2 && a.rfind("-m", 0) == 0 && all_digits(a.substr(2))) {
			out.push_back("-m");
			out.push_back("--metadata-snap-block=" + a.substr(2));
		} else
			out.push_back(a);
	}
	return out;
}

int run(int argc_in, char **argv_in) {
	namespace po = base::po;
	std::vector<std::string> args = normalise_metadata_snap(argc_in, argv_in);
	std::vector<char *> argv_vec;
	for (auto &a : args)
		argv_vec.push_back(a.data());
	int argc = int(argv_vec.size());
	char **argv = argv_vec.data();
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("format,f", po::value<std::string>()->default_value("xml"), "")
		("repair,r", "")
		("metadata-snap,m", "")
		("metadata-snap-block", po::value<std::string>(), "")
		("output,o", po::value<std::string>(), "")
		("dev-id", po::value<std::vector<std::string>>(), "")
		("skip-mappings", "")
		("quiet,q", "")
		("transaction-id", po::value<std::string>(), "")
		("data-block-size", po::value<std::string>(), "")
		("nr-data-blocks", po::value<std::string>(), "")
		("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;

	std::string format = vm["format"].as<std::string>();
	if (format != "xml" && format != "human_readable") {
		std::cerr << "unknown format '" << format << "'\n";
		return 1;
	}
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");

	dump_options d;
	d.repair = vm.count("repair");
	d.skip_mappings = vm.count("skip-mappings");
	try {
		if (vm.count("dev-id"))
			for (const auto &s : vm["dev-id"].as<std::vector<std::string>>())
				d.dev_ids.insert(base::parse_natural("--dev-id", s));
		if (vm.count("transaction-id"))
			d.transaction_id = base::parse_natural("--transaction-id",
			                                       vm["transaction-id"].as<std::string>());
		if (vm.count("data-block-size"))
			d.data_block_size = uint32_t(base::parse_natural(
			    "--data-block-size", vm["data-block-size"].as<std::string>()));
		if (vm.count("nr-data-blocks"))
			d.nr_data_blocks = base::parse_natural("--nr-data-blocks",
			                                       vm["nr-data-blocks"].as<std::string>());
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}

	const std::string input = vm["input"].as<std::string>();
	auto io = open_metadata(input, "Metadata is not large enough for superblock.");
	superblock live;
	std::optional<uint64_t> salvaged_nr_data_blocks;
	if (d.repair && !vm.count("metadata-snap")) {
		// The repair engine's view: a damaged or stale superblock is
		// replaced by the trees found on the device.
		auto found = salvage_superblock(*io, {d.transaction_id, d.nr_data_blocks, d.data_block_size});
		for (const auto &line : found.notes)
			std::cerr << line << "\n";
		live = found.sb;
		salvaged_nr_data_blocks = found.nr_data_blocks;
		d.other_top_levels = std::move(found.other_top_levels);
	} else
		live = read_superblock(*io);
	superblock sb = live;
	if (vm.count("metadata-snap")) {
		pdata::block_address where =
		    vm.count("metadata-snap-block")
		        ? base::parse_natural("--metadata-snap", vm["metadata-snap-block"].as<std::string>())
		        : live.metadata_snap;
		if (!where) {
			std::cerr << "no current metadata snap\n";
			return 1;
		}
		sb = read_superblock(*io, where);
	}
	// A snapshot's copy has zeroed space-map roots: the data device size
	// always comes from the live superblock.
	uint64_t nr_data_blocks = salvaged_nr_data_blocks.value_or(live.data_sm().nr_blocks);

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

	pdata::block_manager bm(*io, 1024); // 4 MiB: the walk reads ahead per node
	base::output_sink sink(fd, out_name);
	auto em = format == "xml" ? make_xml_emitter(sink) : make_human_emitter(sink);
	dump_result r = dump_metadata(bm, sb, nr_data_blocks, d, *em);
	sink.flush();

	if (r.damage.empty())
		return 0;
	if (d.repair) {
		for (const auto &line : r.damage)
			std::cerr << line << "\n";
		return 0;
	}
	std::cerr << "metadata contains errors (run thin_check for details).\n"
	          << "perhaps you wanted to run with --repair\n";
	return 1;
}

} // namespace

int thin_dump_main(int argc, char **argv) {
	try {
		return run(argc, argv);
	} catch (const base::broken_pipe &) {
		return 1; // the reader went away: end quietly
	}
}

} // namespace thin
