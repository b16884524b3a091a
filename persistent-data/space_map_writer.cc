#include "persistent-data/space_map_writer.h"

#include "base/endian.h"
#include "persistent-data/btree.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"

#include <functional>

namespace pdata {
namespace {

// Encodes the bitmaps for blocks [0, nr_blocks) from GET into freshly
// allocated blocks; returns one index entry per bitmap.
std::vector<index_entry> write_bitmaps(transaction_manager &tm, uint64_t nr_blocks,
                                       const std::function<uint32_t(block_address)> &get,
                                       const std::vector<block_address> &locations) {
	std::vector<index_entry> entries;
	for (size_t i = 0; i < locations.size(); i++) {
		write_ref w = tm.bm().write_zero(locations[i], bitmap_validator());
		bitmap_block bm(w->data);
		uint64_t first = uint64_t(i) * ENTRIES_PER_BITMAP;
		index_entry e{locations[i], 0, ENTRIES_PER_BITMAP};
		uint32_t used = 0;
		for (uint32_t k = 0; k < ENTRIES_PER_BITMAP && first + k < nr_blocks; k++) {
			uint32_t c = get(first + k);
			if (c) {
				bm.set(k, c > 2 ? 3 : c);
				used++;
			} else if (e.none_free_before == ENTRIES_PER_BITMAP)
				e.none_free_before = k;
		}
		// Entries past the end of the map count as free (as the kernel does).
		e.nr_free = ENTRIES_PER_BITMAP - used;
		if (e.none_free_before == ENTRIES_PER_BITMAP && nr_blocks - first < ENTRIES_PER_BITMAP)
			e.none_free_before = uint32_t(nr_blocks - first);
		entries.push_back(e);
	}
	return entries;
}

block_address write_overflow_tree(transaction_manager &tm, uint64_t nr_blocks,
                                  const std::function<uint32_t(block_address)> &get) {
	btree_builder b(tm, 4);
	for (block_address blk = 0; blk < nr_blocks; blk++) {
		uint32_t c = get(blk);
		if (c > 2) {
			uint8_t v[4];
			base::store_le32(v, c);
			b.push_back(blk, v);
		}
	}
	return b.finish();
}

uint64_t nr_bitmaps_for(uint64_t nr_blocks) {
	return (nr_blocks + ENTRIES_PER_BITMAP - 1) / ENTRIES_PER_BITMAP;
}

} // namespace

sm_root write_disk_space_map(transaction_manager &tm, const count_array &counts) {
	auto get = [&](block_address b) { return counts.get(b); };
	sm_root root;
	root.nr_blocks = counts.size();
	root.nr_allocated = counts.nr_allocated();
	root.ref_count_root = write_overflow_tree(tm, counts.size(), get);
	std::vector<block_address> locations;
	for (uint64_t i = 0; i < nr_bitmaps_for(counts.size()); i++)
		locations.push_back(tm.sm().new_block());
	auto entries = write_bitmaps(tm, counts.size(), get, locations);
	btree_builder index(tm, INDEX_ENTRY_SIZE);
	for (size_t i = 0; i < entries.size(); i++) {
		uint8_t v[INDEX_ENTRY_SIZE];
		encode_index_entry(entries[i], v);
		index.push_back(i, v);
	}
	root.bitmap_root = index.finish();
	return root;
}

sm_root write_metadata_space_map(transaction_manager &tm, core_space_map &counts) {
	uint64_t nr_blocks = counts.nr_blocks();
	if (nr_bitmaps_for(nr_blocks) > MAX_METADATA_BITMAPS)
		throw std::invalid_argument("metadata space map of " + std::to_string(nr_blocks) +
		                            " blocks needs more than 255 bitmaps");
	auto get = [&](block_address b) { return counts.get_count(b); };
	sm_root root;
	root.nr_blocks = nr_blocks;
	// The map's own blocks (count 1 each) are allocated before anything is
	// encoded, so the bitmaps describe them too.  The overflow tree's shape
	// does not depend on them: they never reach count 3.
	root.ref_count_root = write_overflow_tree(tm, nr_blocks, get);
	std::vector<block_address> locations;
	for (uint64_t i = 0; i < nr_bitmaps_for(nr_blocks); i++)
		locations.push_back(counts.new_block());
	block_address index_block = counts.new_block();
	root.bitmap_root = index_block;
	root.nr_allocated = nr_blocks - counts.nr_free();

	auto entries = write_bitmaps(tm, nr_blocks, get, locations);
	write_ref w = tm.bm().write_zero(index_block, index_validator());
	for (size_t i = 0; i < entries.size(); i++)
		encode_index_entry(entries[i], w->data + METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * i);
	return root;
}

} // namespace pdata
