#include "caching/metadata_checker.h"

#include "base/endian.h"
#include "caching/metadata_dump.h"
#include "caching/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/metadata_sm_check.h"
#include "persistent-data/space_map_metadata.h"
#include "persistent-data/transaction_manager.h"

#include <unordered_map>

namespace caching {
namespace {

std::string lost(const pdata::array_damage &d) {
	return d.reason + " (block " + std::to_string(d.block) + "), entries " + base::range_text(d.lost_begin, d.lost_end) +
	       " lost";
}

} // namespace

check_result check_cache_metadata(pdata::block_io &io, const check_options &opts, base::check_report &report) {
	check_result out;
	report.stage("examining superblock");
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	io.read(0, 1, block.data());
	auto problems = superblock_problems(block.data(), io.nr_blocks());
	for (const auto &p : problems)
		report.fatal(p);
	if (!problems.empty())
		return out;
	out.superblock_ok = true;
	superblock sb = decode_superblock(block.data());
	out.needs_check = sb.flags & NEEDS_CHECK;
	if (opts.super_block_only)
		return out;

	pdata::block_manager bm(io, 256);
	pdata::count_array refs(io.nr_blocks());
	refs.inc(0);
	bool full = !opts.skip_mappings && !opts.skip_hints && !opts.skip_discards;

	if (!opts.skip_mappings) {
		report.stage("examining mapping array");
		std::unordered_map<uint64_t, uint64_t> origin_owner;
		auto where = pdata::array_block_locations(bm, sb.mapping_root);
		auto in_block = [&](uint64_t cb) {
			auto it = where.find(cb / pdata::array_entries_per_block(8));
			return it == where.end() ? std::string() : " (array block " + std::to_string(it->second) + ")";
		};
		pdata::walk_array(
		    bm, sb.mapping_root, 8, sb.cache_blocks,
		    [&](uint64_t cb, const uint8_t *v) {
			    uint64_t m = base::load_le64(v), flags = mapping_flags(m);
			    if (flags & ~(M_VALID | M_DIRTY))
				    report.fatal("invalid mapping: cache block " + std::to_string(cb) + " has unknown flags " +
				                 std::to_string(flags) + in_block(cb));
			    else if (sb.version >= 2 && (flags & M_DIRTY))
				    report.fatal("invalid mapping: cache block " + std::to_string(cb) +
				                 " has the dirty flag, which format 2 keeps in the dirty bitset" + in_block(cb));
			    else if (!(flags & M_VALID) && m)
				    report.non_fatal("cache block " + std::to_string(cb) + " is unmapped but not zero");
			    if (flags & M_VALID) {
				    auto [it, fresh] = origin_owner.emplace(mapping_origin(m), cb);
				    if (!fresh)
					    report.fatal("invalid mapping: origin block " + std::to_string(mapping_origin(m)) +
					                 " is cached by blocks " + std::to_string(it->second) + " and " +
					                 std::to_string(cb) + in_block(cb));
			    }
		    },
		    [&](const pdata::array_damage &d) { report.fatal("missing mappings: " + lost(d)); });
		pdata::count_tree_references(bm, sb.mapping_root, 8, true, refs);
		if (sb.version >= 2) {
			if (!sb.dirty_root)
				report.fatal("dirty bitset not found");
			else {
				pdata::walk_array(
				    bm, sb.dirty_root, 8, pdata::bitset_words(sb.cache_blocks), [](uint64_t, const uint8_t *) {},
				    [&](const pdata::array_damage &d) { report.fatal("dirty bitset: " + lost(d)); });
				pdata::count_tree_references(bm, sb.dirty_root, 8, true, refs);
			}
		}
	}

	if (!opts.skip_hints) {
		if (!sb.hint_root)
			report.stage("no hint array present");
		else {
			report.stage("examining hint array");
			uint32_t width = hint_width_of(bm, sb);
			if (sb.policy_hint_size && width != sb.policy_hint_size)
				report.fatal("hint array holds " + std::to_string(width) + "-byte hints, policy_hint_size is " +
				             std::to_string(sb.policy_hint_size));
			pdata::walk_array(
			    bm, sb.hint_root, width, sb.cache_blocks, [](uint64_t, const uint8_t *) {},
			    [&](const pdata::array_damage &d) { report.fatal("missing hints: " + lost(d)); });
			pdata::count_tree_references(bm, sb.hint_root, 8, true, refs);
		}
	}

	if (!opts.skip_discards) {
		if (!sb.discard_root)
			report.stage("no discard bitset present");
		else {
			report.stage("examining discard bitset");
			pdata::walk_array(
			    bm, sb.discard_root, 8, pdata::bitset_words(sb.discard_nr_blocks), [](uint64_t, const uint8_t *) {},
			    [&](const pdata::array_damage &d) { report.fatal("discard bitset: " + lost(d)); });
			pdata::count_tree_references(bm, sb.discard_root, 8, true, refs);
		}
	}

	if (full) {
		// (No stage line: the reference prints none for this step.)
		out.space_maps_checked = pdata::check_metadata_space_map(bm, sb.metadata_sm(), refs, report, out.metadata_leaks);
	}
	return out;
}

bool mend_cache_metadata(const std::string &path, const check_result &found, bool clear_needs_check) {
	bool mend_leaks = found.space_maps_checked && !found.metadata_leaks.empty();
	bool clear = clear_needs_check && found.needs_check;
	if (!mend_leaks && !clear)
		return false;
	pdata::file_block_io io(path, base::access_mode::read_write);
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	io.read(0, 1, block.data());
	superblock sb = decode_superblock(block.data());
	if (clear)
		sb.flags &= ~NEEDS_CHECK;
	if (!mend_leaks) {
		// Only the flag: the superblock is rewritten in place.
		encode_superblock(sb, block.data());
		io.write(0, 1, block.data());
		io.flush();
		return true;
	}
	pdata::block_manager bm(io, 256);
	pdata::transaction_manager tm(bm);
	auto msm = pdata::metadata_space_map::open(tm, sb.metadata_space_map_root.data());
	for (const auto &l : found.metadata_leaks)
		msm->set_count(l.block, l.expected);
	msm->commit();
	std::copy(msm->root().begin(), msm->root().end(), sb.metadata_space_map_root.begin());
	encode_superblock(sb, block.data());
	tm.commit(block.data());
	return true;
}

} // namespace caching
