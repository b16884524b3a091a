// count_feeder: counts made on its thread equal counts made inline, across
// several chunks (with the queue full, so the producer waits), with counts
// past the nibble, wide-page and side-table limits; and finish() leaves
// nothing uncounted.
#include "persistent-data/count_feeder.h"

#include <gtest/gtest.h>

#include <random>

namespace {

using pdata::count_array;

TEST(CountFeeder, CountsOnItsThreadWhatInlineIncrementsCount) {
	const uint64_t size = 3 * 1000 * 1000;
	count_array fed(size), inline_(size);
	std::mt19937_64 rng(11);
	{
		pdata::count_feeder feeder(fed);
		for (int i = 0; i < 400000; i++) {
			// Mostly spread out, some blocks hot enough to pass 255.
			uint64_t b = i % 4 ? rng() % size : rng() % 256;
			feeder.add(b);
			inline_.inc(b);
		}
		feeder.finish();
	}
	ASSERT_EQ(fed.nr_allocated(), inline_.nr_allocated());
	uint32_t highest = 0;
	for (uint64_t b = 0; b < size; b++) {
		ASSERT_EQ(fed.get(b), inline_.get(b)) << "block " << b;
		highest = std::max(highest, fed.get(b));
	}
	EXPECT_GT(highest, 255u) << "the test must reach the side table";
}

TEST(CountFeeder, FinishingWithNothingAddedCountsNothing) {
	count_array a(100);
	pdata::count_feeder feeder(a);
	feeder.finish();
	feeder.finish(); // (a second finish is harmless)
	EXPECT_EQ(a.nr_allocated(), 0u);
}

} // namespace

namespace {

// What the counting thread throws (a block outside the array) reaches the
// caller from finish(), after more chunks than the queue holds were handed
// over (so the feeder never hangs on a queue nobody drains).
TEST(CountFeeder, ACountingErrorIsRethrownByFinish) {
	count_array a(100);
	pdata::count_feeder feeder(a);
	feeder.add(1000);
	for (int i = 0; i < 200000; i++)
		feeder.add(i % 100);
	EXPECT_THROW(feeder.finish(), std::out_of_range);
}

} // namespace
