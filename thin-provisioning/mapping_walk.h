// Visits one device's mappings in ascending virtual block order, reading
// each node's children ahead in one batch.  Damage is collected, not thrown.
#pragma once

#include "persistent-data/block_manager.h"
#include "thin-provisioning/device_details.h"

#include <functional>
#include <string>
#include <vector>

namespace thin {

void for_each_mapping(pdata::block_manager &bm, pdata::block_address root,
                      const std::function<void(uint64_t vblock, block_time bt)> &fn,
                      std::vector<std::string> &damage);

// The mapping tree roots of every device, from the top level of the tree.
std::vector<std::pair<uint64_t, pdata::block_address>>
device_roots(pdata::block_manager &bm, pdata::block_address mapping_root, std::vector<std::string> &damage);

} // namespace thin
