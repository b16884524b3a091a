// era_invalidate (doc/tools.md#era_invalidate,
// doc/xml.md#era_invalidate-output): the blocks written since an era, as
// the reference lists them.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "base/output.h"
#include "era/commands.h"
#include "era/era_io.h"
#include "era/metadata.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace era {
namespace {
const char USAGE[] = "Usage: era_invalidate [options] --written-since <era> {device|file}\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-o <xml file>}\n"
                     "  {--metadata-snapshot}\n"
                     "  {-V|--version}\n";
} // namespace

int era_invalidate_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("output,o", po::value<std::string>(), "")("written-since", po::value<std::string>(), "")(
	    "metadata-snapshot", "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("written-since"))
		return base::usage_error(cli, "Please specify --written-since");
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	uint64_t since;
	try {
		since = base::parse_natural("--written-since", vm["written-since"].as<std::string>());
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
	auto io = open_era_metadata(vm["input"].as<std::string>(), "Metadata is not large enough for superblock.");
	superblock sb = read_era_superblock(*io);
	bool live = true;
	if (vm.count("metadata-snapshot")) {
		if (!sb.metadata_snap) {
			std::cerr << "no metadata snapshot taken.\n";
			return 1;
		}
		sb = read_era_superblock(*io, sb.metadata_snap);
		live = false; // the copy's live writeset points at freed blocks
	}
	pdata::block_manager bm(*io, 256);
	std::vector<std::string> damage;
	auto marked = written_since(bm, sb, uint32_t(std::min<uint64_t>(since, UINT32_MAX)), live, damage);
	if (!damage.empty()) {
		for (const auto &d : damage)
			std::cerr << d << "\n";
		return 1;
	}
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
	base::output_sink out(fd, out_name);
	out.put("<blocks>\n");
	for (uint64_t b = 0; b < marked.size();) {
		if (!marked[b]) {
			b++;
			continue;
		}
		uint64_t e = b;
		while (e < marked.size() && marked[e])
			e++;
		if (e - b == 1)
			out.put("  <block block=\"").put_u64(b).put("\"/>\n");
		else // (the reference's spacing)
			out.put("  <range begin=\"").put_u64(b).put("\" end = \"").put_u64(e).put("\"/>\n");
		b = e;
	}
	out.put("</blocks>\n");
	out.flush();
	return 0;
}

} // namespace era
