// Orphans: mapping subtrees still on the device, still counted as in use by
// the metadata space map, that no readable tree reaches any more because a
// node above them is damaged.  thin_repair and thin_dump --repair give them
// back to the device that lost their key range.
//
// Never invents data: only blocks the space map counts (so not old, freed
// versions of a tree) are considered, and only subtrees whose keys fall
// inside a range some device lost at one damaged node are given back - to
// every device that lost that range there (they shared the node).  Anything
// else is reported and left out.
//
// Aliases: two devices whose top-level entries point at one tree that the
// space map counts fewer references to (damage, not a snapshot's sharing).
// The tree goes to the one device whose mapped_blocks fit it; the other
// loses it and gets back what orphaned nodes still hold of its own tree.
//
// Lost roots: a device with details but no top-level entry (the top level
// is damaged) gets the orphaned tree whose mapping count is its
// mapped_blocks, when only one fits.  When several do, the entry the
// damaged top-level node still holds (read without its checksum, when its
// structure is whole) names it, or else the metadata snapshot's top level,
// when that names one for every such device.
#pragma once

#include "persistent-data/block_manager.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/superblock.h"

#include <map>
#include <string>
#include <vector>

namespace thin {

struct orphan_mappings {
	// dev -> (virtual block, packed block/time value), ascending
	std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> by_device;
	// Devices that must not use the tree their top-level entry names (an
	// alias of another device's tree), with that tree's root.
	std::map<uint64_t, pdata::block_address> dropped;
	// Devices whose top-level entry is lost, with the root found for them.
	std::map<uint64_t, pdata::block_address> found_roots;
	std::vector<std::string> notes; // what was found, recovered or left out
};

// SB: the superblock whose trees are being salvaged; its metadata space map
// tells which blocks are in use.  DETAILS: the devices' details as read.
// Returns nothing (with a note) when that space map cannot be read.
// OTHER_TOP_LEVELS: top levels found on the device besides the live one
// (the copies the kernel replaced), dev id -> root each; a root one of them
// names for a device alone, and for no other device, identifies that
// device's lost root among trees of equal count.  TOP_LEVEL_AS_LEAF: the
// device roots of a live top level whose root is marked internal but was
// read as the leaf it is (dump_metadata decides); the walk takes them as
// they are instead of walking that root as it says.
orphan_mappings find_orphans(pdata::block_manager &bm, const superblock &sb,
                             const std::map<uint64_t, device_details> &details,
                             const std::vector<std::map<uint64_t, pdata::block_address>> &other_top_levels = {},
                             const std::map<uint64_t, pdata::block_address> *top_level_as_leaf = nullptr);

} // namespace thin
