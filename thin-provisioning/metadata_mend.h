// The small, safe writes thin_check may make after a check without fatal
// errors (--clear-needs-check-flag, --auto-repair): lower leaked reference
// counts to the real number of references, and clear the needs_check flag.
// Space-map blocks are changed copy-on-write and the superblock is written
// last, and nothing is written when nothing needs changing.
#pragma once

#include "thin-provisioning/metadata_checker.h"

#include <string>

namespace thin {

struct mend_outcome {
	bool fixed_leaks = false;
	bool cleared_flag = false;
};

mend_outcome mend_metadata(const std::string &path, const check_result &checked,
                           bool clear_needs_check);

} // namespace thin
