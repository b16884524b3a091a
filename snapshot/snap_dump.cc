// snap_dump: a dm-snapshot exception store as XML (documented in
// snap_dump(8)) or as text, every exception in store order.
#include "base/command_line.h"
#include "base/error.h"
#include "base/file.h"
#include "base/output.h"
#include "snapshot/commands.h"
#include "snapshot/store.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace snapshot {
namespace {
const char USAGE[] = "Usage: snap_dump [options] {COW device|file}\n"
                     "Options:\n"
                     "  {--format} xml|human_readable\n"
                     "  {-o} <file>\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";
} // namespace

int snap_dump_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("format,f", po::value<std::string>(), "")("output,o", po::value<std::string>(), "")(
	    "input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	std::string format = vm.count("format") ? vm["format"].as<std::string>() : "xml";
	if (format != "xml" && format != "human_readable")
		return base::usage_error(cli, "unknown format '" + format + "'");
	base::file_handle cow = base::open_path(vm["input"].as<std::string>(), base::access_mode::read_only);
	store s = read_store(cow, std::nullopt);
	if (!s.geo) {
		for (const auto &p : s.problems)
			std::cerr << cow.path() << ": " << p.what << "\n";
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
	if (format == "xml") {
		out.put("<snapshot_store chunk_size=\"").put_u64(s.hdr.chunk_size);
		out.put(s.hdr.valid ? "\" valid=\"true\"" : "\" valid=\"false\"").put(" version=\"").put_u64(s.hdr.version);
		out.put("\">\n");
		for (const auto &e : s.exceptions)
			out.put("  <exception old_chunk=\"").put_u64(e.old_chunk).put("\" new_chunk=\"").put_u64(e.new_chunk).put("\"/>\n");
		out.put("</snapshot_store>\n");
	} else {
		out.put("chunk size: ").put_u64(s.hdr.chunk_size).put(" sectors, ").put(s.hdr.valid ? "valid" : "INVALID");
		out.put(", version ").put_u64(s.hdr.version).put("\n");
		out.put("exceptions: ").put_u64(s.exceptions.size()).put(" in ").put_u64(s.areas).put(" metadata areas\n");
		for (const auto &e : s.exceptions)
			out.put("  ").put_u64(e.old_chunk).put(" -> ").put_u64(e.new_chunk).put("\n");
	}
	out.flush();
	bool fatal = false;
	for (const auto &p : s.problems) {
		std::cerr << p.what << "\n";
		fatal |= p.fatal && s.hdr.valid;
	}
	return fatal ? 1 : 0;
}

} // namespace snapshot
