// Finding a pool's trees when its superblock cannot be trusted: the first
// step of thin_repair and thin_dump --repair.
//
// When the superblock is unreadable, or its roots are not the trees they
// should be, or it is stale (the device holds a more recent, consistent
// pair of trees), every metadata block is scanned for btree nodes (the
// holes of a sparse file are skipped: they read as zeros).  Nodes
// no other node points at are candidate roots; a device-details tree and a
// top-level mapping tree whose device ids agree form a candidate pair, and
// the most recent pair (highest transaction in the details, then most
// devices) wins.  Fields the superblock held are recovered where the device
// shows them (a valid metadata-snapshot copy of the superblock, the details,
// the highest mapped data block) and asked for where it cannot.
//
// A sound superblock whose details tree is whole but whose top level of the
// mapping tree is damaged is kept (unless a more recent pair exists): the
// metadata snapshot's older pair would lose the devices made since, and the
// live space maps still tell which trees are in use, so the repair finds the
// lost device roots among them (orphan_finder.h).
#pragma once

#include "persistent-data/block_io.h"
#include "thin-provisioning/superblock.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace thin {

struct superblock_overrides {
	std::optional<uint64_t> transaction_id, nr_data_blocks;
	std::optional<uint32_t> data_block_size;
};

struct salvaged_superblock {
	superblock sb;           // the roots and fields to work from
	uint64_t nr_data_blocks; // the data device's size
	bool scanned = false;    // the roots were found by scanning
	// Top levels of the mapping tree the scan found besides the one used
	// and the metadata snapshot's: mostly the copies the kernel replaced
	// (dev id -> mapping root each).  Evidence for the orphan finder when
	// the live top level is lost; never trusted on its own.
	std::vector<std::map<uint64_t, pdata::block_address>> other_top_levels;
	std::vector<std::string> notes; // what was found and inferred, for stderr
};

// Throws base::error with the reference's message ("The following field
// needs to be provided on the command line due to corruption in the
// superblock: data block size") when a field is lost and not given, and
// when no consistent pair of trees exists.
salvaged_superblock salvage_superblock(pdata::block_io &io, const superblock_overrides &given);

} // namespace thin
