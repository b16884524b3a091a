// field_fuzz: changes one field of one on-disk structure, in place, and
// seals the block's checksum again, so that the change is the damage (the
// model is xfstests' common/fuzzy).  The fields are those field_table.h
// finds; FieldFuzz (functional-tests/field_fuzz_test.cc) and
// build-aux/fuzz-fields.sh run the tools on every one.
#include "base/command_line.h"
#include "base/error.h"
#include "dev-tools/commands.h"
#include "dev-tools/field_table.h"
#include "persistent-data/block_io.h"
#include "persistent-data/checksum.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <iostream>

namespace devtools {
namespace {

const char USAGE[] = "Usage: field_fuzz <metadata file> {--list | --field <name> {--mutation <m> [--seed <n>] | --set <n>}}\n"
                     "Changes one field of a thin, cache or era metadata image in place (the block's\n"
                     "checksum sealed again) and prints the old and new bytes; --list prints every field.\n"
                     "Mutations: zeroes, ones, flip (the first bit), plus1, minus1, random; --set gives\n"
                     "the field a value (little-endian, in its first 8 bytes).\n"
                     "Options:\n"
                     "  {--list}\n"
                     "  {--field} <name>\n"
                     "  {--mutation} <m>\n"
                     "  {--seed} <n>\n"
                     "  {--set} <n>\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

std::string hex(const std::vector<uint8_t> &b) {
	std::string s;
	char two[3];
	for (uint8_t c : b) {
		std::snprintf(two, sizeof(two), "%02x", c);
		s += two;
	}
	return s;
}

} // namespace

int field_fuzz_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("list", "")
		("field", po::value<std::string>(), "")
		("mutation", po::value<std::string>(), "")
		("seed", po::value<std::string>(), "")
		("set", po::value<std::string>(), "")
		("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	bool list = vm.count("list");
	if (!list && (!vm.count("field") || vm.count("mutation") + vm.count("set") != 1))
		return base::usage_error(cli, "Give --list, or --field with --mutation or --set.");
	try {
		const std::string path = vm["input"].as<std::string>();
		uint64_t seed = base::natural_option(vm, "seed", 1);
		pdata::file_block_io io(path, list ? base::access_mode::read_only : base::access_mode::read_write);
		auto fields = fields_of(io);
		if (list) {
			for (const auto &f : fields)
				std::cout << f.name << " " << f.block << " " << f.offset << " " << f.width << "\n";
			return 0;
		}
		const std::string name = vm["field"].as<std::string>();
		std::optional<mutation> m;
		std::optional<uint64_t> value;
		if (vm.count("mutation"))
			m = parse_mutation(vm["mutation"].as<std::string>());
		else
			value = base::parse_natural("--set", vm["set"].as<std::string>());
		for (const auto &f : fields) {
			if (f.name != name)
				continue;
			std::vector<uint8_t> block(pdata::BLOCK_SIZE);
			io.read(f.block, 1, block.data());
			std::vector<uint8_t> old(block.begin() + long(f.offset), block.begin() + long(f.offset + f.width));
			auto now = m ? mutate(old, *m, seed) : old;
			for (size_t i = 0; value && i < std::min<size_t>(now.size(), 8); i++)
				now[i] = uint8_t(*value >> (8 * i));
			std::cout << name << " (block " << f.block << ", offset " << f.offset << "): " << hex(old) << " -> "
			          << hex(now) << (now == old ? " unchanged" : "") << "\n";
			if (now == old)
				return 0;
			std::copy(now.begin(), now.end(), block.begin() + long(f.offset));
			pdata::seal_checksum(block.data(), f.salt);
			io.write(f.block, 1, block.data());
			io.flush();
			return 0;
		}
		throw base::error(path + ": no field " + name + " (see --list)");
	} catch (const po::error &e) {
		return base::usage_error(cli, e.what());
	}
}

} // namespace devtools
