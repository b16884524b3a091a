// --transaction-id, --data-block-size, --nr-data-blocks: the superblock
// fields a user may impose on restore and repair (and must give when a
// damaged superblock hides them).
#pragma once

#include "base/command_line.h"
#include "thin-provisioning/metadata_builder.h"

namespace thin {

void add_override_options(base::po::options_description &opts);
// Throws po::error on a value that is not a natural number.
build_overrides parse_overrides(const base::po::variables_map &vm);

} // namespace thin
