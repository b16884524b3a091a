// Every field of every on-disk structure a metadata image holds, located:
// the table behind the field fuzzer (field_fuzz, and the FieldFuzz suite).
//
// A field is a run of bytes in one block: the superblock's fields, a btree
// node's header, its first key and first value (split into the value's own
// fields where it has them: device details, space-map index entries), the
// header and first entry of a space map's index and bitmap blocks, and the
// header and first value of dm-array blocks.  One block of each kind is
// taken, the first in block order (the first with entries, for leaves), so
// a field's name finds the same block every time.
//
// Names: KIND.STRUCTURE.FIELD, e.g. thin.superblock.version,
// thin.mapping-leaf.header.nr_entries, thin.details-node.value0.mapped_blocks,
// cache.mapping-array.header.blocknr, era.writeset-bitset.value0.
#pragma once

#include "persistent-data/block.h"
#include "persistent-data/block_io.h"

#include <cstdint>
#include <string>
#include <vector>

namespace devtools {

struct field {
	std::string name;
	pdata::block_address block;
	size_t offset, width;
	uint32_t salt; // the block's checksum salt, to seal it again after a change
};

// The metadata kind the superblock says (thin, cache or era); throws
// base::error when block 0 is none of them.
std::string metadata_kind(pdata::block_io &io);

// The fields IO holds, for its kind.  Throws base::error when the metadata
// is too damaged to find its structures (the fuzzer starts from sound
// images).
std::vector<field> fields_of(pdata::block_io &io);

// How a field is changed.
enum class mutation { zeroes, ones, flip, plus_one, minus_one, random };
const std::vector<mutation> &all_mutations();
std::string mutation_name(mutation m);
mutation parse_mutation(const std::string &s); // throws base::error

// The field's bytes after M (SEED drives random); BYTES is its old value.
// Integers are little-endian; fields wider than 8 bytes count in their first 8.
std::vector<uint8_t> mutate(const std::vector<uint8_t> &bytes, mutation m, uint64_t seed);

} // namespace devtools
