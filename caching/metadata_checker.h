// cache_check's engine: the superblock, the mapping and hint arrays, the
// discard and (format 2) dirty bitsets, and the metadata space map counts
// recomputed from scratch.  Problems are reported as they are found, each
// naming its block; the tool decides the exit code.
#pragma once

#include "persistent-data/block_io.h"
#include "base/check_report.h"
#include "persistent-data/checker_result.h"

#include <string>
#include <vector>

namespace caching {

struct check_options {
	bool super_block_only = false, skip_mappings = false, skip_hints = false, skip_discards = false;
};

struct check_result : pdata::checker_result {
	bool needs_check = false;
};

// Sets every leaked block's stored count to its real count and, with
// CLEAR_NEEDS_CHECK, clears the flag: one metadata transaction on PATH,
// superblock last.  Returns whether anything was written.
bool mend_cache_metadata(const std::string &path, const check_result &found, bool clear_needs_check);

check_result check_cache_metadata(pdata::block_io &io, const check_options &opts, base::check_report &report);

} // namespace caching
