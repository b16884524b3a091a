#include "base/endian.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/block_io.h"
#include "persistent-data/checksum.h"

#include <gtest/gtest.h>

#include <random>

using namespace pdata;

namespace {

struct in_memory {
	memory_block_io io{4096};
	block_manager bm{io, 1024};
	core_space_map sm{4096};
	transaction_manager tm{bm, sm};
	in_memory() { sm.set_count(0, 1); }
	void commit() {
		sm.commit();
		std::vector<uint8_t> sb(BLOCK_SIZE, 0);
		tm.commit(sb.data());
	}
};

TEST(Array, EntriesPerBlock) {
	EXPECT_EQ(array_entries_per_block(4), 1018u);
	EXPECT_EQ(array_entries_per_block(8), 509u);
}

TEST(Array, AgreesWithAModelThroughSetsResizesAndCommits) {
	in_memory m;
	std::mt19937_64 rng(11);
	uint8_t zero[8] = {};
	block_address root = array::create(m.tm, 8, 1000, zero);
	array a(m.tm, root, 8, 1000);
	std::vector<uint64_t> model(1000, 0);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 300; i++) {
			uint64_t idx = rng() % model.size(), v = rng();
			a.set64(idx, v);
			model[idx] = v;
		}
		uint64_t n = 1 + rng() % 5000;
		uint8_t fill[8];
		base::store_le64(fill, round);
		a.resize(n, fill);
		model.resize(n, uint64_t(round));
		m.commit();
		array reopened(m.tm, a.root(), 8, a.size());
		uint64_t seen = 0;
		reopened.for_each([&](uint64_t i, const uint8_t *v) {
			ASSERT_EQ(i, seen);
			EXPECT_EQ(base::load_le64(v), model[i]) << "index " << i << " round " << round;
			seen++;
		});
		EXPECT_EQ(seen, model.size());
		EXPECT_EQ(reopened.get64(n - 1), model[n - 1]);
	}
	EXPECT_THROW(a.get64(model.size()), std::out_of_range);
}

TEST(Array, BulkCreateWritesEveryValueInItsPlace) {
	in_memory m;
	for (uint64_t n : {0ull, 1ull, 1018ull, 1019ull, 5000ull}) {
		block_address root = array::create(m.tm, 4, n, [](uint64_t i, uint8_t *out) {
			base::store_le32(out, uint32_t(i * 7 + 1));
		});
		m.commit();
		array a(m.tm, root, 4, n);
		uint64_t seen = 0;
		a.for_each([&](uint64_t i, const uint8_t *v) {
			EXPECT_EQ(base::load_le32(v), uint32_t(i * 7 + 1)) << i;
			seen++;
		});
		EXPECT_EQ(seen, n);
	}
}

TEST(Array, WalkReportsADamagedBlockAndKeepsTheRest) {
	in_memory m;
	uint8_t seven[4] = {7, 0, 0, 0};
	block_address root = array::create(m.tm, 4, 5000, seven);
	m.commit();
	array a(m.tm, root, 4, 5000);
	// Damage the array block holding index 2000 (the second block).
	std::vector<block_address> locations;
	btree(m.tm, root, 8).for_each([&](uint64_t, const uint8_t *v) {
		locations.push_back(base::load_le64(v));
	});
	ASSERT_EQ(locations.size(), 5u);
	m.io.bytes()[locations[1] * BLOCK_SIZE + 100] ^= 1;
	m.bm.drop_clean();
	uint64_t values = 0;
	std::vector<array_damage> damage;
	walk_array(
	    m.bm, root, 4, 5000, [&](uint64_t, const uint8_t *v) { values += v[0] == 7; },
	    [&](const array_damage &d) { damage.push_back(d); });
	ASSERT_EQ(damage.size(), 1u);
	EXPECT_EQ(damage[0].block, locations[1]);
	EXPECT_EQ(damage[0].lost_begin, 1018u);
	EXPECT_EQ(damage[0].lost_end, 2036u);
	EXPECT_EQ(values, 5000u - 1018u);
}

// A header field wrong under a sound checksum: a checker loses the block's
// values; a repair reads them where the block's place says they are.
TEST(Array, ARepairReadsABlockWithAWrongHeaderByPosition) {
	for (size_t field : {4, 8, 12}) { // max_entries, nr_entries, value_size
		in_memory m;
		uint8_t seven[4] = {7, 0, 0, 0};
		block_address root = array::create(m.tm, 4, 5000, seven);
		m.commit();
		std::vector<block_address> locations;
		btree(m.tm, root, 8).for_each([&](uint64_t, const uint8_t *v) { locations.push_back(base::load_le64(v)); });
		ASSERT_EQ(locations.size(), 5u);
		uint8_t *b = m.io.bytes().data() + locations[1] * BLOCK_SIZE;
		base::store_le32(b + field, base::load_le32(b + field) + 1);
		seal_checksum(b, salt::array);
		m.bm.drop_clean();
		for (array_read how : {array_read::strict, array_read::by_position}) {
			uint64_t values = 0;
			std::vector<array_damage> damage;
			walk_array(
			    m.bm, root, 4, 5000, [&](uint64_t, const uint8_t *v) { values += v[0] == 7; },
			    [&](const array_damage &d) { damage.push_back(d); }, how);
			ASSERT_EQ(damage.size(), 1u) << field;
			EXPECT_EQ(damage[0].block, locations[1]);
			if (how == array_read::strict) {
				EXPECT_EQ(damage[0].lost_end - damage[0].lost_begin, 1018u) << field;
				EXPECT_EQ(values, 5000u - 1018u) << field;
			} else {
				EXPECT_EQ(damage[0].lost_end, damage[0].lost_begin) << field;
				EXPECT_NE(damage[0].reason.find("read by their position"), std::string::npos) << damage[0].reason;
				EXPECT_EQ(values, 5000u) << field;
			}
		}
	}
}

TEST(Bitset, AgreesWithAModel) {
	in_memory m;
	std::mt19937 rng(5);
	block_address root = bitset::create(m.tm, 100, true);
	bitset b(m.tm, root, 100);
	std::vector<bool> model(100, true);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 200; i++) {
			uint64_t bit = rng() % model.size();
			bool v = rng() & 1;
			b.set(bit, v);
			model[bit] = v;
		}
		uint64_t n = 1 + rng() % 40000;
		bool fill = rng() & 1;
		b.resize(n, fill);
		model.resize(n, fill);
		m.commit();
		bitset again(m.tm, b.root(), n);
		uint64_t seen = 0;
		again.for_each([&](uint64_t bit, bool v) {
			EXPECT_EQ(v, model[bit]) << "bit " << bit;
			seen++;
		});
		EXPECT_EQ(seen, n);
	}
}

TEST(Bitset, WordLayoutMatchesTheKernel) {
	in_memory m;
	block_address root = bitset::create(m.tm, 8, false);
	bitset b(m.tm, root, 8);
	b.set(0);
	b.set(2);
	array words(m.tm, b.root(), 8, 1);
	EXPECT_EQ(words.get64(0), 0x5u);
	// A set-all bitset leaves the bits past its end clear.
	bitset full(m.tm, bitset::create(m.tm, 70, true), 70);
	array fw(m.tm, full.root(), 8, 2);
	EXPECT_EQ(fw.get64(0), ~uint64_t(0));
	EXPECT_EQ(fw.get64(1), 0x3fu);
}

} // namespace
