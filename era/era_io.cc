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
	const block_address n = io.nr_blocks();
	auto p = superblock_problems(b.data(), 0, n);
	if (p.empty())
		return decode_superblock(b.data());
	auto fields = superblock_problems(b.data(), 0, n, false);
	if (fields.empty()) {
		note = p.front() + "; every field is sound, so it is used";
		return decode_superblock(b.data());
	}
	if (p.front().rfind("bad checksum", 0) == 0)
		throw base::error(io.name() + ": " + p.front() + ", and " + fields.front());
	// The checksum holds, so the fields are what was written: each wrong one
	// is noted and replaced by what the kernel would use, or dropped.
	superblock sb = decode_superblock(b.data());
	std::vector<std::string> notes;
	auto fix = [&](bool wrong, const std::string &what, auto apply) {
		if (wrong) {
			notes.push_back(what);
			apply();
		}
	};
	fix(sb.flags & ~1u, "invalid flags " + std::to_string(sb.flags) + " cleared", [&] { sb.flags = 0; });
	fix(sb.blocknr != 0, "block number " + std::to_string(sb.blocknr) + " ignored", [&] { sb.blocknr = 0; });
	fix(sb.magic != ERA_MAGIC, "magic " + std::to_string(sb.magic) + " ignored", [&] { sb.magic = ERA_MAGIC; });
	fix(sb.version != 1, "version " + std::to_string(sb.version) + " read as 1", [&] { sb.version = 1; });
	fix(sb.metadata_block_size != pdata::SECTORS_PER_BLOCK,
	    "metadata block size " + std::to_string(sb.metadata_block_size) + " read as 8",
	    [&] { sb.metadata_block_size = pdata::SECTORS_PER_BLOCK; });
	fix(sb.current_writeset_root >= n,
	    "current writeset root " + std::to_string(sb.current_writeset_root) +
	        " beyond the device: the current era's writes are lost",
	    [&] { sb.current_writeset_root = 0; });
	fix(sb.metadata_snap >= n, "metadata snapshot " + std::to_string(sb.metadata_snap) + " beyond the device: dropped",
	    [&] { sb.metadata_snap = 0; });
	fix(sb.writeset_tree_root >= n,
	    "writeset tree root " + std::to_string(sb.writeset_tree_root) +
	        " beyond the device: the archived writesets are lost (the era array keeps their eras)",
	    [&] { sb.writeset_tree_root = 0; });
	fix(sb.era_array_root >= n,
	    "era array root " + std::to_string(sb.era_array_root) + " beyond the device: the era array is lost",
	    [&] { sb.era_array_root = 0; });
	encode_superblock(sb, b.data());
	auto left = superblock_problems(b.data(), 0, n, false);
	// (Both roots dropped are both 0, which is no clash.)
	if (!sb.writeset_tree_root && !sb.era_array_root)
		std::erase_if(left, [](const std::string &p) { return p.find("are the same block") != std::string::npos; });
	if (!left.empty())
		throw base::error(io.name() + ": " + left.front());
	note = "superblock: " + [&] {
		std::string s;
		for (const auto &x : notes)
			s += (s.empty() ? "" : "; ") + x;
		return s;
	}();
	return sb;
}

} // namespace era
