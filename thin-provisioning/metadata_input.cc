#include "thin-provisioning/metadata_input.h"

#include "base/error.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace thin {

std::unique_ptr<pdata::file_block_io> open_metadata(const std::string &path,
                                                    const std::string &too_small) {
	base::inspect_path(path); // "Not a block device or regular file", errno texts
	auto io = std::make_unique<pdata::file_block_io>(path, base::access_mode::read_only);
	if (io->nr_blocks() == 0)
		throw base::error(too_small);
	return io;
}

superblock read_superblock(pdata::block_io &io, pdata::block_address location) {
	if (location >= io.nr_blocks())
		throw base::error("superblock location " + std::to_string(location) +
		                  " is beyond the end of the metadata device");
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	io.read(location, 1, b.data());
	auto problems = superblock_problems(b.data(), location, io.nr_blocks());
	if (!problems.empty())
		throw base::error(problems.front());
	return decode_superblock(b.data());
}

bool looks_like_xml(pdata::block_io &io) {
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	io.read(0, 1, b.data());
	auto it = std::find_if(b.begin(), b.end(), [](uint8_t c) { return !std::isspace(c); });
	return it != b.end() && *it == '<';
}

} // namespace thin
