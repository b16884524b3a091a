#include "persistent-data/space_map_reader.h"

#include "base/endian.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/checksum.h"

#include <algorithm>

namespace pdata {

uint64_t nr_bitmaps(uint64_t nr_blocks) { return (nr_blocks + ENTRIES_PER_BITMAP - 1) / ENTRIES_PER_BITMAP; }

sm_index read_metadata_index(block_io &io, const sm_root &root, uint64_t only_below) {
	sm_index idx;
	idx.nr_blocks = root.nr_blocks;
	const uint64_t dev = io.nr_blocks();
	// (A truncated device - ONLY_BELOW given - may be smaller than the map.)
	if ((only_below == UINT64_MAX && root.nr_blocks > dev) || root.nr_blocks > MAX_METADATA_BLOCKS) {
		idx.damage.push_back({root.bitmap_root, "metadata space map covers " + std::to_string(root.nr_blocks) +
		                                            " blocks, but the device holds " + std::to_string(dev)});
		return idx;
	}
	if (root.bitmap_root >= dev) {
		idx.damage.push_back({root.bitmap_root, "metadata space map index block " +
		                                            std::to_string(root.bitmap_root) +
		                                            " is beyond the end of the metadata device"});
		return idx;
	}
	std::vector<uint8_t> block(BLOCK_SIZE);
	io.read(root.bitmap_root, 1, block.data());
	if (auto problem = index_validator().check(block.data(), root.bitmap_root)) {
		idx.damage.push_back({root.bitmap_root, "metadata space map: " + *problem + " (block " +
		                                            std::to_string(root.bitmap_root) + ")"});
		return idx;
	}
	idx.usable = true;
	for (uint64_t i = 0; i < nr_bitmaps(root.nr_blocks) && i * ENTRIES_PER_BITMAP < only_below; i++) {
		block_address b = decode_index_entry(block.data() + METADATA_INDEX_OFFSET + INDEX_ENTRY_SIZE * i).blocknr;
		// (The value that marks a missing entry: one that holds it lies
		// beyond any device, and is said so here.)
		if (b == NO_BITMAP)
			idx.damage.push_back({root.bitmap_root, "metadata space map: bitmap " + std::to_string(i) +
			                                            " at block " + std::to_string(b) +
			                                            " is beyond the metadata device"});
		idx.bitmaps.push_back(b);
	}
	return idx;
}

void add_data_index_entries(node_ref leaf, std::map<uint64_t, block_address> &entries) {
	for (uint32_t i = 0; i < leaf.nr_entries(); i++)
		entries[leaf.key(i)] = decode_index_entry(leaf.value(i)).blocknr;
}

sm_index data_index_from_entries(const sm_root &root, const std::map<uint64_t, block_address> &entries) {
	sm_index idx;
	idx.nr_blocks = root.nr_blocks;
	idx.usable = true;
	for (uint64_t i = 0; i < nr_bitmaps(root.nr_blocks); i++) {
		auto it = entries.find(i);
		if (it == entries.end()) {
			idx.damage.push_back({root.bitmap_root, "data space map: no index entry for bitmap " + std::to_string(i)});
			idx.bitmaps.push_back(NO_BITMAP);
		} else
			idx.bitmaps.push_back(it->second);
	}
	return idx;
}

sm_index read_data_index(block_manager &bm, const sm_root &root) {
	class index_visitor : public btree_visitor {
	public:
		void visit_leaf(const node_context &, node_ref n) override { add_data_index_entries(n, entries); }
		void damage(const btree_damage &d) override {
			if (d.fatal)
				faults.push_back({d.block, "data space map: index tree: " + d.reason + " (block " +
				                               std::to_string(d.block) + ")"});
		}
		std::map<uint64_t, block_address> entries;
		std::vector<sm_damage> faults;
	} v;
	walk_btree(bm, root.bitmap_root, {INDEX_ENTRY_SIZE, false}, v);
	sm_index idx = data_index_from_entries(root, v.entries);
	idx.damage.insert(idx.damage.begin(), v.faults.begin(), v.faults.end());
	return idx;
}

uint64_t bitmap_word(const uint8_t *bitmap, uint64_t w) { return base::load_le64(bitmap + BITMAP_HEADER_SIZE + 8 * w); }

uint32_t entries_of_three(uint64_t word) {
	uint64_t x = word & (word >> 1) & 0x5555555555555555ull; // entry i: bit 2i
	x = (x | (x >> 1)) & 0x3333333333333333ull;
	x = (x | (x >> 2)) & 0x0f0f0f0f0f0f0f0full;
	x = (x | (x >> 4)) & 0x00ff00ff00ff00ffull;
	x = (x | (x >> 8)) & 0x0000ffff0000ffffull;
	return uint32_t(x | (x >> 16));
}

void read_bitmaps(block_io &io, const sm_index &index, const bitmap_reader_fn &on_reader,
                  const bitmap_caller_fn &on_caller, readers who) {
	// One bitmap block may (in damaged metadata) be listed for several
	// bitmaps: each listing is visited, the block read once.
	std::multimap<block_address, uint64_t> where;
	for (uint64_t i = 0; i < index.bitmaps.size(); i++)
		if (index.bitmaps[i] != NO_BITMAP)
			where.insert({index.bitmaps[i], i});
	std::vector<block_address> blocks;
	std::vector<std::vector<uint64_t>> numbers; // beside BLOCKS
	for (auto it = where.begin(); it != where.end(); it = where.upper_bound(it->first)) {
		blocks.push_back(it->first);
		numbers.emplace_back();
		auto [first, last] = where.equal_range(it->first);
		for (auto k = first; k != last; ++k)
			numbers.back().push_back(k->second);
	}
	indexed_check check = [&](size_t k, block_address b, const uint8_t *data) -> std::optional<std::string> {
		if (auto problem = bitmap_validator().check(data, b))
			return problem;
		if (on_reader)
			for (uint64_t i : numbers[k])
				on_reader(i, b, data);
		return std::nullopt;
	};
	read_in_batches(
	    io, blocks, check,
	    [&](block_address b, const uint8_t *data, const std::optional<std::string> &problem) {
		    auto [first, last] = where.equal_range(b);
		    for (auto k = first; k != last; ++k)
			    on_caller(k->second, b, data, problem);
	    },
	    nullptr, who);
}

std::string bitmap_damage_text(const std::string &which, uint64_t i, block_address b, const uint8_t *data,
                               const std::string &problem) {
	if (!data)
		return which + " space map: bitmap " + std::to_string(i) + " at block " + std::to_string(b) +
		       " is beyond the metadata device";
	return which + " space map: " + problem + " (block " + std::to_string(b) + ")";
}

overflow_counts read_overflow_counts(block_manager &bm, block_address root) {
	class tree_visitor : public btree_visitor {
	public:
		explicit tree_visitor(overflow_counts &out) : out_(out) {}
		bool visit_internal(const node_context &c, node_ref) override {
			out_.nodes.push_back(c.block);
			return true;
		}
		void visit_leaf(const node_context &c, node_ref n) override {
			out_.nodes.push_back(c.block);
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				out_.counts[n.key(i)] = base::load_le32(n.value(i));
		}
		void damage(const btree_damage &d) override { out_.damaged = out_.damaged || d.fatal; }

	private:
		overflow_counts &out_;
	};
	overflow_counts out;
	tree_visitor v(out);
	walk_btree(bm, root, {4, false}, v);
	return out;
}

std::vector<sm_damage> for_each_entry(block_io &io, const sm_index &index, const std::string &which,
                                      const std::function<void(block_address, uint32_t)> &fn, uint64_t limit) {
	std::vector<sm_damage> damage = index.damage;
	if (!index.usable)
		return damage;
	const uint64_t end = std::min(index.nr_blocks, limit);
	std::vector<uint8_t> bitmap(BLOCK_SIZE);
	// Bitmap by bitmap, in the map's order (the caller sees blocks in
	// order); a metadata map has at most 255, a data map's are read once.
	for (uint64_t i = 0; i < index.bitmaps.size() && i * ENTRIES_PER_BITMAP < end; i++) {
		block_address b = index.bitmaps[i];
		if (b == NO_BITMAP)
			continue; // (said in the index's damage)
		if (b >= io.nr_blocks()) {
			damage.push_back({b, bitmap_damage_text(which, i, b, nullptr, "")});
			continue;
		}
		io.read(b, 1, bitmap.data());
		if (auto problem = bitmap_validator().check(bitmap.data(), b)) {
			damage.push_back({b, bitmap_damage_text(which, i, b, bitmap.data(), *problem)});
			continue;
		}
		const uint64_t first = i * ENTRIES_PER_BITMAP;
		const uint64_t n = std::min<uint64_t>(ENTRIES_PER_BITMAP, end - first);
		for (uint64_t k = 0; k < n; k++)
			fn(first + k, bitmap_entry(bitmap.data(), k));
	}
	return damage;
}

std::optional<std::unordered_map<block_address, uint32_t>> read_nonzero_counts(block_manager &bm, const sm_index &index,
                                                                    const sm_root &root, uint64_t limit) {
	std::unordered_map<block_address, uint32_t> counts;
	auto damage = for_each_entry(
	    bm.io(), index, "metadata",
	    [&](block_address b, uint32_t e) {
		    if (e)
			    counts.emplace(b, e);
	    },
	    limit);
	if (!index.usable || !damage.empty())
		return std::nullopt;
	overflow_counts tree = read_overflow_counts(bm, root.ref_count_root);
	if (tree.damaged)
		return std::nullopt;
	for (const auto &[b, c] : tree.counts)
		if (auto it = counts.find(b); it != counts.end() && it->second == 3)
			it->second = c;
	return counts;
}

std::optional<std::vector<block_address>> read_used_blocks(block_io &io, const sm_index &index) {
	std::vector<block_address> used;
	auto damage = for_each_entry(io, index, "metadata", [&](block_address b, uint32_t e) {
		if (e)
			used.push_back(b);
	});
	if (!index.usable || !damage.empty())
		return std::nullopt;
	return used;
}

} // namespace pdata
