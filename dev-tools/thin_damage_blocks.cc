// Damage to whole blocks: garbled or zeroed, picked by role, at random, or
// cut off the end of the file.
#include "base/error.h"
#include "dev-tools/thin_damage_kinds.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <unistd.h>

namespace thin::damage {
namespace {

using pdata::BLOCK_SIZE;

// The block of --target's role that --where or --dev narrows to.
block_address targeted_block(damager &d, const options &vm, const std::string &kind) {
	if (!vm.count("target"))
		throw base::po::error(kind + " needs --target ROLE");
	auto role = parse_role(vm["target"].as<std::string>());
	if (vm.count("where"))
		return d.pick_only_in(role, vm["where"].as<std::string>());
	if (vm.count("dev"))
		return d.pick_of_device(role, base::parse_natural("--dev", vm["dev"].as<std::string>()));
	return d.pick(role);
}

} // namespace

void bad_checksum(damager &d, const options &vm) {
	block_address b = targeted_block(d, vm, "bad-checksum");
	auto data = d.read(b);
	// The bit is drawn before its byte (past the checksum field): the order
	// images damaged with a given --seed have always been made in.
	auto bit = uint8_t(1u << (d.rng()() % 8));
	data[4 + d.rng()() % (BLOCK_SIZE - 4)] ^= bit;
	d.write(b, data);
	d.report(b, "bad-checksum");
}

void zero_block(damager &d, const options &vm) {
	block_address b = targeted_block(d, vm, "zero-block");
	d.write(b, std::vector<uint8_t>(BLOCK_SIZE, 0));
	d.report(b, "zero-block");
}

void random_blocks(damager &d, const options &vm) {
	uint64_t count = base::natural_option(vm, "count", 1);
	auto &rng = d.rng();
	std::vector<block_address> used;
	for (block_address b = 1; b < d.checked().roles.size(); b++)
		if (d.role(b) != block_role::unused)
			used.push_back(b);
	std::shuffle(used.begin(), used.end(), rng);
	for (uint64_t i = 0; i < count && i < used.size(); i++) {
		auto data = d.read(used[i]);
		bool zero = rng() & 1;
		if (zero)
			std::fill(data.begin(), data.end(), 0);
		else
			for (int k = 0; k < 16; k++) {
				auto value = uint8_t(rng()); // drawn before its offset, as ever
				data[rng() % BLOCK_SIZE] = value;
			}
		d.write(used[i], data);
		d.report(used[i], zero ? "zeroed" : "garbled");
	}
}

void truncate_file(damager &d, const options &vm) {
	uint64_t blocks = base::natural_option(vm, "blocks", d.io().nr_blocks() / 2);
	if (::truncate(d.io().name().c_str(), off_t(blocks * BLOCK_SIZE)) < 0)
		throw base::file_error(d.io().name(), std::strerror(errno));
	std::cout << "truncated to " << blocks << " blocks\n";
}

} // namespace thin::damage
