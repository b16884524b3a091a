// How much of the data device each thin device uses: mapped blocks, those
// it holds alone (data reference count 1) and the highest block mapped -
// computed in one pass over the metadata that folds shared subtrees once,
// however many devices share them.
#pragma once

#include "persistent-data/block_io.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/superblock.h"

#include <optional>
#include <vector>

namespace thin {

struct device_usage {
	uint64_t dev;
	device_details details;
	uint64_t mapped = 0, exclusive = 0;
	std::optional<uint64_t> highest_mapped;
};

// How the answer was reached: whether the stored data space map could be
// trusted to tell which blocks are held once (each leaf then read once), or
// the leaves had to be read again.
struct usage_method {
	bool used_stored_counts = false;
	uint64_t leaves_read_again = 0;
};

// TREES: the superblock whose trees are read (live or a metadata snapshot's
// copy); DATA_SM: the live data space map root, for the reference counts.
// Throws base::error on damage that makes the answer wrong.
std::vector<device_usage> device_usages(pdata::block_io &io, const superblock &trees,
                                        const pdata::sm_root &data_sm, usage_method *method = nullptr);

} // namespace thin
