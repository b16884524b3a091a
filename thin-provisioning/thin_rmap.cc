// thin_rmap: which thin blocks map to the given data blocks (doc/tools.md#thin_rmap).
#include "base/command_line.h"
#include "base/error.h"
#include "base/output.h"
#include "persistent-data/block_manager.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/mapping_walk.h"
#include "thin-provisioning/metadata_input.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>
#include <iostream>
#include <unistd.h>

namespace thin {
namespace {

const char USAGE[] = "Usage: thin_rmap [options] {device|file}\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n"
                     "  {--region <block range>}*\n"
                     "Where:\n"
                     "  <block range> is of the form <begin>..<one-past-the-end>\n"
                     "  for example 5..45 denotes blocks 5 to 44 inclusive, but not block 45\n";

struct region {
	uint64_t begin, end; // half-open
};

// "B..E" exactly: digits, two dots, digits, B < E.  The messages are the
// reference's.
region parse_region(const std::string &s) {
	size_t i = 0;
	while (i < s.size() && std::isdigit(uint8_t(s[i])))
		i++;
	if (s.compare(i, 2, "..") != 0)
		throw base::error("badly formed region (no dots)");
	std::string a = s.substr(0, i), b = s.substr(i + 2);
	if (a.empty() || b.empty() || a.size() > 19 || b.size() > 19 ||
	    b.find_first_not_of("0123456789") != std::string::npos)
		throw base::error("badly formed region (couldn't parse numbers)");
	region r{std::stoull(a), std::stoull(b)};
	if (r.end <= r.begin)
		throw base::error("badly formed region (end <= begin)");
	return r;
}

struct run {
	uint64_t data_begin, data_end, dev, vbegin;
};

} // namespace

int thin_rmap_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("region", po::value<std::vector<std::string>>(), "")("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	std::vector<region> regions;
	if (vm.count("region"))
		for (const auto &s : vm["region"].as<std::vector<std::string>>()) {
			try {
				regions.push_back(parse_region(s));
			} catch (const base::error &e) {
				std::cerr << e.what() << "\n";
				return 1;
			}
		}
	if (regions.empty())
		return base::usage_error(cli, "No regions provided.");
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");

	auto io = open_metadata(vm["input"].as<std::string>(), "Metadata is not large enough for superblock.");
	superblock sb = read_superblock(*io);
	pdata::block_manager bm(*io, 1024);
	std::vector<std::string> damage;
	std::vector<run> runs;
	auto inside = [&](uint64_t data) {
		for (const auto &r : regions)
			if (data >= r.begin && data < r.end)
				return true;
		return false;
	};
	for (const auto &entry : device_roots(bm, sb.data_mapping_root, damage)) {
		// (named copies: lambdas may not capture structured bindings in
		// every compiler we build with)
		uint64_t dev = entry.first;
		pdata::block_address root = entry.second;
		std::optional<run> cur;
		for_each_mapping(
		    bm, root,
		    [&](uint64_t vblock, block_time bt) {
			    if (!inside(bt.data_block)) {
				    if (cur)
					    runs.push_back(*cur);
				    cur.reset();
				    return;
			    }
			    if (cur && cur->data_end == bt.data_block &&
			        cur->vbegin + (cur->data_end - cur->data_begin) == vblock) {
				    cur->data_end++;
				    return;
			    }
			    if (cur)
				    runs.push_back(*cur);
			    cur = run{bt.data_block, bt.data_block + 1, dev, vblock};
		    },
		    damage);
		if (cur)
			runs.push_back(*cur);
	}
	if (!damage.empty()) {
		std::cerr << "metadata contains errors (run thin_check for details): " << damage.front() << "\n";
		return 1;
	}
	// Runs are found device by device, then ordered by their first data
	// block alone, with the same (unstable) sort the reference uses, so
	// runs that start at the same data block come out in the same order.
	std::sort(runs.begin(), runs.end(),
	          [](const run &a, const run &b) { return a.data_begin < b.data_begin; });
	base::output_sink out(STDOUT_FILENO, "stdout");
	for (const auto &r : runs) {
		out.put("data ").put_u64(r.data_begin).put("..").put_u64(r.data_end);
		out.put(" -> thin(").put_u64(r.dev).put(") ").put_u64(r.vbegin).put("..");
		out.put_u64(r.vbegin + (r.data_end - r.data_begin)).put("\n");
	}
	out.flush();
	return 0;
}

} // namespace thin
