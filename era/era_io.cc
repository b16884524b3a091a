#include "era/era_io.h"

#include "base/error.h"

namespace era {

std::unique_ptr<pdata::file_block_io> open_era_metadata(const std::string &path, const std::string &too_small) {
	auto io = std::make_unique<pdata::file_block_io>(path, base::access_mode::read_only);
	if (io->nr_blocks() == 0)
		throw base::error(too_small);
	return io;
}

superblock read_era_superblock(pdata::block_io &io, block_address location) {
	if (location >= io.nr_blocks())
		throw base::error(io.name() + ": superblock location " + std::to_string(location) + " is beyond the device");
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	io.read(location, 1, b.data());
	auto p = superblock_problems(b.data(), location, io.nr_blocks());
	if (!p.empty())
		throw base::error(io.name() + ": " + p.front());
	return decode_superblock(b.data());
}

superblock read_era_superblock_for_repair(pdata::block_io &io, std::string &note) {
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	io.read(0, 1, b.data());
	auto p = superblock_problems(b.data(), 0, io.nr_blocks());
	if (p.empty())
		return decode_superblock(b.data());
	if (!superblock_problems(b.data(), 0, io.nr_blocks(), false).empty())
		throw base::error(io.name() + ": " + p.front());
	note = p.front() + "; every field is sound, so it is used";
	return decode_superblock(b.data());
}

} // namespace era
