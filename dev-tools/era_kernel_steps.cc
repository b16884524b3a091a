#include "dev-tools/era_kernel_steps.h"

#include "base/endian.h"
#include "base/error.h"
#include "persistent-data/array.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/checksum.h"

namespace era {
namespace {

// Refuses before anything is written, so a refusal leaves the image as it was.
void need_room(metadata_editor &ed, block_address b, const char *what) {
	if (ed.count(b) >= 2)
		throw base::error(std::string(what) + " (block " + std::to_string(b) + ") has count " +
		                  std::to_string(ed.count(b)) + ": one more reference needs the overflow tree");
}

} // namespace

block_address take_metadata_snap(metadata_editor &ed) {
	superblock sb = ed.sb();
	if (sb.metadata_snap)
		throw base::error("a metadata snapshot is already held at block " + std::to_string(sb.metadata_snap));
	need_room(ed, sb.writeset_tree_root, "the writeset tree root");
	need_room(ed, sb.era_array_root, "the era array root");
	block_address copy_at = ed.find_free();

	// The kernel shadows block 0 after taking a reference on it: the copy
	// holds what was committed, stamped with its own location, and the
	// superblock's count is back to 1.  The copy's space-map root is stale
	// from then on; nothing reads it.
	superblock copy = sb;
	copy.blocknr = copy_at;
	std::vector<uint8_t> d(pdata::BLOCK_SIZE);
	encode_superblock(copy, d.data());
	ed.write(copy_at, d);

	ed.adjust_count(copy_at, +1);
	ed.adjust_count(sb.writeset_tree_root, +1);
	ed.adjust_count(sb.era_array_root, +1);
	superblock live = ed.sb(); // with the space-map root just updated
	live.metadata_snap = copy_at;
	ed.write_superblock(live);
	return copy_at;
}

live_era_change set_live_era(metadata_editor &ed, uint32_t era) {
	superblock sb = ed.sb();
	if (!sb.metadata_snap)
		throw base::error("no metadata snapshot is held: take one first (--kind metadata-snap)");
	superblock snap = decode_superblock(ed.read(sb.metadata_snap).data());
	if (snap.era_array_root != sb.era_array_root)
		throw base::error("the live era array no longer shares its root with the snapshot");
	live_era_change c{};
	c.old_root = sb.era_array_root;
	auto root = ed.read(c.old_root);
	pdata::node_ref n(root.data());
	if (!n.is_leaf() || !n.nr_entries())
		throw base::error("the era array's index is not a single non-empty leaf");
	c.old_array_block = n.value64(0);
	if (ed.count(c.old_root) != 2 || ed.count(c.old_array_block) != 1)
		throw base::error("the era array's root and first block do not have the counts a fresh snapshot leaves");
	for (uint32_t i = 1; i < n.nr_entries(); i++)
		need_room(ed, n.value64(i), "an era array block");

	// Two new blocks, found before either is counted so they differ.
	c.new_root = ed.find_free();
	ed.adjust_count(c.new_root, +1);
	c.new_array_block = ed.find_free();
	ed.adjust_count(c.new_array_block, +1);

	auto block = ed.read(c.old_array_block);
	c.old_era = base::load_le32(block.data() + pdata::ARRAY_BLOCK_HEADER);
	base::store_le32(block.data() + pdata::ARRAY_BLOCK_HEADER, era);
	pdata::array_block_validator().prepare(block.data(), c.new_array_block);
	ed.write(c.new_array_block, block);

	pdata::node_mut copy(root.data());
	copy.set_value64(0, c.new_array_block);
	pdata::btree_node_validator().prepare(root.data(), c.new_root);
	ed.write(c.new_root, root);

	// Shadowing the shared root gives each of its children a second
	// parent; shadowing the first array block then takes that one back,
	// and the old root keeps only the snapshot's reference.
	for (uint32_t i = 1; i < n.nr_entries(); i++)
		ed.adjust_count(n.value64(i), +1);
	ed.adjust_count(c.old_root, -1);

	superblock live = ed.sb();
	live.era_array_root = c.new_root;
	ed.write_superblock(live);
	return c;
}

} // namespace era
