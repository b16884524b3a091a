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
#include "base/check_report.h"
#include "persistent-data/checker_result.h"
#include "thin-provisioning/superblock.h"

#include <map>
#include <optional>
#include <vector>

namespace thin {

using base::check_report;

// What a metadata block holds, as found by the checker (for tools that
// need to know: the damage generator, pack).
enum class block_role : uint8_t {
	unused,
	superblock,
	snapshot_superblock,
	details_node,
	top_level_node,
	mapping_internal,
	mapping_leaf,
	metadata_sm_index,
	metadata_sm_bitmap,
	metadata_sm_ref_counts,
	data_sm_index,
	data_sm_bitmap,
	data_sm_ref_counts,
};

const char *role_name(block_role r);

struct check_options {
	bool record_roles = false;
	bool super_block_only = false;
	bool skip_mappings = false;
	bool metadata_snap = false; // check the held snapshot's trees instead
	// Leave out the trees a held snapshot keeps (for tools that want to know
	// which blocks only the live trees reach; counts will not match).
	bool skip_metadata_snap = false;
	std::optional<pdata::block_address> override_mapping_root, override_details_root;
};

using count_mismatch = pdata::sm_count_mismatch;

struct check_result : pdata::checker_result {
	superblock sb; // the live superblock (when superblock_ok)
	// The transaction of the trees checked: the held snapshot's with -m (the
	// reference prints that one).
	uint64_t transaction_id = 0;
	std::vector<count_mismatch> data_leaks;
	std::vector<block_role> roles; // per metadata block, with record_roles
	std::map<pdata::block_address, uint64_t> mapping_owner; // mapping node -> a device reaching it
};

check_result check_metadata(pdata::block_io &io, const check_options &opts, check_report &report);

} // namespace thin
