// Reading an on-disk space map without trusting it: its index (the
// metadata map's one index block, or the data map's index btree), its
// bitmaps, and its reference count tree (the counts of 3 and more).
//
// Every tool that needs a stored count goes through here - the checkers,
// repair's orphan finder, pack, trim, thin_ls's usage, the read floor - so
// there is one reading of the layout (doc/persistent-data-format.md) and
// one wording for its damage.  Damage is data: each reader returns what it
// could not read, with the block at fault, and the caller decides whether
// that is fatal.
#pragma once

#include "persistent-data/batch_reader.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/space_map.h"
#include "persistent-data/space_map_bitmap.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace pdata {

// An index that has no usable entry for a bitmap says so with this.
constexpr block_address NO_BITMAP = UINT64_MAX;

struct sm_damage {
	block_address block; // the block at fault (the index, a bitmap, a tree node)
	std::string reason;  // a whole sentence naming the map, e.g. "metadata space map: ..."
};

// Where each bitmap of one space map lives.
struct sm_index {
	uint64_t nr_blocks = 0;             // blocks the map covers
	std::vector<block_address> bitmaps; // bitmap i covers blocks [i * 16320, (i + 1) * 16320)
	std::vector<sm_damage> damage;      // what made an entry NO_BITMAP, or the whole index unusable
	bool usable = false;                // false: no bitmap can be located at all
	bool complete() const { return usable && damage.empty(); }
};

uint64_t nr_bitmaps(uint64_t nr_blocks);

// The metadata map's index block.  Bitmaps whose first block is at or past
// ONLY_BELOW are left out (a truncated device keeps counts only for what
// is left).  Bitmap locations beyond the device are listed as they are:
// read_bitmaps reports them.
sm_index read_metadata_index(block_io &io, const sm_root &root, uint64_t only_below = UINT64_MAX);

// The data map's index btree, walked here.
sm_index read_data_index(block_manager &bm, const sm_root &root);

// The same, from the entries of an index tree a caller walked itself (the
// thin checker reads it in its census): bitmap number -> block.
sm_index data_index_from_entries(const sm_root &root, const std::map<uint64_t, block_address> &entries);

// Adds the entries of one leaf of a data index tree to ENTRIES.
void add_data_index_entries(node_ref leaf, std::map<uint64_t, block_address> &entries);

// Entry I (0..3) of a bitmap block's 2-bit counts; 3 means "in the
// reference count tree".
inline uint32_t bitmap_entry(const uint8_t *bitmap, uint64_t i) { return bitmap_block::get(bitmap, uint32_t(i)); }

// Word W (entries 32w..32w+31) of a bitmap block, as stored.
uint64_t bitmap_word(const uint8_t *bitmap, uint64_t w);

// Which of a bitmap word's 32 entries are 3, as bit I for entry I.
uint32_t entries_of_three(uint64_t word);

// Called for each bitmap read.  ON_READER runs on whichever thread read the
// block (work that should scale with the reading threads; it must be
// thread-safe), only for sound bitmaps.  ON_CALLER runs on the caller's
// thread in block order for every bitmap: DATA is null when the block lies
// beyond the device, PROBLEM set when its checksum or location is wrong.
using bitmap_reader_fn = std::function<void(uint64_t i, block_address b, const uint8_t *data)>;
using bitmap_caller_fn = std::function<void(uint64_t i, block_address b, const uint8_t *data,
                                            const std::optional<std::string> &problem)>;

// Reads every bitmap INDEX lists once (NO_BITMAP entries are skipped), in
// large sorted reads.
void read_bitmaps(block_io &io, const sm_index &index, const bitmap_reader_fn &on_reader,
                  const bitmap_caller_fn &on_caller, readers who = readers::one);

// The damage read_bitmaps' ON_CALLER was told of, worded the one way
// (WHICH: "metadata" or "data").
std::string bitmap_damage_text(const std::string &which, uint64_t i, block_address b, const uint8_t *data,
                               const std::string &problem);

// The reference count tree: block -> count, for the counts of 3 or more.
struct overflow_counts {
	std::map<block_address, uint32_t> counts;
	std::vector<block_address> nodes; // every tree node read (they are references too)
	bool damaged = false;             // a fatal fault in the tree: some counts are missing
};
overflow_counts read_overflow_counts(block_manager &bm, block_address root);

// Every entry of the map, in block order: FN(block, entry 0..3) for each
// block below MIN(index.nr_blocks, LIMIT).  Returns what could not be read
// (those blocks are not visited).
std::vector<sm_damage> for_each_entry(block_io &io, const sm_index &index, const std::string &which,
                                      const std::function<void(block_address, uint32_t)> &fn,
                                      uint64_t limit = UINT64_MAX);

// The stored count of every block whose count is not 0 (counts of 3 looked
// up in the reference count tree), or nullopt when any part of the map -
// index, bitmaps, tree - is unreadable.
std::optional<std::unordered_map<block_address, uint32_t>> read_nonzero_counts(block_manager &bm, const sm_index &index,
                                                                              const sm_root &root,
                                                                              uint64_t limit = UINT64_MAX);

// The blocks whose entry is not 0, or nullopt when the map is unreadable.
std::optional<std::vector<block_address>> read_used_blocks(block_io &io, const sm_index &index);

} // namespace pdata
