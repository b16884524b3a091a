#include "era/metadata_checker.h"

#include "era/metadata.h"
#include "era/reference_counter.h"
#include "era/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/metadata_sm_check.h"

#include <map>
#include <set>

namespace era {
namespace {

constexpr size_t MAX_ERA_LINES = base::check_report::MAX_LINES;

// Eras above the current one, each named with the array block holding it.
void check_eras(pdata::block_manager &bm, const superblock &sb, const std::vector<uint32_t> &eras,
                base::check_report &report) {
	std::map<uint64_t, block_address> where;
	size_t above = 0;
	for (size_t b = 0; b < eras.size(); b++) {
		if (eras[b] <= sb.current_era)
			continue;
		if (above++ >= MAX_ERA_LINES) {
			report.count_fatal();
			continue;
		}
		if (where.empty())
			where = pdata::array_block_locations(bm, sb.era_array_root);
		auto at = where.find(b / pdata::array_entries_per_block(4));
		report.fatal("era array: block " + std::to_string(b) + " has era " + std::to_string(eras[b]) +
		             ", above the current era " + std::to_string(sb.current_era) +
		             (at == where.end() ? "" : " (metadata block " + std::to_string(at->second) + ")"));
	}
}

// A held snapshot: its copy of the superblock, and the damage its own trees
// show beyond what the live walk found (shared subtrees say it once).
void check_snapshot(pdata::block_manager &bm, block_address at, const std::vector<std::string> &live_damage,
                    reference_counter &counter, pdata::count_array &refs, base::check_report &report) {
	std::vector<uint8_t> copy(pdata::BLOCK_SIZE);
	bm.io().read(at, 1, copy.data());
	auto p = superblock_problems(copy.data(), at, bm.nr_blocks());
	for (const auto &x : p)
		report.fatal("metadata snapshot: " + x + " (block " + std::to_string(at) + ")");
	if (!p.empty())
		return;
	superblock snap = decode_superblock(copy.data());
	// The copy's own live writeset points at blocks the kernel has freed
	// by now: neither followed nor counted (doc/era-format.md#metadata-snapshot).
	refs.inc(at);
	counter.writeset_tree(snap.writeset_tree_root);
	counter.array(snap.era_array_root);

	std::vector<std::string> damage;
	for (const auto &s : writesets_of(bm, snap, false, damage))
		if (s.ws.root < bm.nr_blocks())
			writeset_bits(bm, s.ws, damage);
	era_array_of(bm, snap, damage);
	std::set<std::string> known(live_damage.begin(), live_damage.end());
	for (const auto &d : damage)
		if (known.insert(d).second)
			report.fatal("metadata snapshot: " + d);
}

} // namespace

check_result check_era_metadata(pdata::block_io &io, const check_options &opts, base::check_report &report) {
	check_result out;
	report.stage("examining superblock");
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	io.read(0, 1, block.data());
	auto problems = superblock_problems(block.data(), 0, io.nr_blocks());
	for (const auto &p : problems)
		report.fatal(p + " (block 0)");
	if (!problems.empty())
		return out;
	out.superblock_ok = true;
	if (opts.super_block_only)
		return out;
	superblock sb = decode_superblock(block.data());
	pdata::block_manager bm(io, 256);
	pdata::count_array refs(io.nr_blocks());
	refs.inc(0);
	reference_counter counter(bm, refs);

	std::vector<std::string> damage;
	for (const auto &s : writesets_of(bm, sb, true, damage)) {
		if (s.ws.root >= io.nr_blocks()) {
			report.fatal("writeset for era " + std::to_string(s.era) + " has root " + std::to_string(s.ws.root) +
			             ", beyond the metadata device");
			continue;
		}
		writeset_bits(bm, s.ws, damage);
		if (s.era > sb.current_era)
			report.fatal("writeset for era " + std::to_string(s.era) + " is newer than the current era " +
			             std::to_string(sb.current_era));
	}
	counter.writeset_tree(sb.writeset_tree_root);
	if (sb.current_writeset_root)
		counter.array(sb.current_writeset_root);
	auto eras = era_array_of(bm, sb, damage);
	counter.array(sb.era_array_root);
	for (const auto &d : damage)
		report.fatal(d);
	check_eras(bm, sb, eras, report);
	if (sb.metadata_snap)
		check_snapshot(bm, sb.metadata_snap, damage, counter, refs, report);

	out.space_maps_checked = pdata::check_metadata_space_map(bm, sb.metadata_sm(), refs, report, out.metadata_leaks);
	return out;
}

} // namespace era
