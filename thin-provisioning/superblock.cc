#include "thin-provisioning/superblock.h"

#include "base/endian.h"
#include "persistent-data/checksum.h"

#include <cstring>
#include <functional>

namespace thin {

superblock decode_superblock(const uint8_t *b) {
	base::le_reader r({b, pdata::BLOCK_SIZE});
	superblock sb;
	sb.flags = r.u32(4);
	sb.blocknr = r.u64(8);
	std::memcpy(sb.uuid.data(), b + 16, 16);
	sb.magic = r.u64(32);
	sb.version = r.u32(40);
	sb.time = r.u32(44);
	sb.trans_id = r.u64(48);
	sb.metadata_snap = r.u64(56);
	std::memcpy(sb.data_space_map_root.data(), b + 64, SM_ROOT_AREA);
	std::memcpy(sb.metadata_space_map_root.data(), b + 192, SM_ROOT_AREA);
	sb.data_mapping_root = r.u64(320);
	sb.device_details_root = r.u64(328);
	sb.data_block_size = r.u32(336);
	sb.metadata_block_size = r.u32(340);
	sb.metadata_nr_blocks = r.u64(344);
	sb.compat_flags = r.u32(352);
	sb.compat_ro_flags = r.u32(356);
	sb.incompat_flags = r.u32(360);
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
	w.u32(44, sb.time);
	w.u64(48, sb.trans_id);
	w.u64(56, sb.metadata_snap);
	w.bytes(64, sb.data_space_map_root);
	w.bytes(192, sb.metadata_space_map_root);
	w.u64(320, sb.data_mapping_root);
	w.u64(328, sb.device_details_root);
	w.u32(336, sb.data_block_size);
	w.u32(340, sb.metadata_block_size);
	w.u64(344, sb.metadata_nr_blocks);
	w.u32(352, sb.compat_flags);
	w.u32(356, sb.compat_ro_flags);
	w.u32(360, sb.incompat_flags);
	pdata::seal_checksum(b, pdata::salt::thin_superblock);
}

bool superblock_checksum_holds(const uint8_t *b) {
	return base::load_le32(b) == pdata::block_checksum(b, pdata::salt::thin_superblock);
}

namespace {

// The fields of a superblock the kernel judges when it opens a pool, as
// (problem, fatal) pairs: FATAL false for those only the live superblock's
// open reads, when judging a held snapshot's copy.
void field_problems(const superblock &sb, bool live, block_address device_blocks,
                    const std::function<void(const std::string &, bool fatal)> &found) {
	if (sb.version < 1 || sb.version > 2)
		found("unknown superblock version " + std::to_string(sb.version) + " (the kernel does not check it)", false);
	if (sb.metadata_block_size != pdata::SECTORS_PER_BLOCK)
		found("metadata block size is " + std::to_string(sb.metadata_block_size) +
		          " sectors, expected 8 (the kernel does not read it)",
		      false);
	if (sb.data_block_size < 128 || sb.data_block_size > 2097152 || sb.data_block_size % 128)
		found("data block size " + std::to_string(sb.data_block_size) +
		          " sectors is not a multiple of 128 between 128 and 2097152",
		      live);
	// Stale after the device grows (doc/thin-format.md#growing-the-devices): only a larger value
	// can mean the device lost blocks, and the space map's root says how
	// many the pool really has (checked below and by the space-map check).
	if (sb.metadata_nr_blocks > device_blocks)
		found("superblock says the metadata device has " + std::to_string(sb.metadata_nr_blocks) +
		          " blocks, but it has only " + std::to_string(device_blocks) + " (the kernel does not read it)",
		      false);
	if (sb.incompat_flags)
		found("unknown incompatible feature flags " + std::to_string(sb.incompat_flags), live);
	// (The kernel refuses to open the pool read-write with these.)
	if (sb.compat_ro_flags)
		found("unknown read-only compatible feature flags " + std::to_string(sb.compat_ro_flags), live);
	if (sb.compat_flags)
		found("unknown compatible feature flags " + std::to_string(sb.compat_flags), false);
}

} // namespace

std::vector<std::string> superblock_problems(const uint8_t *b, block_address location,
                                             block_address device_blocks) {
	std::vector<std::string> p;
	if (!superblock_checksum_holds(b)) {
		p.push_back("bad checksum in superblock, wanted " +
		            std::to_string(pdata::block_checksum(b, pdata::salt::thin_superblock)));
		return p; // nothing else in the block can be trusted
	}
	superblock sb = decode_superblock(b);
	const bool live = location == SUPERBLOCK_LOCATION;
	if (sb.blocknr != location)
		p.push_back("bad block nr in superblock: says " + std::to_string(sb.blocknr) +
		            ", read from " + std::to_string(location));
	if (sb.magic != SUPERBLOCK_MAGIC)
		p.push_back("bad magic in superblock: " + std::to_string(sb.magic));
	field_problems(sb, live, device_blocks, [&](const std::string &what, bool fatal) {
		if (fatal)
			p.push_back(what);
	});
	auto root_in_range = [&](const char *what, block_address r) {
		if (r >= device_blocks)
			p.push_back(std::string(what) + " " + std::to_string(r) +
			            " is beyond the metadata device (" + std::to_string(device_blocks) +
			            " blocks)");
	};
	root_in_range("data mapping root", sb.data_mapping_root);
	root_in_range("device details root", sb.device_details_root);
	if (live && sb.metadata_snap)
		root_in_range("metadata snapshot", sb.metadata_snap);
	// A held snapshot's copy has zeroed space-map roots (doc/thin-format.md#metadata-snapshot).
	if (live) {
		auto msm = sb.metadata_sm();
		auto dsm = sb.data_sm();
		if (msm.nr_blocks > device_blocks)
			p.push_back("metadata space map covers " + std::to_string(msm.nr_blocks) +
			            " blocks but the device has only " + std::to_string(device_blocks) + " (truncated?)");
		root_in_range("metadata space map index", msm.bitmap_root);
		root_in_range("metadata space map ref-count root", msm.ref_count_root);
		// (A mapping holds a data block in 40 bits.)
		if (dsm.nr_blocks > (uint64_t(1) << 40))
			p.push_back("data space map covers " + std::to_string(dsm.nr_blocks) +
			            " blocks, more than a pool can address (2^40)");
		root_in_range("data space map index root", dsm.bitmap_root);
		root_in_range("data space map ref-count root", dsm.ref_count_root);
	}
	return p;
}

std::vector<std::string> superblock_warnings(const uint8_t *b, block_address location,
                                             block_address device_blocks) {
	std::vector<std::string> w;
	if (!superblock_checksum_holds(b))
		return w;
	field_problems(decode_superblock(b), location == SUPERBLOCK_LOCATION, device_blocks,
	               [&](const std::string &what, bool fatal) {
		               if (!fatal)
			               w.push_back(what);
	               });
	return w;
}

} // namespace thin
