#include "caching/metadata_dump.h"

#include "base/endian.h"
#include "base/xml_text.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/btree_walker.h"

#include <optional>

namespace caching {
namespace {

using pdata::block_address;

std::string describe(const char *what, const pdata::array_damage &d) {
	std::string s = std::string(what) + ": " + d.reason + " (block " + std::to_string(d.block) + ")";
	if (d.lost_begin == d.lost_end)
		return s; // (read all the same)
	std::string end = d.lost_end == UINT64_MAX ? "-" : std::to_string(d.lost_end);
	return s + ", entries [" + std::to_string(d.lost_begin) + ", " + end + ") lost";
}

// The bits of a dm-bitset of NR_BITS bits; unreadable words read as LOST
// (all 0s, or all 1s where a lost bit must count as set).
std::vector<bool> read_bitset(pdata::block_manager &bm, block_address root, uint64_t nr_bits, const char *what,
                              std::vector<std::string> &damage, pdata::array_read how = pdata::array_read::strict,
                              bool lost = false) {
	std::vector<bool> bits(nr_bits, lost);
	pdata::walk_array(
	    bm, root, 8, pdata::bitset_words(nr_bits),
	    [&](uint64_t w, const uint8_t *v) {
		    uint64_t word = base::load_le64(v);
		    for (unsigned k = 0; k < 64 && w * 64 + k < nr_bits; k++)
			    bits[w * 64 + k] = word >> k & 1;
	    },
	    [&](const pdata::array_damage &d) { damage.push_back(describe(what, d)); }, how);
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

dump_result dump_cache(pdata::block_manager &bm, superblock sb, emitter &out, bool repair) {
	dump_result result;
	const auto how = repair ? pdata::array_read::by_position : pdata::array_read::strict;
	cache_info info;
	info.uuid = base::uuid_text(sb.uuid.data(), sb.uuid.size());
	if (repair && !base::printable_ascii(info.uuid)) {
		result.damage.push_back("superblock: the uuid is not printable text; dropped (the kernel does not read it)");
		info.uuid.clear();
	}
	if (repair && sb.mapping_root) {
		// The mapping array has an entry per cache block, whatever the
		// superblock says.
		uint64_t length = pdata::array_length(bm, sb.mapping_root, 8);
		if (length && length != sb.cache_blocks && length <= UINT32_MAX) {
			result.damage.push_back("superblock: cache_blocks " + std::to_string(sb.cache_blocks) +
			                        ", but the mapping array holds " + std::to_string(length) + " entries; using " +
			                        std::to_string(length));
			sb.cache_blocks = uint32_t(length);
		}
	}
	info.block_size = sb.data_block_size;
	info.nr_cache_blocks = sb.cache_blocks;
	info.policy = sb.policy();
	// (A repair trusts a valid hint size in the superblock over a damaged
	// array block header.)
	info.hint_width = repair && (sb.policy_hint_size == 4 || sb.policy_hint_size == 8) ? sb.policy_hint_size
	                                                                                   : hint_width_of(bm, sb);
	if (repair && info.hint_width != 4 && info.hint_width != 8)
		info.hint_width = 4;
	out.begin_superblock(info);

	// Format 2 keeps the dirty flags in their own bitset.  (A repair counts
	// a block whose dirty bit is lost as dirty: writing a clean block back
	// to the origin is harmless, losing a dirty one is not.)
	std::optional<std::vector<bool>> dirty;
	if (sb.version >= 2) {
		if (sb.dirty_root)
			dirty = read_bitset(bm, sb.dirty_root, sb.cache_blocks, "dirty bitset", result.damage, how, repair);
		else
			dirty = std::vector<bool>(sb.cache_blocks, true);
	}

	std::vector<bool> valid(sb.cache_blocks, false);
	out.begin_mappings();
	if (sb.mapping_root)
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
		    [&](const pdata::array_damage &d) { result.damage.push_back(describe("mapping array", d)); }, how);
	out.end_mappings();

	out.begin_hints();
	if (sb.hint_root)
		pdata::walk_array(
		    bm, sb.hint_root, info.hint_width, sb.cache_blocks,
		    [&](uint64_t cb, const uint8_t *v) {
			    if (valid[cb])
				    out.hint(cb, std::vector<uint8_t>(v, v + info.hint_width));
		    },
		    [&](const pdata::array_damage &d) { result.damage.push_back(describe("hint array", d)); }, how);
	out.end_hints();

	if (sb.discard_root && sb.discard_nr_blocks) {
		// (A damaged count must not make the walk allocate 2^64 bits: the
		// bitset's own blocks say how many it can hold.)
		uint64_t held = pdata::array_length(bm, sb.discard_root, 8) * 64;
		if (sb.discard_nr_blocks > held) {
			result.damage.push_back("superblock: discard_nr_blocks " + std::to_string(sb.discard_nr_blocks) +
			                        ", but the discard bitset holds " + std::to_string(held) + " bits; reading " +
			                        std::to_string(held));
			sb.discard_nr_blocks = held;
		}
	}
	if (sb.discard_root && sb.discard_nr_blocks) {
		auto bits = read_bitset(bm, sb.discard_root, sb.discard_nr_blocks, "discard bitset", result.damage, how);
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
