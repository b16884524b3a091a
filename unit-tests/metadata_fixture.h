// An in-memory metadata device with a real metadata space map, for tests
// of everything that lives on one: commit, reopen, and a recount of every
// reference from scratch to compare with the stored counts.
#pragma once

#include "base/endian.h"
#include "persistent-data/block_io.h"
#include "persistent-data/block_manager.h"
#include "persistent-data/btree_census.h"
#include "persistent-data/checksum.h"
#include "persistent-data/count_array.h"
#include "persistent-data/space_map_bitmap.h"
#include "persistent-data/space_map_metadata.h"
#include "persistent-data/transaction_manager.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace testing_support {

using namespace pdata;

// Block 0 holds a tiny superblock of our own: the metadata space map root
// and up to 8 tree roots (with their value sizes), sealed with the thin salt.
struct tree_root {
	block_address root;
	uint32_t value_size;
};

class metadata_device {
public:
	explicit metadata_device(block_address nr_blocks) : io_(nr_blocks) { format(); }
	explicit metadata_device(block_io &io) : external_(&io) {}

	block_io &io() { return external_ ? *external_ : io_; }
	memory_block_io &memory() { return io_; }
	transaction_manager &tm() { return *tm_; }
	metadata_space_map &sm() { return *sm_; }

	void format() {
		bm_ = std::make_unique<block_manager>(io(), 256);
		tm_ = std::make_unique<transaction_manager>(*bm_);
		sm_ = metadata_space_map::create(*tm_, io().nr_blocks(), 0);
	}

	// Commits with ROOTS recorded in the superblock.
	void commit(const std::vector<tree_root> &roots) {
		sm_->commit();
		std::vector<uint8_t> sb(BLOCK_SIZE, 0);
		sm_root_bytes root = sm_->root(); // by value: one copy for begin and end
		std::copy(root.begin(), root.end(), sb.begin() + 64);
		base::store_le32(sb.data() + 8, uint32_t(roots.size()));
		for (size_t i = 0; i < roots.size(); i++) {
			base::store_le64(sb.data() + 128 + 16 * i, roots[i].root);
			base::store_le32(sb.data() + 136 + 16 * i, roots[i].value_size);
		}
		seal_checksum(sb.data(), salt::thin_superblock);
		tm_->commit(sb.data());
	}

	// Drops every in-memory structure and reopens from the committed superblock.
	std::vector<tree_root> reopen() {
		bm_ = std::make_unique<block_manager>(io(), 256);
		tm_ = std::make_unique<transaction_manager>(*bm_);
		std::vector<uint8_t> sb(BLOCK_SIZE);
		io().read(0, 1, sb.data());
		if (!checksum_matches(sb.data(), salt::thin_superblock))
			throw std::runtime_error("test superblock is not valid");
		sm_ = metadata_space_map::open(*tm_, sb.data() + 64);
		std::vector<tree_root> roots;
		for (uint32_t i = 0; i < base::load_le32(sb.data() + 8); i++)
			roots.push_back({base::load_le64(sb.data() + 128 + 16 * i),
			                 base::load_le32(sb.data() + 136 + 16 * i)});
		return roots;
	}

	// Every reference to every block, counted from scratch: the superblock,
	// the space map's index block, bitmaps and overflow tree, and the trees
	// in ROOTS (whose leaf values refer to nothing).  Call after commit.
	count_array recount(const std::vector<tree_root> &roots) {
		count_array refs(io().nr_blocks());
		refs.inc(0);
		sm_root r = decode_sm_root(sm_->root().data());
		refs.inc(r.bitmap_root);
		std::vector<uint8_t> index(BLOCK_SIZE);
		io().read(r.bitmap_root, 1, index.data());
		EXPECT_FALSE(index_validator().check(index.data(), r.bitmap_root));
		for (uint64_t i = 0; i * ENTRIES_PER_BITMAP < r.nr_blocks; i++)
			refs.inc(decode_index_entry(index.data() + METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * i).blocknr);
		btree_census census(io(), refs);
		census.add_root(r.ref_count_root, 4, 0);
		for (const auto &t : roots)
			census.add_root(t.root, t.value_size, 1);
		census.run([](uint64_t, block_address, node_ref) {},
		           [](uint64_t, const btree_damage &d) {
			           if (d.fatal)
				           ADD_FAILURE() << "damage in block " << d.block << ": " << d.reason;
		           });
		return refs;
	}

	// Asserts every stored count equals the recount.
	void expect_exact_counts(const std::vector<tree_root> &roots) {
		count_array refs = recount(roots);
		for (block_address b = 0; b < io().nr_blocks(); b++)
			ASSERT_EQ(sm_->get_count(b), refs.get(b)) << "block " << b;
	}

private:
	memory_block_io io_{0};
	block_io *external_ = nullptr;
	std::unique_ptr<block_manager> bm_;
	std::unique_ptr<transaction_manager> tm_;
	std::unique_ptr<metadata_space_map> sm_;
};

} // namespace testing_support
