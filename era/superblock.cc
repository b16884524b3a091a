#include "era/superblock.h"

#include "base/endian.h"
#include "persistent-data/checksum.h"

#include <cstring>

namespace era {

superblock decode_superblock(const uint8_t *b) {
	base::le_reader r({b, pdata::BLOCK_SIZE});
	superblock sb;
	sb.flags = r.u32(4);
	sb.blocknr = r.u64(8);
	std::memcpy(sb.uuid.data(), b + 16, 16);
	sb.magic = r.u64(32);
	sb.version = r.u32(40);
	std::memcpy(sb.metadata_space_map_root.data(), b + 44, 128);
	sb.data_block_size = r.u32(172);
	sb.metadata_block_size = r.u32(176);
	sb.nr_blocks = r.u32(180);
	sb.current_era = r.u32(184);
	sb.current_writeset_bits = r.u32(188);
	sb.current_writeset_root = r.u64(192);
	sb.writeset_tree_root = r.u64(200);
	sb.era_array_root = r.u64(208);
	sb.metadata_snap = r.u64(216);
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
	w.bytes(44, sb.metadata_space_map_root);
	w.u32(172, sb.data_block_size);
	w.u32(176, sb.metadata_block_size);
	w.u32(180, sb.nr_blocks);
	w.u32(184, sb.current_era);
	w.u32(188, sb.current_writeset_bits);
	w.u64(192, sb.current_writeset_root);
	w.u64(200, sb.writeset_tree_root);
	w.u64(208, sb.era_array_root);
	w.u64(216, sb.metadata_snap);
	pdata::seal_checksum(b, pdata::salt::era_superblock);
}

std::vector<std::string> superblock_problems(const uint8_t *b, block_address location, block_address device_blocks,
                                             bool verify_checksum) {
	std::vector<std::string> p;
	uint32_t stored = base::load_le32(b), wanted = pdata::block_checksum(b, pdata::salt::era_superblock);
	if (verify_checksum && stored != wanted) {
		p.push_back("bad checksum in superblock, wanted " + std::to_string(wanted));
		return p;
	}
	superblock sb = decode_superblock(b);
	if (sb.flags & ~1u)
		p.push_back("invalid flags: " + std::to_string(sb.flags));
	if (sb.blocknr != location)
		p.push_back("bad block nr in superblock: " + std::to_string(sb.blocknr));
	if (sb.magic != ERA_MAGIC)
		p.push_back("magic is incorrect: " + std::to_string(sb.magic));
	if (sb.version != 1)
		p.push_back("version incorrect: " + std::to_string(sb.version));
	if (sb.metadata_block_size != pdata::SECTORS_PER_BLOCK)
		p.push_back("metadata block size incorrect: " + std::to_string(sb.metadata_block_size));
	if (sb.writeset_tree_root == sb.era_array_root)
		p.push_back("writeset tree root and era array root are the same block (" +
		            std::to_string(sb.era_array_root) + ")");
	for (auto [what, r] : {std::pair{"writeset tree root", sb.writeset_tree_root},
	                       {"era array root", sb.era_array_root}, {"current writeset root", sb.current_writeset_root},
	                       {"metadata snapshot", sb.metadata_snap}})
		if (r >= device_blocks)
			p.push_back(std::string(what) + " " + std::to_string(r) + " is beyond the metadata device (" +
			            std::to_string(device_blocks) + " blocks)");
	return p;
}

writeset decode_writeset(const uint8_t *v) { return {base::load_le32(v), base::load_le64(v + 4)}; }

void encode_writeset(const writeset &w, uint8_t *v) {
	base::store_le32(v, w.nr_bits);
	base::store_le64(v + 4, w.root);
}

} // namespace era
