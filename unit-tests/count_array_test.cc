// count_array against a std::map model: counts crossing the 4-bit and the
// 8-bit limits in both directions, odd sizes, growing and shrinking.
#include "persistent-data/count_array.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace {

using pdata::count_array;

void expect_equal(const count_array &a, const std::map<uint64_t, uint32_t> &model, uint64_t size) {
	ASSERT_EQ(a.size(), size);
	uint64_t allocated = 0;
	for (uint64_t b = 0; b < size; b++) {
		auto it = model.find(b);
		uint32_t want = it == model.end() ? 0 : it->second;
		ASSERT_EQ(a.get(b), want) << "block " << b;
		allocated += want != 0;
	}
	EXPECT_EQ(a.nr_allocated(), allocated);
}

// Runs of every length and alignment, over counts near the nibble's limit
// (14 and 15 must go to the wide page) and across a page boundary.
TEST(CountArray, RunIncrementsMatchSingleOnes) {
	std::mt19937_64 rng(11);
	const uint64_t size = 3 * 65536 + 77; // pages of 64Ki counts
	count_array runs(size), singles(size);
	for (int step = 0; step < 4000; step++) {
		uint64_t len = rng() % 4 ? rng() % 40 : rng() % 300;
		uint64_t b = rng() % 8 ? 65536 - 20 + rng() % 40 : rng() % (size - len);
		b = std::min(b, size - len);
		if (rng() % 5 == 0) {
			// Raise a few counts close to 14 in both arrays.
			uint64_t at = b + rng() % (len + 1);
			if (at < size) {
				uint32_t c = 12 + uint32_t(rng() % 5);
				runs.set(at, c);
				singles.set(at, c);
			}
		}
		count_array::incrementer inc(runs);
		inc.inc_run_inside(b, len);
		for (uint64_t k = 0; k < len; k++)
			singles.inc(b + k);
	}
	uint64_t differing = 0, high = 0;
	for (uint64_t b = 0; b < size; b++) {
		differing += runs.get(b) != singles.get(b);
		high += singles.get(b) >= 15;
	}
	EXPECT_EQ(differing, 0u);
	EXPECT_GT(high, 100u); // the wide pages were reached
	EXPECT_EQ(runs.nr_allocated(), singles.nr_allocated());
}

TEST(CountArray, RandomIncDecSetAgainstAModel) {
	std::mt19937_64 rng(7);
	uint64_t size = 1001; // odd: the last byte holds one count
	count_array a(size);
	std::map<uint64_t, uint32_t> model;
	for (int step = 0; step < 200000; step++) {
		uint64_t b = rng() % 40; // few blocks, so counts climb past 15
		switch (rng() % 4) {
		case 0: a.inc(b); model[b]++; break;
		case 1: {
			// Big steps, so counts also cross the wide pages' limit (255).
			uint32_t by = 1 + uint32_t(rng() % 90);
			a.inc(b, by);
			model[b] += by;
			break;
		}
		case 2:
			if (model[b]) {
				a.dec(b);
				model[b]--;
			} else
				EXPECT_THROW(a.dec(b), std::underflow_error);
			break;
		case 3: {
			uint32_t c = uint32_t(rng() % 2 ? rng() % 40 : rng() % 600);
			a.set(b, c);
			model[b] = c;
		}
		}
	}
	for (auto it = model.begin(); it != model.end();)
		it = it->second ? std::next(it) : model.erase(it);
	expect_equal(a, model, size);
	a.inc(size - 1, 100);
	model[size - 1] = 100;
	expect_equal(a, model, size);
}

// Counts of 255 and above (an origin's blocks under thousands of
// snapshots) through every path: single increments, run increments, set,
// dec, and a shrink that must forget them.
TEST(CountArray, CountsPastTheWidePagesLimitStayExactThroughEveryPath) {
	count_array a(100);
	for (uint32_t i = 0; i < 70000; i++)
		a.inc(5); // past 15, 255 and 65535
	EXPECT_EQ(a.get(5), 70000u);
	count_array::incrementer inc(a);
	for (int i = 0; i < 1000; i++)
		inc.inc_run_inside(0, 32);
	for (uint64_t b = 0; b < 32; b++)
		EXPECT_EQ(a.get(b), b == 5 ? 71000u : 1000u) << b;
	a.set(7, 300);
	for (int i = 0; i < 46; i++)
		a.dec(7);
	EXPECT_EQ(a.get(7), 254u); // back in the wide page
	a.inc(7, 20);
	EXPECT_EQ(a.get(7), 274u);
	a.resize(5);
	a.resize(100);
	EXPECT_EQ(a.get(5), 0u);
	EXPECT_EQ(a.get(7), 0u);
	a.inc(5);
	EXPECT_EQ(a.get(5), 1u); // no stale huge count behind the nibble
	a.set(5, 15);
	EXPECT_EQ(a.get(5), 15u);
	EXPECT_EQ(a.get(4), 1000u);
}

TEST(CountArray, ResizeKeepsCountsBelowTheEndAndForgetsTheRest) {
	count_array a(10);
	a.set(3, 2);
	a.set(8, 40);
	a.set(9, 7);
	a.resize(9);
	EXPECT_EQ(a.size(), 9u);
	EXPECT_EQ(a.get(3), 2u);
	EXPECT_EQ(a.get(8), 40u);
	EXPECT_THROW(a.get(9), std::out_of_range);
	a.resize(8);
	a.resize(12);
	EXPECT_EQ(a.get(8), 0u);
	EXPECT_EQ(a.get(9), 0u);
	EXPECT_EQ(a.nr_allocated(), 1u);
	EXPECT_THROW(a.inc(12), std::out_of_range);
}

} // namespace

namespace {

// The 2-bit entry I of a bitmap word, decoded the way
// doc/persistent-data-format.md#bitmap-blocks says: bit 2i is the high bit,
// bit 2i+1 the low one.
uint32_t entry(uint64_t word, unsigned i) {
	return uint32_t(((word >> (2 * i)) & 1) << 1 | ((word >> (2 * i + 1)) & 1));
}

TEST(CountArray, BitmapWordEncodesClampedCountsAsTheKernel) {
	count_array a(70);
	for (uint64_t b = 0; b < 70; b++)
		a.set(b, uint32_t((b * 7) % 20));
	for (uint64_t first : {0ull, 1ull, 32ull, 38ull, 64ull, 69ull, 70ull}) {
		uint64_t w = a.bitmap_word(first);
		for (unsigned i = 0; i < 32; i++) {
			uint64_t b = first + i;
			uint32_t want = b < 70 ? std::min<uint32_t>(a.get(b), 3) : 0;
			EXPECT_EQ(entry(w, i), want) << "first " << first << " entry " << i;
		}
	}
}

} // namespace

namespace {

// A huge device costs only the pages its counts touch.
TEST(CountArray, HugeArraysAllocateOnlyWhatIsWritten) {
	count_array a(uint64_t(1) << 40); // a trillion blocks: half a terabyte if dense
	a.inc(0);
	a.inc((uint64_t(1) << 40) - 1, 20);
	a.set(123456789012, 3);
	EXPECT_EQ(a.get(0), 1u);
	EXPECT_EQ(a.get((uint64_t(1) << 40) - 1), 20u);
	EXPECT_EQ(a.get(123456789012), 3u);
	EXPECT_EQ(a.get(5), 0u);
	EXPECT_EQ(a.bitmap_word(123456789000) >> 24, 3u << 0 | 0u); // entry 12 = count 3 ("11")
	a.resize(65536 * 3 + 5);
	EXPECT_EQ(a.get(0), 1u);
	a.resize(65536 * 2);
	a.resize(65536 * 3 + 5);
	EXPECT_EQ(a.get(65536 * 3 + 4), 0u);
}

} // namespace
