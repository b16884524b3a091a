// Walks a pool's binary metadata and describes it to an emitter: the
// engine behind thin_dump (and, with repair, the reading half of
// thin_repair).  Damage never throws: it is collected as messages, the
// damaged parts are skipped, and the caller decides what is fatal.
#pragma once

#include "persistent-data/block_manager.h"
#include "thin-provisioning/emitter.h"
#include "thin-provisioning/superblock.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace thin {

struct dump_options {
	bool repair = false;        // recompute mapped_blocks; damage is not an error
	bool skip_mappings = false; // devices only
	std::set<uint64_t> dev_ids; // empty: every device
	std::optional<uint64_t> transaction_id, nr_data_blocks;
	std::optional<uint32_t> data_block_size;
	// Repair: other top levels found on the device (superblock_salvage.h).
	std::vector<std::map<uint64_t, pdata::block_address>> other_top_levels;
};

struct dump_result {
	std::vector<std::string> damage; // one line per problem, naming blocks
};

// SB is the superblock whose trees are dumped (the live one or a metadata
// snapshot's copy); NR_DATA_BLOCKS the data device size to print.
dump_result dump_metadata(pdata::block_manager &bm, const superblock &sb,
                          uint64_t nr_data_blocks, const dump_options &opts, emitter &out);

} // namespace thin
