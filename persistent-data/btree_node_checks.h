// What every reader of a btree checks in one node beyond its checksum, and
// the one wording for what it finds - so thin_check's census and the
// depth-first walker behind cache_check, era_check and the dumps describe
// the same damage in the same words.
#pragma once

#include "persistent-data/btree_node.h"

#include <cstdint>
#include <optional>
#include <string>

namespace pdata {

// Fatal: the node cannot be read as a node of this tree (a leaf's values
// of the wrong size, keys not strictly ascending).
std::optional<std::string> node_shape_problem(node_ref n, uint32_t value_size);

// Fatal: the node's keys [FIRST, LAST] (NR of them) leave the range its
// parent gives it: [LO, HI), HI absent for the last child.
std::optional<std::string> key_range_problem(uint32_t nr, uint64_t first, uint64_t last, uint64_t lo,
                                             std::optional<uint64_t> hi);

// Non-fatal: max_entries not a multiple of 3 (the kernel always makes it
// one), and a node other than the root under a third full.
std::optional<std::string> max_entries_problem(node_ref n);
std::optional<std::string> fill_problem(node_ref n, bool is_root);

// A child that lies past the device's end.
inline const char *beyond_device_text() { return "block is beyond the end of the metadata device"; }

} // namespace pdata
