#include "caching/cache_io.h"

#include "base/error.h"
#include "persistent-data/checksum.h"

#include <algorithm>
#include <cstring>

namespace caching {

std::unique_ptr<pdata::file_block_io> open_cache_metadata(const std::string &path, const std::string &too_small) {
	auto io = std::make_unique<pdata::file_block_io>(path, base::access_mode::read_only);
	if (io->nr_blocks() == 0)
		throw base::error(too_small);
	return io;
}

superblock read_cache_superblock(pdata::block_io &io) {
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	io.read(0, 1, b.data());
	auto p = superblock_problems(b.data(), io.nr_blocks());
	if (!p.empty())
		throw base::error(io.name() + ": " + p.front());
	return decode_superblock(b.data());
}

superblock read_cache_superblock_for_repair(pdata::block_io &io, std::vector<std::string> &notes) {
	std::vector<uint8_t> b(pdata::BLOCK_SIZE);
	io.read(0, 1, b.data());
	const pdata::block_address n = io.nr_blocks();
	auto p = superblock_problems(b.data(), n);
	if (p.empty())
		return decode_superblock(b.data());
	// (Sealed again, the block is judged on its fields alone.)
	std::vector<uint8_t> sealed = b;
	pdata::seal_checksum(sealed.data(), pdata::salt::cache_superblock);
	bool checksum_holds = pdata::checksum_matches(b.data(), pdata::salt::cache_superblock);
	auto fields = superblock_problems(sealed.data(), n);
	if (fields.empty()) {
		notes.push_back("superblock: " + p.front() + "; every field is sound, so it is used");
		return decode_superblock(b.data());
	}
	if (!checksum_holds)
		throw base::error(io.name() + ": " + p.front() + ", and " + fields.front());
	superblock sb = decode_superblock(b.data());
	auto fix = [&](bool wrong, const std::string &what, auto apply) {
		if (wrong) {
			notes.push_back("superblock: " + what);
			apply();
		}
	};
	fix(sb.flags & ~(CLEAN_SHUTDOWN | NEEDS_CHECK), "invalid flags " + std::to_string(sb.flags) + " cleared",
	    [&] { sb.flags &= CLEAN_SHUTDOWN | NEEDS_CHECK; });
	fix(sb.blocknr != 0, "block number " + std::to_string(sb.blocknr) + " ignored", [&] { sb.blocknr = 0; });
	fix(sb.magic != CACHE_MAGIC, "magic " + std::to_string(sb.magic) + " ignored", [&] { sb.magic = CACHE_MAGIC; });
	bool has_dirty_root = sb.dirty_root && sb.dirty_root < n;
	fix(sb.version < 1 || sb.version > 2,
	    "version " + std::to_string(sb.version) + " read as " + (has_dirty_root ? "2 (it has a dirty bitset)" : "1"),
	    [&] { sb.version = has_dirty_root ? 2 : 1; });
	fix(std::memchr(sb.policy_name.data(), 0, POLICY_NAME_SIZE) == nullptr, "policy name cut to 15 characters",
	    [&] { sb.policy_name[POLICY_NAME_SIZE - 1] = 0; });
	fix(sb.policy_hint_size != 0 && sb.policy_hint_size != 4 && sb.policy_hint_size != 8,
	    "policy hint size " + std::to_string(sb.policy_hint_size) + " ignored (the hint array's is used)",
	    [&] { sb.policy_hint_size = 0; });
	fix(sb.metadata_block_size != pdata::SECTORS_PER_BLOCK,
	    "metadata block size " + std::to_string(sb.metadata_block_size) + " read as 8",
	    [&] { sb.metadata_block_size = pdata::SECTORS_PER_BLOCK; });
	// (No other block records the data block size; the nearest possible one
	// is the likeliest, and a wrong one only makes the kernel refuse the
	// cache, since its table must give the same.)
	uint64_t rounded = std::clamp<uint64_t>((uint64_t(sb.data_block_size) + 32) / 64 * 64, 64, 2097152);
	fix(sb.data_block_size < 64 || sb.data_block_size > 2097152 || sb.data_block_size % 64,
	    "data block size " + std::to_string(sb.data_block_size) + " is no cache block size; the nearest, " +
	        std::to_string(rounded) + ", is used (the kernel refuses the cache if its table says otherwise)",
	    [&] { sb.data_block_size = uint32_t(rounded); });
	fix(sb.compat_flags || sb.compat_ro_flags || sb.incompat_flags, "unknown feature flags cleared", [&] {
		sb.compat_flags = sb.compat_ro_flags = sb.incompat_flags = 0;
	});
	fix(sb.hint_root >= n, "hint root " + std::to_string(sb.hint_root) + " beyond the device: hints dropped",
	    [&] { sb.hint_root = 0; });
	fix(sb.discard_root >= n, "discard root " + std::to_string(sb.discard_root) + " beyond the device: discards dropped",
	    [&] { sb.discard_root = 0; });
	fix(sb.version >= 2 && sb.dirty_root >= n,
	    "dirty root " + std::to_string(sb.dirty_root) + " beyond the device: every cached block counts as dirty",
	    [&] { sb.dirty_root = 0; });
	fix(sb.mapping_root >= n, "mapping root " + std::to_string(sb.mapping_root) + " beyond the device: no mappings",
	    [&] { sb.mapping_root = 0; });
	return sb;
}

} // namespace caching
