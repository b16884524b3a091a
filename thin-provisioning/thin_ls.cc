// thin_ls: one line per thin device with the fields asked for (doc/tools.md#thin_ls).
#include "base/command_line.h"
#include "base/error.h"
#include "thin-provisioning/commands.h"
#include "thin-provisioning/device_usage.h"
#include "thin-provisioning/metadata_input.h"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace thin {
namespace {

const char *const FIELDS[] = {"DEV",          "MAPPED_BLOCKS",     "EXCLUSIVE_BLOCKS",
                              "SHARED_BLOCKS", "MAPPED_SECTORS",   "EXCLUSIVE_SECTORS",
                              "SHARED_SECTORS", "MAPPED_BYTES",    "EXCLUSIVE_BYTES",
                              "SHARED_BYTES",   "MAPPED",          "EXCLUSIVE",
                              "SHARED",         "TRANSACTION",     "CREATE_TIME",
                              "SNAP_TIME",      "HIGHEST_MAPPED"};

std::string usage_text() {
	std::string s = "Usage: thin_ls [options] {metadata device}\n"
	                "Options:\n"
	                "  {-h|--help}\n"
	                "  {-m|--metadata-snap}\n"
	                "  {--no-headers}\n"
	                "  {-o|--format <fields>}\n"
	                "  {-V|--version}\n"
	                "\n"
	                "where <fields> is a comma separated list from:\n";
	for (const char *f : FIELDS)
		s += std::string("  ") + f + "\n";
	return s;
}

// Binary units as the reference prints them: the largest unit in which the
// value is above 8 (8192 of the unit below), rounded to the nearest whole
// number below 1024 and truncated above; "0" for nothing.
std::string human(uint64_t bytes) {
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (!bytes)
		return "0";
	unsigned u = 0;
	uint64_t scale = 1;
	while (u + 1 < std::size(units) && bytes / scale > 8192) {
		scale *= 1024;
		u++;
	}
	uint64_t whole = bytes / scale, rest = bytes % scale;
	if (whole < 1024 && rest * 2 >= scale && scale > 1)
		whole++;
	return std::to_string(whole) + units[u];
}

std::string cell(const std::string &field, const device_usage &u, uint64_t sectors_per_block) {
	uint64_t shared = u.mapped - u.exclusive;
	auto blocks = [&](char which) { return which == 'M' ? u.mapped : which == 'E' ? u.exclusive : shared; };
	if (field == "DEV")
		return std::to_string(u.dev);
	if (field == "TRANSACTION")
		return std::to_string(u.details.transaction_id);
	if (field == "CREATE_TIME")
		return std::to_string(u.details.creation_time);
	if (field == "SNAP_TIME")
		return std::to_string(u.details.snapshotted_time);
	if (field == "HIGHEST_MAPPED")
		return u.highest_mapped ? std::to_string(*u.highest_mapped) : "-";
	char which = field[0];
	std::string rest = field.substr(field.find('_') == std::string::npos ? field.size() : field.find('_'));
	uint64_t b = blocks(which);
	if (rest == "_BLOCKS")
		return std::to_string(b);
	if (rest == "_SECTORS")
		return std::to_string(b * sectors_per_block);
	if (rest == "_BYTES")
		return std::to_string(b * sectors_per_block * 512);
	return human(b * sectors_per_block * 512);
}

} // namespace

int thin_ls_main(int argc, char **argv) {
	namespace po = base::po;
	std::string usage = usage_text();
	base::tool_cli cli{argv[0], usage};
	po::options_description opts;
	opts.add_options()
		("metadata-snap,m", "")
		("no-headers", "")
		("format,o", po::value<std::string>(), "")
		("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;

	std::vector<std::string> fields;
	std::string list = vm.count("format") ? vm["format"].as<std::string>() : "DEV,MAPPED,CREATE_TIME,SNAP_TIME";
	std::istringstream in(list);
	for (std::string f; std::getline(in, f, ',');) {
		if (std::find(std::begin(FIELDS), std::end(FIELDS), f) == std::end(FIELDS)) {
			std::cerr << "unknown field '" << f << "'\n";
			return 1;
		}
		fields.push_back(f);
	}
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");

	auto io = open_metadata(vm["input"].as<std::string>(), "Metadata is not large enough for superblock.");
	superblock live = read_superblock(*io);
	superblock trees = live;
	if (vm.count("metadata-snap")) {
		if (!live.metadata_snap) {
			std::cerr << "no current metadata snap\n";
			return 1;
		}
		trees = read_superblock(*io, live.metadata_snap);
	}
	auto usages = device_usages(*io, trees, live.data_sm());

	// Right-aligned columns as wide as their widest cell, each followed by
	// a space (the header counts unless --no-headers).
	bool headers = !vm.count("no-headers");
	std::vector<std::vector<std::string>> rows;
	if (headers)
		rows.push_back(fields);
	for (const auto &u : usages) {
		std::vector<std::string> row;
		for (const auto &f : fields)
			row.push_back(cell(f, u, live.data_block_size));
		rows.push_back(row);
	}
	std::vector<size_t> width(fields.size(), 0);
	for (const auto &r : rows)
		for (size_t i = 0; i < r.size(); i++)
			width[i] = std::max(width[i], r[i].size());
	for (const auto &r : rows) {
		for (size_t i = 0; i < r.size(); i++)
			std::cout << std::string(width[i] - r[i].size(), ' ') << r[i] << ' ';
		std::cout << '\n';
	}
	return 0;
}

} // namespace thin
