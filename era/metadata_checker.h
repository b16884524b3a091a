// era_check's engine: the superblock, the writeset tree and every writeset,
// the era array (no era above the current one), and the metadata space
// map's counts recomputed from scratch.
#pragma once

#include "base/check_report.h"
#include "persistent-data/block_io.h"
#include "persistent-data/checker_result.h"

namespace era {

struct check_options {
	bool super_block_only = false;
};

using check_result = pdata::checker_result;

check_result check_era_metadata(pdata::block_io &io, const check_options &opts, base::check_report &report);

} // namespace era
