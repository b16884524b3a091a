// Damage to the superblock: gone, stale, flagged, or claiming a device of
// another size.  It is rewritten with a valid checksum where only one field
// is meant to be wrong.
#include "base/error.h"
#include "dev-tools/thin_damage_kinds.h"
#include "thin-provisioning/superblock.h"

#include <iostream>

namespace thin::damage {
namespace {

// Reads the superblock, lets CHANGE edit it, and writes it back sealed.
template <typename F>
superblock rewrite_superblock(damager &d, F change) {
	auto data = d.read(0);
	superblock sb = decode_superblock(data.data());
	change(sb);
	encode_superblock(sb, data.data());
	d.write(0, data);
	return sb;
}

} // namespace

void zero_superblock(damager &d, const options &) {
	d.write(0, std::vector<uint8_t>(pdata::BLOCK_SIZE, 0));
	d.report(0, "zeroed");
}

void stale_superblock(damager &d, const options &) {
	// Pointing at older trees: those the held metadata snapshot keeps (the
	// newer live trees stay on the device).
	superblock old;
	rewrite_superblock(d, [&](superblock &sb) {
		if (!sb.metadata_snap)
			throw base::error("stale-superblock needs an image with a metadata snapshot");
		old = decode_superblock(d.read(sb.metadata_snap).data());
		sb.device_details_root = old.device_details_root;
		sb.data_mapping_root = old.data_mapping_root;
	});
	std::cout << "superblock made stale: roots " << old.device_details_root << " and " << old.data_mapping_root
	          << " of the metadata snapshot\n";
}

void needs_check(damager &d, const options &) {
	rewrite_superblock(d, [](superblock &sb) { sb.flags |= NEEDS_CHECK_FLAG; });
	d.report(0, "needs_check flag set");
}

void metadata_nr_blocks(damager &d, const options &) {
	auto sb = rewrite_superblock(d, [&](superblock &s) { s.metadata_nr_blocks = d.io().nr_blocks() + 1000; });
	d.report(0, "metadata_nr_blocks " + std::to_string(sb.metadata_nr_blocks));
}

} // namespace thin::damage
