// The kinds of damage thin_generate_damage makes, one function each; the
// tool's table of kinds names them.  Each damages the image through D and
// prints what it hit; base::error when the image has nothing of that kind to
// damage, po::error when an option the kind reads is wrong.
#pragma once

#include "base/command_line.h"
#include "dev-tools/thin_damager.h"

namespace thin::damage {

using options = base::po::variables_map;

// Whole blocks (thin_damage_blocks.cc).  bad_checksum and zero_block take
// --target ROLE, narrowed by --where or --dev.
void bad_checksum(damager &d, const options &vm);
void zero_block(damager &d, const options &vm);
void random_blocks(damager &d, const options &vm);
void truncate_file(damager &d, const options &vm);

// Btree contents, checksums resealed (thin_damage_trees.cc).
void keys_out_of_order(damager &d, const options &vm);
void mapping_past_end(damager &d, const options &vm);
void wrong_mapped_blocks(damager &d, const options &vm);
void drop_details(damager &d, const options &vm);
void double_ref(damager &d, const options &vm);
void cycle(damager &d, const options &vm);

// Space map counts, --sm metadata|data (thin_damage_space_maps.cc).
void count_high(damager &d, const options &vm);
void count_low(damager &d, const options &vm);
void overflow_high(damager &d, const options &vm);
void overflow_low(damager &d, const options &vm);
void overflow_drop(damager &d, const options &vm);

// The superblock (thin_damage_superblock.cc).
void zero_superblock(damager &d, const options &vm);
void stale_superblock(damager &d, const options &vm);
void needs_check(damager &d, const options &vm);
void metadata_nr_blocks(damager &d, const options &vm);

} // namespace thin::damage
