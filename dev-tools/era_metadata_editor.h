// Block-level editing of era metadata in place, for the developer tool
// that makes damage (era_generate_damage) and replays what the kernel
// does.  Only the metadata space map is interpreted here: a count can be
// overwritten raw (damage) or moved with every counter that goes with it
// (the sm root's nr_allocated, the index entry's nr_free and hint), as a
// kernel transaction leaves them.
#pragma once

#include "era/superblock.h"
#include "persistent-data/block_io.h"

#include <string>
#include <vector>

namespace era {

class metadata_editor {
public:
	// Opens PATH for writing; base::error unless its superblock is sound.
	explicit metadata_editor(const std::string &path);

	std::vector<uint8_t> read(block_address b);
	void write(block_address b, const std::vector<uint8_t> &data);

	// The live superblock as read at open, and writing it back (sealed).
	const superblock &sb() const { return sb_; }
	void write_superblock(const superblock &sb);

	// The leftmost leaf of the btree at ROOT: where a dm-array keeps its
	// first array block and the writeset tree its oldest writeset.
	block_address first_leaf(block_address root);
	// The first array block of the dm-array (or bitset) at ROOT.
	block_address first_array_block(block_address root);

	// The metadata space map's 2-bit entry for B (3: the count lives in
	// the overflow tree).
	uint32_t count(block_address b);
	// Overwrites B's entry only, nothing else (damage).
	void set_count_raw(block_address b, uint32_t count);
	// Moves B's count by DELTA keeping nr_allocated, nr_free and the
	// none-free-before hint in step; refuses to leave 0..2 (the overflow
	// tree is not edited).  The sm root goes to the live superblock.
	void adjust_count(block_address b, int delta);
	// The lowest block with count 0 that the map and the device both cover.
	block_address find_free();

private:
	struct bitmap_slot {
		block_address bitmap;
		uint32_t entry;
		uint64_t index; // which index entry
	};
	bitmap_slot locate(block_address b);

	pdata::file_block_io io_;
	superblock sb_;
};

} // namespace era
