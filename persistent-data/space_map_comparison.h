// Compares one space map's stored counts with a recount made from scratch
// (a count_array of every reference the checker found), without holding
// the map whole: the reference count tree's entries are noted first, then
// each bitmap is compared as it is read - on whichever thread read it -
// and only the disagreements are kept, to be reported in block order.
//
// A stored count below the recount is the dangerous case (the kernel would
// decrement it below zero); above it, a leak.  Which of these is fatal, and
// how many lines of each are printed, is the checker's business.
#pragma once

#include "persistent-data/count_array.h"
#include "persistent-data/space_map_reader.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pdata {

struct sm_count_mismatch {
	block_address block;
	uint32_t stored, expected; // stored < expected: a decrement would go below zero
};

// Damage to the map itself (fatal), with the block it is about.
struct sm_problem {
	block_address block;
	std::string text;
};

class sm_comparison {
public:
	// WHICH names the map in messages ("metadata", "data").  With
	// DEFER_OVERFLOW the reference count tree's counts are kept until its
	// bitmaps are compared: the metadata map, whose recount still grows
	// while the map's own blocks are read.  Otherwise (data) each is
	// compared with the recount as it is noted.
	sm_comparison(std::string which, uint64_t nr_blocks, bool defer_overflow);

	const std::string &which() const { return which_; }
	uint64_t nr_blocks() const { return nr_blocks_; }

	// An entry of the reference count tree (caller's thread, before any
	// bitmap is compared).
	void note_overflow(block_address b, uint32_t count, const count_array &real);

	// Compares the entries of bitmap I (DATA) that lie inside the map with
	// REAL.  Safe to call from several threads at once.
	void compare_bitmap(uint64_t i, const uint8_t *data, const count_array &real);

	// Blocks past the map's end that bitmap I counts anyway (a non-fatal
	// oddity of the last bitmap).
	std::vector<block_address> counted_past_end(uint64_t i, const uint8_t *data) const;

	struct result {
		std::vector<sm_problem> problems;            // block order
		std::vector<sm_count_mismatch> mismatches; // block order
	};
	// What the comparison found, once every bitmap is compared.  (The
	// bitmap entry decides: a tree entry for a block whose entry is not 3
	// is a problem, not a count.)
	result finish();

	// The problems alone, in block order (when the map could not be read
	// whole and its counts are not to be trusted).
	std::vector<sm_problem> problems_only();

private:
	bool overflowed(block_address b) const { return in_overflow_[b / 32] >> (b % 32) & 1; }
	void sort_problems();

	std::string which_;
	uint64_t nr_blocks_;
	bool defer_overflow_;
	// A bit per block: it has an entry in the reference count tree (in
	// 32-bit words, so a bitmap word's 32 blocks are tested at once).
	std::vector<uint32_t> in_overflow_;
	std::map<block_address, uint32_t> overflow_; // deferred: the tree's counts
	std::mutex lock_;                            // guards what follows
	std::vector<sm_problem> problems_;
	std::vector<sm_count_mismatch> mismatches_;
	// Not deferred: disagreements found in the tree, which stand unless the
	// bitmap entry turns out not to be 3 (NOT_THREE_).
	std::vector<sm_count_mismatch> overflow_mismatches_;
	std::vector<block_address> not_three_;
};

} // namespace pdata
