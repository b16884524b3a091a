#include "caching/superblock.h"

#include "base/endian.h"
#include "persistent-data/checksum.h"

#include <cstring>

namespace caching {

std::string superblock::policy() const {
	size_t n = 0;
	while (n < policy_name.size() && policy_name[n])
		n++;
	return std::string(policy_name.data(), n);
}

superblock decode_superblock(const uint8_t *b) {
	base::le_reader r({b, pdata::BLOCK_SIZE});
	superblock sb;
	sb.flags = r.u32(4);
	sb.blocknr = r.u64(8);
	std::memcpy(sb.uuid.data(), b + 16, 16);
	sb.magic = r.u64(32);
	sb.version = r.u32(40);
	std::memcpy(sb.policy_name.data(), b + 44, POLICY_NAME_SIZE);
	sb.policy_hint_size = r.u32(60);
	std::memcpy(sb.metadata_space_map_root.data(), b + 64, 128);
	sb.mapping_root = r.u64(192);
	sb.hint_root = r.u64(200);
	sb.discard_root = r.u64(208);
	sb.discard_block_size = r.u64(216);
	sb.discard_nr_blocks = r.u64(224);
	sb.data_block_size = r.u32(232);
	sb.metadata_block_size = r.u32(236);
	sb.cache_blocks = r.u32(240);
	sb.compat_flags = r.u32(244);
	sb.compat_ro_flags = r.u32(248);
	sb.incompat_flags = r.u32(252);
	sb.read_hits = r.u32(256);
	sb.read_misses = r.u32(260);
	sb.write_hits = r.u32(264);
	sb.write_misses = r.u32(268);
	for (int i = 0; i < 3; i++)
		sb.policy_version[i] = r.u32(272 + 4 * i);
	if (sb.version >= 2)
		sb.dirty_root = r.u64(284);
	return sb;
}

void encode_superblock(const superblock &sb, uint8_t *b) {
	std::memset(b, 0, pdata::BLOCK_SIZE);
	base::le_writer w({b, pdata::BLOCK_SIZE});
	w.u32(4, sb.flags);
	w.u64(8, sb.blocknr);
	w.bytes(16, sb.uuid);
	w.u64(32, sb.magic);
	w.u32(40, sb.version);
	std::memcpy(b + 44, sb.policy_name.data(), POLICY_NAME_SIZE);
	w.u32(60, sb.policy_hint_size);
	w.bytes(64, sb.metadata_space_map_root);
	w.u64(192, sb.mapping_root);
	w.u64(200, sb.hint_root);
	w.u64(208, sb.discard_root);
	w.u64(216, sb.discard_block_size);
	w.u64(224, sb.discard_nr_blocks);
	w.u32(232, sb.data_block_size);
	w.u32(236, sb.metadata_block_size);
	w.u32(240, sb.cache_blocks);
	w.u32(244, sb.compat_flags);
	w.u32(248, sb.compat_ro_flags);
	w.u32(252, sb.incompat_flags);
	w.u32(256, sb.read_hits);
	w.u32(260, sb.read_misses);
	w.u32(264, sb.write_hits);
	w.u32(268, sb.write_misses);
	for (int i = 0; i < 3; i++)
		w.u32(272 + 4 * i, sb.policy_version[i]);
	if (sb.version >= 2)
		w.u64(284, sb.dirty_root);
	pdata::seal_checksum(b, pdata::salt::cache_superblock);
}

std::vector<std::string> superblock_problems(const uint8_t *b, block_address device_blocks) {
	std::vector<std::string> p;
	uint32_t stored = base::load_le32(b), wanted = pdata::block_checksum(b, pdata::salt::cache_superblock);
	if (stored != wanted) {
		p.push_back("bad checksum in superblock, wanted " + std::to_string(wanted));
		return p;
	}
	superblock sb = decode_superblock(b);
	if (sb.flags & ~(CLEAN_SHUTDOWN | NEEDS_CHECK))
		p.push_back("invalid flags: " + std::to_string(sb.flags));
	if (sb.blocknr != 0)
		p.push_back("bad block nr in superblock: " + std::to_string(sb.blocknr));
	if (sb.magic != CACHE_MAGIC)
		p.push_back("magic is incorrect: " + std::to_string(sb.magic));
	if (sb.version < 1 || sb.version > 2)
		p.push_back("version incorrect: " + std::to_string(sb.version));
	if (std::memchr(sb.policy_name.data(), 0, POLICY_NAME_SIZE) == nullptr)
		p.push_back("policy name is not NUL-terminated");
	if (sb.policy_hint_size != 0 && sb.policy_hint_size != 4 && sb.policy_hint_size != 8)
		p.push_back("policy hint size invalid: " + std::to_string(sb.policy_hint_size));
	if (sb.metadata_block_size != pdata::SECTORS_PER_BLOCK)
		p.push_back("metadata block size incorrect: " + std::to_string(sb.metadata_block_size));
	// (The kernel opens the cache only with the data block size of its
	// table, which must be a multiple of 32 KiB from 32 KiB to 1 GiB.)
	if (sb.data_block_size < 64 || sb.data_block_size > 2097152 || sb.data_block_size % 64)
		p.push_back("data block size " + std::to_string(sb.data_block_size) +
		            " sectors is not a multiple of 64 between 64 and 2097152");
	if (sb.compat_flags || sb.compat_ro_flags || sb.incompat_flags)
		p.push_back("unknown feature flags (compat " + std::to_string(sb.compat_flags) + ", compat_ro " +
		            std::to_string(sb.compat_ro_flags) + ", incompat " + std::to_string(sb.incompat_flags) + ")");
	for (auto [what, r] : {std::pair{"mapping root", sb.mapping_root}, {"hint root", sb.hint_root},
	                       {"discard root", sb.discard_root}, {"dirty root", sb.dirty_root}})
		if (r >= device_blocks)
			p.push_back(std::string(what) + " " + std::to_string(r) + " is beyond the metadata device (" +
			            std::to_string(device_blocks) + " blocks)");
	return p;
}

} // namespace caching
