#include "era/metadata.h"

#include <optional>

#include "base/endian.h"
#include "base/xml_text.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/btree_walker.h"

#include <algorithm>
#include <optional>

namespace era {
namespace {

std::string describe(const char *what, const pdata::array_damage &d) {
	return std::string(what) + ": " + d.reason + " (block " + std::to_string(d.block) + ")";
}

// A writeset's bit count is the device's block count.
writeset_entry checked(uint32_t era, writeset ws, const superblock &sb, std::vector<std::string> &damage) {
	if (ws.nr_bits != sb.nr_blocks) {
		damage.push_back("writeset of era " + std::to_string(era) + " has " + std::to_string(ws.nr_bits) +
		                 " bits, but there are " + std::to_string(sb.nr_blocks) + " blocks; read as " +
		                 std::to_string(sb.nr_blocks));
		ws.nr_bits = sb.nr_blocks;
	}
	return {era, ws};
}

// Eras the array cannot hold yet: named (the first few), and with REPAIR
// lowered to the current era.
void future_eras(const superblock &sb, std::vector<uint32_t> &eras, bool repair, std::vector<std::string> &damage) {
	size_t n = 0;
	for (size_t b = 0; b < eras.size(); b++) {
		if (eras[b] <= sb.current_era)
			continue;
		if (n++ < 20)
			damage.push_back("era array: block " + std::to_string(b) + " has era " + std::to_string(eras[b]) +
			                 ", above the current era " + std::to_string(sb.current_era));
		if (repair)
			eras[b] = sb.current_era;
	}
	if (n > 20)
		damage.push_back("era array: " + std::to_string(n - 20) + " more blocks have an era above the current one");
}

} // namespace

std::vector<writeset_entry> writesets_of(pdata::block_manager &bm, const superblock &sb, bool live,
                                         std::vector<std::string> &damage) {
	class visitor : public pdata::btree_visitor {
	public:
		visitor(std::vector<std::string> &d, const superblock &sb) : damage_(d), sb_(sb) {}
		void visit_leaf(const pdata::node_context &, pdata::node_ref n) override {
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				out.push_back(checked(uint32_t(n.key(i)), decode_writeset(n.value(i)), sb_, damage_));
		}
		void damage(const pdata::btree_damage &d) override {
			if (d.fatal)
				damage_.push_back("writeset tree: " + d.reason + " (block " + std::to_string(d.block) + ")");
		}
		std::vector<writeset_entry> out;

	private:
		std::vector<std::string> &damage_;
		const superblock &sb_;
	} v(damage, sb);
	pdata::walk_btree(bm, sb.writeset_tree_root, {WRITESET_SIZE, false}, v);
	if (live && sb.current_writeset_root)
		v.out.push_back(checked(sb.current_era, {sb.current_writeset_bits, sb.current_writeset_root}, sb, damage));
	return v.out;
}

// At most what the array at ROOT holds of VALUE_SIZE values, in units of
// UNIT entries (a damaged count must not allocate gigabytes).
uint64_t held(pdata::block_manager &bm, pdata::block_address root, uint32_t value_size, uint64_t wanted, uint64_t unit,
              const char *what, std::vector<std::string> &damage) {
	uint64_t has = pdata::array_length(bm, root, value_size) * unit;
	if (wanted <= has)
		return wanted;
	damage.push_back(std::string(what) + ": " + std::to_string(wanted) + " entries wanted, but its blocks hold " +
	                 std::to_string(has));
	return has;
}

std::vector<bool> writeset_bits(pdata::block_manager &bm, const writeset &ws, std::vector<std::string> &damage,
                                pdata::array_read how, bool lost_set) {
	std::vector<bool> bits(held(bm, ws.root, 8, ws.nr_bits, 64, "writeset bitset", damage), lost_set);
	pdata::walk_array(
	    bm, ws.root, 8, pdata::bitset_words(bits.size()),
	    [&](uint64_t w, const uint8_t *v) {
		    uint64_t word = base::load_le64(v);
		    for (unsigned k = 0; k < 64 && w * 64 + k < bits.size(); k++)
			    bits[w * 64 + k] = word >> k & 1;
	    },
	    [&](const pdata::array_damage &d) { damage.push_back(describe("writeset bitset", d)); }, how);
	return bits;
}

std::vector<uint32_t> era_array_of(pdata::block_manager &bm, const superblock &sb, std::vector<std::string> &damage,
                                   pdata::array_read how) {
	std::vector<uint32_t> eras(held(bm, sb.era_array_root, 4, sb.nr_blocks, 1, "era array", damage), 0);
	pdata::walk_array(
	    bm, sb.era_array_root, 4, eras.size(), [&](uint64_t b, const uint8_t *v) { eras[b] = base::load_le32(v); },
	    [&](const pdata::array_damage &d) { damage.push_back(describe("era array", d)); }, how);
	return eras;
}

void dump_era(pdata::block_manager &bm, superblock sb, bool logical, bool live, emitter &out,
              std::vector<std::string> &damage, bool repair) {
	const auto how = repair ? pdata::array_read::by_position : pdata::array_read::strict;
	std::vector<writeset_entry> sets;
	if (repair) {
		// The era array has an entry per block, whatever the superblock says.
		uint64_t length = pdata::array_length(bm, sb.era_array_root, 4);
		if (length && length != sb.nr_blocks && length <= UINT32_MAX) {
			damage.push_back("superblock: nr_blocks " + std::to_string(sb.nr_blocks) + ", but the era array holds " +
			                 std::to_string(length) + " entries; using " + std::to_string(length));
			sb.nr_blocks = uint32_t(length);
		}
		// (With the era array lost, a count no metadata device could index
		// is damage too.)
		uint64_t most = bm.nr_blocks() * pdata::array_entries_per_block(4);
		if (!length && sb.nr_blocks > most) {
			damage.push_back("superblock: nr_blocks " + std::to_string(sb.nr_blocks) +
			                 " is more than this metadata device can index; using " + std::to_string(most));
			sb.nr_blocks = uint32_t(std::min<uint64_t>(most, UINT32_MAX));
		}
		// (Writesets are read at the block count just settled.)
		sets = writesets_of(bm, sb, false, damage); // (archived)
		// No archived writeset is newer than the current era (it may be as
		// new: a restored history keeps the current era's set archived).
		// Raising the era is safe: blocks then count as written later than
		// they were, so more are invalidated, never fewer.  A writeset at
		// the last era there is leaves no room for the current one, and goes.
		uint32_t current = sb.current_era;
		std::erase_if(sets, [&](const writeset_entry &w) {
			if (w.era == UINT32_MAX)
				damage.push_back("writeset tree: a writeset for era " + std::to_string(w.era) + " dropped");
			return w.era == UINT32_MAX;
		});
		for (const auto &w : sets)
			current = std::max(current, w.era);
		if (current != sb.current_era) {
			damage.push_back("superblock: current era " + std::to_string(sb.current_era) +
			                 " is before an archived writeset; using " + std::to_string(current));
			sb.current_era = current;
		}
	} else
		sets = writesets_of(bm, sb, false, damage);
	if (live && sb.current_writeset_root)
		sets.push_back(checked(sb.current_era, {sb.current_writeset_bits, sb.current_writeset_root}, sb, damage));
	era_info info;
	info.uuid = base::uuid_text(sb.uuid.data(), sb.uuid.size());
	if (repair && !base::printable_ascii(info.uuid)) {
		damage.push_back("superblock: the uuid is not printable text; dropped (the kernel does not read it)");
		info.uuid.clear();
	}
	info.block_size = sb.data_block_size;
	info.nr_blocks = sb.nr_blocks;
	info.current_era = sb.current_era;
	out.begin_superblock(info);
	auto eras = era_array_of(bm, sb, damage, how);
	if (repair)
		eras.resize(sb.nr_blocks, 0); // (an unreadable array: every era lost)
	future_eras(sb, eras, repair, damage);
	// Each set is written when the next is known: in repair, a live set
	// with the era of the newest archived one (a current era repaired, or
	// a set archived at shutdown whose root survived) is merged into it, a
	// bit set in either counting as set.
	struct pending_set {
		uint32_t era, nr_bits;
		std::vector<bool> bits;
	};
	std::optional<pending_set> pending;
	auto emit = [&](const pending_set &p) {
		if (logical) {
			// A block keeps the newer of its array era and the writeset's.
			for (uint32_t b = 0; b < p.bits.size() && b < eras.size(); b++)
				if (p.bits[b])
					eras[b] = std::max(eras[b], p.era);
			return;
		}
		out.begin_writeset(p.era, p.nr_bits);
		for (uint32_t b = 0; b < p.bits.size(); b++)
			out.writeset_bit(b, p.bits[b]);
		out.end_writeset();
	};
	for (const auto &s : sets) {
		auto bits = writeset_bits(bm, s.ws, damage, how, repair);
		if (repair && bits.size() < s.ws.nr_bits) {
			// Bits the writeset lost count as written in its era: a block
			// then counts as changed when it may not have been, never the
			// other way.
			damage.push_back("writeset of era " + std::to_string(s.era) + ": " +
			                 std::to_string(s.ws.nr_bits - bits.size()) + " unreadable bits count as written");
			bits.resize(s.ws.nr_bits, true);
		}
		if (repair && pending && pending->era == s.era) {
			damage.push_back("writeset of era " + std::to_string(s.era) +
			                 ": the live writeset has the era of an archived one; their bits merged");
			if (bits.size() > pending->bits.size())
				pending->bits.resize(bits.size(), false);
			for (size_t b = 0; b < bits.size(); b++)
				if (bits[b])
					pending->bits[b] = true;
			pending->nr_bits = uint32_t(pending->bits.size());
			continue;
		}
		if (pending)
			emit(*pending);
		pending = pending_set{s.era, s.ws.nr_bits, std::move(bits)};
	}
	if (pending)
		emit(*pending);
	out.begin_era_array();
	for (uint32_t b = 0; b < eras.size(); b++)
		out.era(b, eras[b]);
	out.end_era_array();
	out.end_superblock();
}

std::vector<bool> written_since(pdata::block_manager &bm, const superblock &sb, uint32_t since, bool live,
                                std::vector<std::string> &damage) {
	auto eras = era_array_of(bm, sb, damage);
	std::vector<bool> out(eras.size(), false);
	for (size_t b = 0; b < eras.size(); b++)
		out[b] = eras[b] >= since;
	for (const auto &s : writesets_of(bm, sb, live, damage)) {
		if (s.era < since)
			continue;
		auto bits = writeset_bits(bm, s.ws, damage);
		for (size_t b = 0; b < bits.size() && b < out.size(); b++)
			if (bits[b])
				out[b] = true;
	}
	return out;
}

} // namespace era
