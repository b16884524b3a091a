// What every kind of thin_generate_damage works through: the image opened
// for writing, checked once so that each block's role is known, and a
// seeded random generator - so the same arguments damage the same blocks.
#pragma once

#include "persistent-data/block_io.h"
#include "thin-provisioning/metadata_checker.h"

#include <random>
#include <string>
#include <vector>

namespace thin::damage {

using pdata::block_address;

class damager {
public:
	// base::error when the superblock is already damaged: nothing could
	// tell the roles of the other blocks.
	damager(const std::string &path, uint64_t seed);

	std::vector<block_address> blocks_with(block_role r) const;
	// A random block of role R.
	block_address pick(block_role r);
	// A random block of role R that only the live trees reach (WHERE ==
	// "live") or only the held metadata snapshot's trees reach ("snapshot").
	block_address pick_only_in(block_role r, const std::string &where);
	// A random mapping node of role R that thin device DEV reaches.
	block_address pick_of_device(block_role r, uint64_t dev);

	std::vector<uint8_t> read(block_address b);
	void write(block_address b, const std::vector<uint8_t> &d);
	// "damaged block B (ROLE): WHAT" on stdout, the line tests parse.
	void report(block_address b, const std::string &what);

	block_role role(block_address b) const;
	const check_result &checked() const { return result_; }
	pdata::file_block_io &io() { return io_; }
	std::mt19937_64 &rng() { return rng_; }

private:
	std::string path_;
	pdata::file_block_io io_;
	std::mt19937_64 rng_;
	check_result result_;
};

// Every role a --target can name, and the one named S (po::error if none).
std::vector<std::string> role_names();
block_role parse_role(const std::string &s);

// The first mapping leaf with at least N entries; base::error if none.
block_address leaf_with(damager &d, uint32_t n);

// Damage meant to be structural only keeps the node's checksum valid.
void reseal_node(std::vector<uint8_t> &data);

} // namespace thin::damage
