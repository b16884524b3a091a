#include "era/metadata_checker.h"

#include "era/metadata.h"
#include "era/superblock.h"
#include "persistent-data/metadata_sm_check.h"

namespace era {

bool check_era_metadata(pdata::block_io &io, const check_options &opts, base::check_report &report) {
	report.stage("examining superblock");
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	io.read(0, 1, block.data());
	auto problems = superblock_problems(block.data(), 0, io.nr_blocks());
	for (const auto &p : problems)
		report.fatal(p);
	if (!problems.empty())
		return false;
	if (opts.super_block_only)
		return true;
	superblock sb = decode_superblock(block.data());
	pdata::block_manager bm(io, 256);
	pdata::count_array refs(io.nr_blocks());
	refs.inc(0);

	std::vector<std::string> damage;
	auto sets = writesets_of(bm, sb, true, damage);
	pdata::count_tree_references(bm, sb.writeset_tree_root, WRITESET_SIZE, false, refs);
	for (const auto &s : sets) {
		if (s.ws.root >= io.nr_blocks()) {
			report.fatal("writeset for era " + std::to_string(s.era) + " has root " + std::to_string(s.ws.root) +
			             ", beyond the metadata device");
			continue;
		}
		writeset_bits(bm, s.ws, damage);
		pdata::count_tree_references(bm, s.ws.root, 8, true, refs);
		if (s.era > sb.current_era)
			report.fatal("writeset for era " + std::to_string(s.era) + " is newer than the current era " +
			             std::to_string(sb.current_era));
	}
	auto eras = era_array_of(bm, sb, damage);
	pdata::count_tree_references(bm, sb.era_array_root, 8, true, refs);
	for (const auto &d : damage)
		report.fatal(d);
	size_t above = 0;
	for (size_t b = 0; b < eras.size(); b++)
		if (eras[b] > sb.current_era && above++ < 20)
			report.fatal("era array: block " + std::to_string(b) + " has era " + std::to_string(eras[b]) +
			             ", above the current era " + std::to_string(sb.current_era));

	if (sb.metadata_snap) {
		// A held snapshot: the kernel counts the copy and its two roots
		// only (formats.md 13.3); the copy's live writeset is stale.
		std::vector<uint8_t> copy(pdata::BLOCK_SIZE);
		io.read(sb.metadata_snap, 1, copy.data());
		auto p = superblock_problems(copy.data(), sb.metadata_snap, io.nr_blocks());
		for (const auto &x : p)
			report.fatal("metadata snapshot: " + x);
		if (p.empty()) {
			superblock snap = decode_superblock(copy.data());
			refs.inc(sb.metadata_snap);
			refs.inc(snap.writeset_tree_root);
			refs.inc(snap.era_array_root);
		}
	}

	auto rep = pdata::check_metadata_space_map(bm, sb.metadata_sm(), refs);
	for (const auto &p : rep.problems)
		report.fatal(p);
	for (const auto &m : rep.mismatches) {
		std::string line = "metadata block " + std::to_string(m.block) + ": stored count " + std::to_string(m.stored) +
		                   ", referenced " + std::to_string(m.expected) + " times";
		if (m.stored < m.expected)
			report.fatal(line + " \u2014 a decrement would drop below zero");
		else
			report.non_fatal(line + " (leaked)");
	}
	return true;
}

} // namespace era
