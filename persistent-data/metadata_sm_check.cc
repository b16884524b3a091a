#include "persistent-data/metadata_sm_check.h"

#include "base/endian.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"

#include <map>

namespace pdata {
namespace {

class reference_counter : public btree_visitor {
public:
	reference_counter(count_array &refs, bool values_are_blocks) : refs_(refs), values_(values_are_blocks) {}
	bool visit_internal(const node_context &c, node_ref) override {
		inc(c.block);
		return true;
	}
	void visit_leaf(const node_context &c, node_ref n) override {
		inc(c.block);
		for (uint32_t i = 0; i < n.nr_entries(); i++) {
			if (values_)
				inc(n.value64(i));
			if (n.value_size() == 4)
				overflow[n.key(i)] = base::load_le32(n.value(i));
		}
	}
	void damage(const btree_damage &d) override { damaged = damaged || d.fatal; }
	std::map<block_address, uint32_t> overflow; // for the space map's own count tree
	bool damaged = false;

private:
	void inc(block_address b) {
		if (b < refs_.size())
			refs_.inc(b);
	}
	count_array &refs_;
	bool values_;
};

} // namespace

void count_tree_references(block_manager &bm, block_address root, uint32_t value_size, bool leaf_values_are_blocks,
                           count_array &refs) {
	reference_counter c(refs, leaf_values_are_blocks);
	walk_btree(bm, root, {value_size, false}, c);
}

metadata_sm_report check_metadata_space_map(block_manager &bm, const sm_root &root, count_array &refs) {
	metadata_sm_report rep;
	const block_address dev = bm.nr_blocks();
	if (root.nr_blocks > dev || root.bitmap_root >= dev) {
		rep.problems.push_back("metadata space map root is out of range (" + std::to_string(root.nr_blocks) +
		                       " blocks, index at " + std::to_string(root.bitmap_root) + ")");
		return rep;
	}
	std::vector<uint8_t> index(BLOCK_SIZE), bitmap(BLOCK_SIZE);
	bm.io().read(root.bitmap_root, 1, index.data());
	if (auto p = index_validator().check(index.data(), root.bitmap_root)) {
		rep.problems.push_back("metadata space map: " + *p + " (block " + std::to_string(root.bitmap_root) + ")");
		return rep;
	}
	refs.inc(root.bitmap_root);
	reference_counter overflow(refs, false);
	walk_btree(bm, root.ref_count_root, {4, false}, overflow);
	if (overflow.damaged)
		rep.problems.push_back("metadata space map: reference count tree is damaged");

	std::vector<std::pair<uint64_t, block_address>> bitmaps;
	for (uint64_t i = 0; i * ENTRIES_PER_BITMAP < root.nr_blocks; i++) {
		if (METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * (i + 1) > BLOCK_SIZE) {
			rep.problems.push_back("metadata space map: too many bitmaps for one index block");
			return rep;
		}
		block_address b =
		    decode_index_entry(index.data() + METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * i).blocknr;
		if (b >= dev) {
			rep.problems.push_back("metadata space map: bitmap " + std::to_string(i) + " at block " +
			                       std::to_string(b) + " is beyond the device");
			return rep;
		}
		refs.inc(b);
		bitmaps.push_back({i, b});
	}
	for (auto [i, b] : bitmaps) {
		bm.io().read(b, 1, bitmap.data());
		if (auto p = bitmap_validator().check(bitmap.data(), b)) {
			rep.problems.push_back("metadata space map: " + *p + " (block " + std::to_string(b) + ")");
			continue;
		}
		for (uint32_t k = 0; k < ENTRIES_PER_BITMAP; k++) {
			block_address blk = i * ENTRIES_PER_BITMAP + k;
			if (blk >= root.nr_blocks)
				break;
			uint32_t stored = bitmap_block::get(bitmap.data(), k);
			if (stored == 3) {
				auto it = overflow.overflow.find(blk);
				if (it == overflow.overflow.end()) {
					rep.problems.push_back("metadata space map: block " + std::to_string(blk) +
					                       " has bitmap entry 3 but no entry in the reference count tree");
					continue;
				}
				stored = it->second;
			}
			uint32_t expected = blk < refs.size() ? refs.get(blk) : 0;
			if (stored != expected)
				rep.mismatches.push_back({blk, stored, expected});
		}
	}
	return rep;
}

} // namespace pdata
