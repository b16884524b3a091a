#include "persistent-data/space_map_comparison.h"

#include <algorithm>

namespace pdata {
namespace {

void compare_one(std::vector<sm_count_mismatch> &out, block_address b, uint32_t stored, const count_array &real) {
	uint32_t expected = b < real.size() ? real.get(b) : 0;
	if (stored != expected)
		out.push_back({b, stored, expected});
}

} // namespace

sm_comparison::sm_comparison(std::string which, uint64_t nr_blocks, bool defer_overflow)
    : which_(std::move(which)), nr_blocks_(nr_blocks), defer_overflow_(defer_overflow),
      in_overflow_((nr_blocks + 31) / 32, 0) {}

void sm_comparison::note_overflow(block_address b, uint32_t c, const count_array &real) {
	if (b >= nr_blocks_) {
		problems_.push_back({b, which_ + " space map: reference count tree holds block " + std::to_string(b) +
		                            ", beyond the map's end"});
		return;
	}
	in_overflow_[b / 32] |= uint32_t(1) << (b % 32);
	if (c < 3)
		problems_.push_back({b, which_ + " space map: reference count tree holds count " + std::to_string(c) +
		                            " for block " + std::to_string(b)});
	if (defer_overflow_)
		overflow_[b] = c;
	else
		compare_one(overflow_mismatches_, b, c, real);
}

void sm_comparison::compare_bitmap(uint64_t i, const uint8_t *data, const count_array &real) {
	std::vector<sm_problem> problems;
	std::vector<sm_count_mismatch> mismatches;
	std::vector<block_address> not_three;
	const uint64_t first = i * ENTRIES_PER_BITMAP;
	const uint64_t end = std::min<uint64_t>(ENTRIES_PER_BITMAP, nr_blocks_ > first ? nr_blocks_ - first : 0);
	for (uint64_t e = 0; e < end; e++) {
		if (e % 32 == 0 && e + 32 <= end) {
			// Most words agree with the recount, and their entries of 3
			// are exactly the blocks in the reference count tree: when the
			// tree's entries were compared as it was read, nothing is
			// left to see.  (In pools with snapshots many words have a 3.)
			uint64_t word = bitmap_word(data, e / 32);
			uint32_t threes = entries_of_three(word);
			if (word == real.bitmap_word(first + e) && threes == in_overflow_[(first + e) / 32] &&
			    (!threes || !defer_overflow_)) {
				e += 31;
				continue;
			}
		}
		uint32_t v = bitmap_entry(data, e);
		uint64_t block = first + e;
		bool overflow = overflowed(block);
		if (v == 3) {
			if (!overflow)
				problems.push_back({block, which_ + " space map: block " + std::to_string(block) +
				                               " has bitmap entry 3 but no entry in the reference count tree"});
			else if (defer_overflow_)
				compare_one(mismatches, block, overflow_.at(block), real);
			continue; // not deferred: compared when the tree was read
		}
		if (overflow) {
			problems.push_back({block, which_ + " space map: reference count tree holds block " +
			                               std::to_string(block) + " whose bitmap entry is not 3"});
			not_three.push_back(block);
		}
		compare_one(mismatches, block, v, real);
	}
	if (problems.empty() && mismatches.empty() && not_three.empty())
		return;
	std::lock_guard<std::mutex> l(lock_);
	problems_.insert(problems_.end(), problems.begin(), problems.end());
	mismatches_.insert(mismatches_.end(), mismatches.begin(), mismatches.end());
	not_three_.insert(not_three_.end(), not_three.begin(), not_three.end());
}

std::vector<block_address> sm_comparison::counted_past_end(uint64_t i, const uint8_t *data) const {
	std::vector<block_address> out;
	const uint64_t first = i * ENTRIES_PER_BITMAP;
	for (uint64_t e = first < nr_blocks_ ? nr_blocks_ - first : 0; e < ENTRIES_PER_BITMAP; e++)
		if (bitmap_entry(data, e))
			out.push_back(first + e);
	return out;
}

// In block order; a block's own problems in the order they were found
// (each bitmap is compared by one thread).
void sm_comparison::sort_problems() {
	std::stable_sort(problems_.begin(), problems_.end(),
	                 [](const sm_problem &a, const sm_problem &b) { return a.block < b.block; });
}

std::vector<sm_problem> sm_comparison::problems_only() {
	sort_problems();
	return problems_;
}

sm_comparison::result sm_comparison::finish() {
	sort_problems();
	std::sort(not_three_.begin(), not_three_.end());
	for (const auto &m : overflow_mismatches_)
		if (!std::binary_search(not_three_.begin(), not_three_.end(), m.block))
			mismatches_.push_back(m);
	std::sort(mismatches_.begin(), mismatches_.end(),
	          [](const sm_count_mismatch &a, const sm_count_mismatch &b) { return a.block < b.block; });
	return {problems_, mismatches_};
}

} // namespace pdata
