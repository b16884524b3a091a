// The thin-pool metadata checker: the engine behind thin_check.
//
// It recounts every reference from scratch - each metadata block reached
// (superblock, snapshot copy, every tree node, the space maps' own index,
// bitmap and overflow blocks) and each data block mapped - in one level-order
// census that reads each distinct block once, and compares the result with
// both space maps.  A stored count below the real number of references is
// fatal (the kernel would decrement it below zero); one above is a leak.
#pragma once

#include "persistent-data/block_io.h"
#include "thin-provisioning/check_report.h"
#include "thin-provisioning/superblock.h"

#include <optional>
#include <vector>

namespace thin {

struct check_options {
	bool super_block_only = false;
	bool skip_mappings = false;
	bool metadata_snap = false; // check the held snapshot's trees instead
	std::optional<pdata::block_address> override_mapping_root, override_details_root;
};

struct count_mismatch {
	pdata::block_address block;
	uint32_t stored, expected;
};

struct check_result {
	bool superblock_ok = false;
	superblock sb; // the live superblock (when superblock_ok)
	std::vector<count_mismatch> metadata_leaks, data_leaks;
	bool space_maps_checked = false;
};

check_result check_metadata(pdata::block_io &io, const check_options &opts, check_report &report);

} // namespace thin
