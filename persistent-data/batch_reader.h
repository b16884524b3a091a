// Reads a set of blocks in large sorted runs, a bounded buffer at a time.
//
// Walkers that know which blocks they need next (a whole tree level) hand
// the list here: it is sorted, neighbours are coalesced into reads of up to
// 256 KiB (small gaps are read through, which is cheaper than another call),
// and each block is handed to the callback exactly once, in block order.
#pragma once

#include "persistent-data/block_io.h"
#include "persistent-data/checksum.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pdata {

struct batch_stats {
	unsigned long read_calls = 0;
	unsigned long blocks_read = 0; // including gap blocks read through
};

// Blocks at or beyond the device's end are passed with DATA == nullptr.
// BLOCKS may hold duplicates; each block is delivered once.
void read_in_batches(block_io &io, std::vector<block_address> blocks,
                     const std::function<void(block_address b, const uint8_t *data)> &fn,
                     batch_stats *stats = nullptr);

// As read_in_batches, with every block also put through CHECK, and FN told
// what it found (nullopt: sound; blocks past the end are not checked).  The
// check (a checksum over the whole block) runs on the read-ahead thread,
// so on a large batch it costs the caller's thread nothing.
using checked_block_fn =
    std::function<void(block_address b, const uint8_t *data, const std::optional<std::string> &problem)>;

// Who reads.  One: a read-ahead thread reads every run, and CHECK runs
// on it while the caller is busy, on the caller when it would otherwise
// wait.  Both: a caller that would wait for a run reads and checks the next
// one itself.  Either way two checks may run at once (on different blocks).
enum class readers { one, both };

void read_in_batches(block_io &io, std::vector<block_address> blocks, const validator &check,
                     const checked_block_fn &fn, batch_stats *stats = nullptr,
                     readers who = readers::one);

// As above, with a check that is told each block's index in BLOCKS once
// sorted and without duplicates (a caller that passes a sorted list of
// distinct blocks keeps what it knows of each in a vector beside it).
using indexed_check =
    std::function<std::optional<std::string>(size_t index, block_address b, const uint8_t *data)>;
void read_in_batches(block_io &io, std::vector<block_address> blocks, const indexed_check &check,
                     const checked_block_fn &fn, batch_stats *stats = nullptr,
                     readers who = readers::one);

} // namespace pdata
