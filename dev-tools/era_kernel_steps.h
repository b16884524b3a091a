// Offline replays of two kernel metadata transactions, leaving the blocks
// and reference counts the kernel leaves: the take_metadata_snap message,
// and the copy-on-write that a later change to the era array (a digest)
// makes once a snapshot shares the array.  Tests use them to get a held
// snapshot whose view differs from the live one without a kernel.
#pragma once

#include "dev-tools/era_metadata_editor.h"

namespace era {

// Copies the live superblock to a free block (its own blocknr, no
// snapshot of its own), takes a reference on the copy and on the two roots
// it holds, and points the live superblock at it.  Returns the copy's
// location.  base::error when a snapshot is already held or a count would
// leave the bitmap's range.
block_address take_metadata_snap(metadata_editor &ed);

struct live_era_change {
	block_address old_root, new_root;               // the era array's index root
	block_address old_array_block, new_array_block; // holding origin block 0
	uint32_t old_era;
};

// Sets origin block 0's era to ERA in the live era array only: the live
// superblock gets its own copy of the array's index root and of the first
// array block, as the kernel's shadowing does when the snapshot shares
// them.  Needs a held snapshot sharing the live array, indexed by one node.
live_era_change set_live_era(metadata_editor &ed, uint32_t era);

} // namespace era
