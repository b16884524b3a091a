#include "caching/metadata_dump.h"

#include "base/endian.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/btree_walker.h"

#include <optional>

namespace caching {
namespace {

using pdata::block_address;

std::string describe(const char *what, const pdata::array_damage &d) {
	std::string end = d.lost_end == UINT64_MAX ? "-" : std::to_string(d.lost_end);
	return std::string(what) + ": " + d.reason + " (block " + std::to_string(d.block) + "), entries [" +
	       std::to_string(d.lost_begin) + ", " + end + ") lost";
}

// The bits of a dm-bitset of NR_BITS bits (unreadable words read as 0).
std::vector<bool> read_bitset(pdata::block_manager &bm, block_address root, uint64_t nr_bits, const char *what,
                              std::vector<std::string> &damage) {
	std::vector<bool> bits(nr_bits, false);
	pdata::walk_array(
	    bm, root, 8, pdata::bitset_words(nr_bits),
	    [&](uint64_t w, const uint8_t *v) {
		    uint64_t word = base::load_le64(v);
		    for (unsigned k = 0; k < 64 && w * 64 + k < nr_bits; k++)
			    if (word >> k & 1)
				    bits[w * 64 + k] = true;
	    },
	    [&](const pdata::array_damage &d) { damage.push_back(describe(what, d)); });
	return bits;
}

} // namespace

uint32_t hint_width_of(pdata::block_manager &bm, const superblock &sb) {
	// The first array block, found by walking down the index btree's left edge.
	try {
		block_address b = sb.hint_root;
		for (int depth = 0; depth < 16; depth++) {
			auto r = bm.read(b, pdata::btree_node_validator());
			pdata::node_ref n(r->data);
			if (!n.nr_entries())
				break;
			if (!n.is_leaf()) {
				b = n.value64(0);
				continue;
			}
			auto a = bm.read(n.value64(0), pdata::array_block_validator_for_reads());
			uint32_t vs = base::load_le32(a->data + 12);
			if (vs >= 1 && vs <= 128)
				return vs;
			break;
		}
	} catch (const std::exception &) {
	}
	return sb.policy_hint_size ? sb.policy_hint_size : 4;
}

dump_result dump_cache(pdata::block_manager &bm, const superblock &sb, emitter &out) {
	dump_result result;
	cache_info info;
	size_t uuid_len = 0;
	while (uuid_len < sb.uuid.size() && sb.uuid[uuid_len])
		uuid_len++;
	info.uuid.assign(reinterpret_cast<const char *>(sb.uuid.data()), uuid_len);
	info.block_size = sb.data_block_size;
	info.nr_cache_blocks = sb.cache_blocks;
	info.policy = sb.policy();
	info.hint_width = hint_width_of(bm, sb);
	out.begin_superblock(info);

	// Format 2 keeps the dirty flags in their own bitset.
	std::optional<std::vector<bool>> dirty;
	if (sb.version >= 2)
		dirty = read_bitset(bm, sb.dirty_root, sb.cache_blocks, "dirty bitset", result.damage);

	std::vector<bool> valid(sb.cache_blocks, false);
	out.begin_mappings();
	pdata::walk_array(
	    bm, sb.mapping_root, 8, sb.cache_blocks,
	    [&](uint64_t cb, const uint8_t *v) {
		    uint64_t m = base::load_le64(v);
		    if (!(mapping_flags(m) & M_VALID))
			    return;
		    valid[cb] = true;
		    bool is_dirty = dirty ? bool((*dirty)[cb]) : bool(mapping_flags(m) & M_DIRTY);
		    out.mapping(cb, mapping_origin(m), is_dirty);
	    },
	    [&](const pdata::array_damage &d) { result.damage.push_back(describe("mapping array", d)); });
	out.end_mappings();

	out.begin_hints();
	if (sb.hint_root)
		pdata::walk_array(
		    bm, sb.hint_root, info.hint_width, sb.cache_blocks,
		    [&](uint64_t cb, const uint8_t *v) {
			    if (valid[cb])
				    out.hint(cb, std::vector<uint8_t>(v, v + info.hint_width));
		    },
		    [&](const pdata::array_damage &d) { result.damage.push_back(describe("hint array", d)); });
	out.end_hints();

	if (sb.discard_root && sb.discard_nr_blocks) {
		auto bits = read_bitset(bm, sb.discard_root, sb.discard_nr_blocks, "discard bitset", result.damage);
		bool any = false;
		for (uint64_t b = 0; b < bits.size();) {
			if (!bits[b]) {
				b++;
				continue;
			}
			uint64_t e = b;
			while (e < bits.size() && bits[e])
				e++;
			if (!any)
				out.begin_discards();
			any = true;
			out.discard(b, e);
			b = e;
		}
		if (any)
			out.end_discards();
	}
	out.end_superblock();
	return result;
}

} // namespace caching
