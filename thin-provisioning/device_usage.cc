#include "thin-provisioning/device_usage.h"

#include "base/endian.h"
#include "base/error.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_census.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_reader.h"

#include <algorithm>
#include <map>

namespace thin {
namespace {

using pdata::block_address;

enum : uint64_t { DETAILS = 0, TOP = 1, DATA_INDEX = 2, FIRST_DEVICE = 16 };

constexpr uint64_t EVEN_BITS = 0x5555555555555555ull;

// The data space map's stored counts as the bitmaps hold them, one 64-bit
// word per 32 blocks (a bitmap's 16320 entries are 510 whole words, so word
// w holds blocks 32w..32w+31 whichever bitmap it came from).  Empty when any
// part is unreadable: the caller then counts without it.
std::vector<uint64_t> stored_data_counts(pdata::block_io &io, const pdata::sm_root &data_sm) {
	std::vector<uint64_t> words((data_sm.nr_blocks + 31) / 32, 0);
	pdata::block_manager bm(io, 64);
	pdata::sm_index index = pdata::read_data_index(bm, data_sm);
	bool damaged = !index.complete();
	const uint64_t words_per_bitmap = pdata::ENTRIES_PER_BITMAP / 32;
	pdata::read_bitmaps(io, index, nullptr,
	                    [&](uint64_t i, block_address, const uint8_t *data, const std::optional<std::string> &problem) {
		if (!data || problem) {
			damaged = true;
			return;
		}
		uint64_t first = i * words_per_bitmap;
		for (uint64_t w = 0; w < words_per_bitmap && first + w < words.size(); w++)
			words[first + w] = pdata::bitmap_word(data, w);
	});
	if (damaged)
		words.clear();
	return words;
}

// Of a bitmap word (32 two-bit entries, the high bit first), a mask with
// the high bit's position set for each entry that is exactly 1.
uint64_t ones_of(uint64_t word) {
	return (word >> 1) & ~word & EVEN_BITS;
}

// The even bits of W packed into the low 32.
uint64_t pack_even_bits(uint64_t w) {
	w &= EVEN_BITS;
	w = (w | (w >> 1)) & 0x3333333333333333ull;
	w = (w | (w >> 2)) & 0x0f0f0f0f0f0f0f0full;
	w = (w | (w >> 4)) & 0x00ff00ff00ff00ffull;
	w = (w | (w >> 8)) & 0x0000ffff0000ffffull;
	w = (w | (w >> 16)) & 0x00000000ffffffffull;
	return w;
}

// How many distinct leaves hold each data block, as far as 0, 1 and "more".
class holder_counts {
public:
	explicit holder_counts(uint64_t nr_blocks) : once_((nr_blocks + 63) / 64), more_(once_.size()) {}
	void add(uint64_t b) {
		uint64_t bit = uint64_t(1) << (b % 64);
		uint64_t &once = once_[b / 64];
		if (once & bit)
			more_[b / 64] |= bit;
		once |= bit;
	}
	// The blocks 64w..64w+63 held by exactly one leaf.
	uint64_t single(uint64_t w) const { return once_[w] & ~more_[w]; }
	bool single_block(uint64_t b) const { return single(b / 64) >> (b % 64) & 1; }
	uint64_t nr_words() const { return once_.size(); }

private:
	std::vector<uint64_t> once_, more_;
};

// Whether STORED marks exactly the blocks HOLDERS holds once with count 1.
bool same_singles(const std::vector<uint64_t> &stored, const holder_counts &holders) {
	for (uint64_t w = 0; w < holders.nr_words(); w++) {
		uint64_t lo = 2 * w < stored.size() ? pack_even_bits(ones_of(stored[2 * w])) : 0;
		uint64_t hi = 2 * w + 1 < stored.size() ? pack_even_bits(ones_of(stored[2 * w + 1])) : 0;
		if ((lo | hi << 32) != holders.single(w))
			return false;
	}
	return true;
}

struct leaf_summary {
	block_address block;
	uint32_t exclusive; // entries whose data block is held by this leaf alone
	uint64_t highest;   // highest key + 1; 0 for an empty leaf
};

} // namespace

std::vector<device_usage> device_usages(pdata::block_io &io, const superblock &trees,
                                        const pdata::sm_root &data_sm, usage_method *method) {
	// The stored counts tell at once which blocks are held once, so each
	// leaf is read only once; they are trusted only if the recount below
	// agrees (it does not when a metadata snapshot holds leaves of its own,
	// or the space map is damaged), and otherwise the leaves that matter
	// are read a second time.
	const uint64_t nr_data = data_sm.nr_blocks;
	std::vector<uint64_t> stored = stored_data_counts(io, data_sm);
	auto stored_single = [&](uint64_t b) {
		uint64_t w = stored[b / 32];
		unsigned k = unsigned(2 * (b % 32));
		return !(w >> k & 1) && (w >> (k + 1) & 1);
	};

	pdata::count_array refs(io.nr_blocks());
	pdata::btree_census census(io, refs);
	census.set_check_min_fill(false);
	std::map<uint64_t, device_details> details;
	std::map<uint64_t, block_address> roots;
	std::vector<std::string> damage;
	auto on_damage = [&](uint64_t, const pdata::btree_damage &d) {
		if (d.fatal)
			damage.push_back(d.reason + " (block " + std::to_string(d.block) + ")");
	};

	// Every tree, each distinct node once.
	holder_counts holders(nr_data);
	std::vector<leaf_summary> leaves;
	census.add_root(trees.device_details_root, DEVICE_DETAILS_SIZE, DETAILS);
	census.add_root(trees.data_mapping_root, MAPPING_VALUE_SIZE, TOP);
	census.run(
	    [&](uint64_t tag, block_address leaf, pdata::node_ref n) {
		    if (tag == DETAILS)
			    for (uint32_t i = 0; i < n.nr_entries(); i++)
				    details[n.key(i)] = decode_device_details(n.value(i));
		    else if (tag == TOP)
			    for (uint32_t i = 0; i < n.nr_entries(); i++) {
				    roots[n.key(i)] = n.value64(i);
				    census.add_root(n.value64(i), MAPPING_VALUE_SIZE, FIRST_DEVICE);
			    }
		    else if (tag == FIRST_DEVICE) {
			    uint32_t nr = n.nr_entries(), single = 0;
			    for (uint32_t i = 0; i < nr; i++) {
				    uint64_t data = unpack_block_time(n.value64(i)).data_block;
				    if (data < nr_data) {
					    holders.add(data);
					    single += !stored.empty() && stored_single(data);
				    }
			    }
			    leaves.push_back({leaf, single, nr ? n.key(nr - 1) + 1 : 0});
		    }
	    },
	    on_damage);
	if (!damage.empty())
		throw base::error("metadata is damaged (run thin_check for details): " + damage.front());

	std::sort(leaves.begin(), leaves.end(),
	          [](const leaf_summary &a, const leaf_summary &b) { return a.block < b.block; });
	auto summary = [&](block_address leaf) -> leaf_summary & {
		return *std::lower_bound(leaves.begin(), leaves.end(), leaf,
		                         [](const leaf_summary &s, block_address b) { return s.block < b; });
	};
	// A data block is exclusive when exactly one mapping of one device
	// reaches it: it is in one leaf only, and one path from one device root
	// leads to that leaf (a leaf shared by snapshots maps it once for each).
	std::vector<block_address> device_root_list;
	for (auto &[dev, root] : roots)
		device_root_list.push_back(root);
	auto paths = census.paths_from(device_root_list);
	usage_method how;
	how.used_stored_counts = !stored.empty() && same_singles(stored, holders);
	if (!how.used_stored_counts) {
		// (Leaves reached by several paths have no exclusive blocks.)
		std::vector<block_address> single_path;
		for (const auto &s : leaves)
			if (auto p = paths.find(s.block); p != paths.end() && p->second == 1)
				single_path.push_back(s.block);
		how.leaves_read_again = single_path.size();
		pdata::read_in_batches(io, single_path, [&](block_address leaf, const uint8_t *data) {
			if (!data)
				return;
			pdata::node_ref n(data);
			uint32_t single = 0;
			for (uint32_t i = 0; i < n.nr_entries(); i++) {
				uint64_t b = unpack_block_time(n.value64(i)).data_block;
				single += b < nr_data && holders.single_block(b);
			}
			summary(leaf).exclusive = single;
		});
	}

	if (method)
		*method = how;

	auto exclusive_of = [&](block_address leaf) -> uint64_t {
		auto p = paths.find(leaf);
		return p != paths.end() && p->second == 1 ? summary(leaf).exclusive : 0;
	};

	std::unordered_map<block_address, uint64_t> excl_memo, high_memo;
	std::vector<device_usage> out;
	for (auto &[dev, d] : details) {
		device_usage u{dev, d, 0, 0, std::nullopt};
		auto r = roots.find(dev);
		if (r != roots.end()) {
			u.mapped = census.entries_below(r->second);
			u.exclusive = census.fold_below(r->second, exclusive_of, excl_memo);
			uint64_t h = census.fold_below(
			    r->second, [&](block_address l) { return summary(l).highest; }, high_memo,
			    pdata::btree_census::fold::max);
			if (h)
				u.highest_mapped = h - 1;
		}
		out.push_back(u);
	}
	return out;
}

} // namespace thin
