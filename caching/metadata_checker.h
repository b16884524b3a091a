// cache_check's engine: the superblock, the mapping and hint arrays, the
// discard and (format 2) dirty bitsets, and the metadata space map counts
// recomputed from scratch.  Problems are reported as they are found, each
// naming its block; the tool decides the exit code.
#pragma once

#include "persistent-data/block_io.h"
#include "base/check_report.h"

namespace caching {

struct check_options {
	bool super_block_only = false, skip_mappings = false, skip_hints = false, skip_discards = false;
};

struct check_outcome {
	bool superblock_ok = false;
	bool needs_check = false;
};

check_outcome check_cache_metadata(pdata::block_io &io, const check_options &opts, base::check_report &report);

} // namespace caching
