#include "thin-provisioning/metadata_checker.h"

#include "base/cores.h"
#include "base/endian.h"
#include "base/progress.h"
#include "base/spin_lock.h"
#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_census.h"
#include "persistent-data/checksum.h"
#include "persistent-data/count_array.h"
#include "persistent-data/count_feeder.h"
#include "persistent-data/space_map_report.h"
#include "thin-provisioning/device_details.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace thin {
namespace {

using pdata::block_address;
using pdata::btree_damage;
using pdata::count_array;

using pdata::sm_comparison;

constexpr size_t MAX_LINES = check_report::MAX_LINES;

// Census tags: which tree a node was reached from.
enum tree_tag : uint64_t {
	DETAILS = 0,
	TOP_LEVEL,
	META_REF_COUNTS,
	DATA_INDEX,
	DATA_REF_COUNTS,
	SNAP_DETAILS,
	SNAP_TOP_LEVEL,
	FIRST_DEVICE = 16, // + 2*dev (live) or + 2*dev + 1 (metadata snapshot)
};

uint64_t device_tag(uint64_t dev, bool snap) { return FIRST_DEVICE + 2 * dev + (snap ? 1 : 0); }

std::string range_text(const btree_damage &d) { return base::range_text(d.lost_begin, d.lost_end); }

class checker {
public:
	checker(pdata::block_io &io, const check_options &opts, check_report &report)
	    : io_(io), opts_(opts), report_(report), refs_(io.nr_blocks()), census_(io, refs_) {
		census_.set_check_min_fill(true);
		// Damage in a node the live trees share with the metadata snapshot
		// is reported against the live device.
		census_.set_tag_rank([](uint64_t tag) { return snapshot_tag(tag) ? 1 : 0; });
	}

	check_result run() {
		check_result result;
		if (opts_.record_roles) {
			result.roles.assign(io_.nr_blocks(), block_role::unused);
			roles_ = &result.roles;
			owners_ = &result.mapping_owner;
			census_.set_node_observer([this](uint64_t tag, block_address b, pdata::node_ref n) {
				note_node(tag, b, n);
			});
		}
		report_.stage("examining superblock");
		std::vector<uint8_t> b(pdata::BLOCK_SIZE);
		io_.read(0, 1, b.data());
		auto problems = superblock_problems(b.data(), 0, io_.nr_blocks());
		for (const auto &p : problems)
			report_.fatal(p);
		if (!problems.empty())
			return result;
		// (What the kernel accepts is said, not counted: a pool the kernel
		// opens must pass, as LVM runs the check before every activation.)
		for (const auto &w : superblock_warnings(b.data(), 0, io_.nr_blocks()))
			report_.info(w);
		result.superblock_ok = true;
		result.sb = live_ = decode_superblock(b.data());
		note(0, block_role::superblock);
		if (live_.metadata_snap)
			note(live_.metadata_snap, block_role::snapshot_superblock);
		superblock trees = live_;
		result.transaction_id = live_.trans_id;
		if (live_.metadata_snap) {
			snap_ = read_snapshot(live_.metadata_snap);
			if (opts_.metadata_snap && !snap_)
				return result;
		}
		if (opts_.metadata_snap) {
			if (!live_.metadata_snap) {
				report_.fatal("No metadata snapshot found.");
				return result;
			}
			trees = *snap_;
		}
		result.transaction_id = trees.trans_id;
		if (opts_.override_mapping_root)
			trees.data_mapping_root = *opts_.override_mapping_root;
		if (opts_.override_details_root)
			trees.device_details_root = *opts_.override_details_root;
		if (opts_.super_block_only)
			return result;

		nr_data_blocks_ = live_.data_sm().nr_blocks;
		data_refs_.resize(nr_data_blocks_);
		// Progress on a terminal: nodes read against the blocks in use.
		base::progress_bar bar("Checking", !report_.quiet());
		uint64_t in_use = live_.metadata_sm().nr_allocated;
		census_.set_progress([&bar, in_use](uint64_t n) { bar.update(n, in_use); });

		refs_.inc(0); // the live superblock
		report_.stage("examining devices tree");
		census_.add_root(trees.device_details_root, DEVICE_DETAILS_SIZE, DETAILS);
		run_census();
		report_.stage(opts_.skip_mappings ? "examining top level of mapping tree"
		                                  : "examining mapping tree");
		census_.add_root(trees.data_mapping_root, MAPPING_VALUE_SIZE, TOP_LEVEL);
		bool full = !opts_.metadata_snap && !opts_.skip_mappings;
		if (full && snap_ && !opts_.skip_metadata_snap) {
			// The held snapshot's copy, and the trees it keeps alive.
			refs_.inc(live_.metadata_snap);
			census_.add_root(snap_->device_details_root, DEVICE_DETAILS_SIZE, SNAP_DETAILS);
			census_.add_root(snap_->data_mapping_root, MAPPING_VALUE_SIZE, SNAP_TOP_LEVEL);
		}
		// The data blocks are counted beside the walk: with a third core by
		// a thread of their own, otherwise by the thread that reads each
		// leaf, as it checks it (the leaf still in that core's cache).
		if (full && base::usable_cores() >= 3)
			feeder_ = std::make_unique<pdata::count_feeder>(data_refs_);
		else if (full) {
			caller_ = std::this_thread::get_id();
			census_.set_leaf_digest([this](uint64_t tag, block_address leaf, pdata::node_ref n) {
				return digest_leaf(tag, leaf, n);
			});
			counted_when_read_ = true;
		}
		run_census();
		census_.set_leaf_digest(nullptr);
		counted_when_read_ = false;
		for (auto &runs : waiting_runs_) // (the reading threads have ended)
			add_runs(runs);
		if (feeder_) {
			feeder_->finish();
			feeder_.reset();
		}
		check_devices(trees, false);
		if (full && snap_ && !opts_.skip_metadata_snap)
			check_devices(*snap_, true);

		bar.finish();
		if (full) {
			report_.stage("checking space map counts");
			check_space_maps(result);
		}
		census_.set_progress(nullptr);
		return result;
	}

private:
	void note(block_address b, block_role r) {
		if (roles_ && b < roles_->size())
			(*roles_)[b] = r;
	}

	void note_node(uint64_t tag, block_address b, pdata::node_ref n) {
		switch (tag) {
		case DETAILS:
		case SNAP_DETAILS: note(b, block_role::details_node); break;
		case TOP_LEVEL:
		case SNAP_TOP_LEVEL: note(b, block_role::top_level_node); break;
		case META_REF_COUNTS: note(b, block_role::metadata_sm_ref_counts); break;
		case DATA_INDEX: note(b, block_role::data_sm_index); break;
		case DATA_REF_COUNTS: note(b, block_role::data_sm_ref_counts); break;
		default:
			note(b, n.is_leaf() ? block_role::mapping_leaf : block_role::mapping_internal);
			(*owners_)[b] = (tag - FIRST_DEVICE) / 2;
		}
	}

	std::optional<superblock> read_snapshot(block_address where) {
		if (where >= io_.nr_blocks()) {
			report_.fatal("metadata snapshot location " + std::to_string(where) +
			              " is beyond the end of the metadata device");
			return std::nullopt;
		}
		std::vector<uint8_t> b(pdata::BLOCK_SIZE);
		io_.read(where, 1, b.data());
		auto problems = superblock_problems(b.data(), where, io_.nr_blocks());
		for (const auto &p : problems)
			report_.fatal("metadata snapshot: " + p);
		if (!problems.empty())
			return std::nullopt;
		for (const auto &w : superblock_warnings(b.data(), where, io_.nr_blocks()))
			report_.info("metadata snapshot: " + w);
		return decode_superblock(b.data());
	}

	void run_census() {
		census_.run([this](uint64_t tag, block_address leaf, pdata::node_ref n) { on_leaf(tag, leaf, n); },
		            [this](uint64_t tag, const btree_damage &d) { on_damage(tag, d); });
	}

	void on_leaf(uint64_t tag, block_address leaf, pdata::node_ref n) {
		switch (tag) {
		case DETAILS:
		case SNAP_DETAILS: {
			auto &entries = details_leaves_[leaf];
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				entries.push_back({n.key(i), decode_device_details(n.value(i))});
			break;
		}
		case TOP_LEVEL:
		case SNAP_TOP_LEVEL: {
			bool snap = tag == SNAP_TOP_LEVEL;
			auto &entries = top_leaves_[leaf];
			for (uint32_t i = 0; i < n.nr_entries(); i++) {
				block_address root = n.value64(i);
				entries.push_back({n.key(i), root});
				if (!opts_.skip_mappings)
					census_.add_root(root, MAPPING_VALUE_SIZE, device_tag(n.key(i), snap));
			}
			break;
		}
		case META_REF_COUNTS:
		case DATA_REF_COUNTS:
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				(tag == META_REF_COUNTS ? *meta_cmp_ : *data_cmp_)
				    .note_overflow(n.key(i), base::load_le32(n.value(i)), tag == META_REF_COUNTS ? refs_ : data_refs_);
			break;
		case DATA_INDEX:
			pdata::add_data_index_entries(n, data_index_);
			break;
		default: {
			uint64_t dev = (tag - FIRST_DEVICE) / 2;
			if (counted_when_read_) {
				// The digest counted the blocks inside the data device; the
				// leaf is here for those outside it.
				count_mappings(dev, leaf, n, [](block_address) {});
				break;
			}
			if (feeder_) {
				count_mappings(dev, leaf, n, [this](block_address b) { feeder_->add(b); });
				break;
			}
			count_array::incrementer refs(data_refs_); // a leaf's blocks are mostly in one page
			// (count_mappings compares each block with nr_data_blocks_,
			// the array's size.)
			count_mappings(dev, leaf, n, [&refs](block_address b) { refs.inc_inside(b); });
		}
		}
	}

	// On a reading thread: counts the data blocks of a mapping leaf that
	// lie inside the data device.  Other leaves, and those that map
	// beyond the data device (to be reported, in order), go on to on_leaf.
	//
	// Both reading threads may be here at once.  Each finds the leaf's
	// runs of consecutive blocks on its own (the leaf is in its core's
	// cache; a volume written in order is allocated in order, so there are
	// few), and adds them to the counts if the other is not adding its own
	// just then; otherwise it keeps them for its next turn, and waits only
	// when it holds many.  (Waiting for every leaf, when counts are high and
	// runs short, as in a pool with 40 snapshots, kept one side spinning.)
	bool digest_leaf(uint64_t tag, block_address, pdata::node_ref n) {
		if (tag < FIRST_DEVICE)
			return true;
		auto &mine = waiting_runs_[std::this_thread::get_id() == caller_ ? 0 : 1];
		// (The run in hand is kept in locals, and the node's layout read
		// once: stores to MINE would otherwise make the compiler re-read
		// the header for every value, a chain of loads per mapping.)
		bool outside = false;
		const uint32_t nr = n.nr_entries();
		const uint8_t *values = n.value(0); // (8 bytes each, in a row)
		const uint64_t limit = nr_data_blocks_;
		block_address begin = 0, end = 0;   // the run in hand
		for (uint32_t i = 0; i < nr; i++) {
			uint64_t data = unpack_block_time(base::load_le64(values + 8 * size_t(i))).data_block;
			if (data == end && data < limit) {
				end++;
				continue;
			}
			if (end != begin)
				mine.push_back({begin, end - begin});
			begin = end = data;
			if (data < limit)
				end++;
			else
				outside = true;
		}
		if (end != begin)
			mine.push_back({begin, end - begin});
		if (data_refs_lock_.try_lock()) {
			add_runs(mine);
			data_refs_lock_.unlock();
		} else if (mine.size() >= MAX_WAITING_RUNS) {
			std::lock_guard<base::spin_lock> l(data_refs_lock_);
			add_runs(mine);
		}
		return outside;
	}

	struct block_run {
		block_address begin;
		uint64_t length;
	};
	static constexpr size_t MAX_WAITING_RUNS = 1 << 14; // 256 KiB

	void add_runs(std::vector<block_run> &runs) {
		count_array::incrementer refs(data_refs_);
		for (const auto &r : runs)
			refs.inc_run_inside(r.begin, r.length);
		runs.clear();
	}

	// Passes each data block a mapping leaf references to COUNT; reports
	// those beyond the data device (on this thread, so in order).
	template <typename Count>
	void count_mappings(uint64_t dev, block_address leaf, pdata::node_ref n, const Count &count) {
		const uint32_t nr = n.nr_entries();
		for (uint32_t i = 0; i < nr; i++) {
			uint64_t data = unpack_block_time(n.value64(i)).data_block;
			if (data < nr_data_blocks_)
				count(data);
			else if (out_of_range_lines_++ < MAX_LINES)
				report_.fatal("thin device " + std::to_string(dev) + ": block " + std::to_string(n.key(i)) +
				              " is mapped to data block " + std::to_string(data) + ", beyond the data device (" +
				              std::to_string(nr_data_blocks_) + " blocks), in leaf block " + std::to_string(leaf));
			else
				report_.count_fatal();
		}
	}

	void on_damage(uint64_t tag, const btree_damage &d) {
		std::string reason = d.reason + " (block " + std::to_string(d.block) + ")";
		if (!d.fatal) {
			report_.non_fatal(tree_name(tag) + ": " + reason);
			return;
		}
		switch (tag) {
		case DETAILS:
		case SNAP_DETAILS:
			report_.fatal(prefix(tag) + "missing devices: " + range_text(d), reason);
			break;
		case TOP_LEVEL:
		case SNAP_TOP_LEVEL:
			report_.fatal(prefix(tag) + "missing all mappings for devices: " + range_text(d),
			              reason);
			break;
		case META_REF_COUNTS:
		case DATA_INDEX:
		case DATA_REF_COUNTS:
			report_.fatal(tree_name(tag) + " is damaged", reason);
			break;
		default: {
			uint64_t dev = (tag - FIRST_DEVICE) / 2;
			report_.fatal(prefix(tag) + "thin device " + std::to_string(dev) +
			                  " is missing mappings " + range_text(d),
			              reason);
		}
		}
	}

	static bool snapshot_tag(uint64_t tag) {
		return tag == SNAP_DETAILS || tag == SNAP_TOP_LEVEL || (tag >= FIRST_DEVICE && (tag - FIRST_DEVICE) % 2);
	}

	static std::string prefix(uint64_t tag) { return snapshot_tag(tag) ? "metadata snapshot: " : ""; }

	static std::string tree_name(uint64_t tag) {
		switch (tag) {
		case DETAILS: return "device details tree";
		case TOP_LEVEL: return "top level of the mapping tree";
		case META_REF_COUNTS: return "metadata space map reference count tree";
		case DATA_INDEX: return "data space map index";
		case DATA_REF_COUNTS: return "data space map reference count tree";
		case SNAP_DETAILS: return "metadata snapshot: device details tree";
		case SNAP_TOP_LEVEL: return "metadata snapshot: top level of the mapping tree";
		default:
			return prefix(tag) + "thin device " + std::to_string((tag - FIRST_DEVICE) / 2) +
			       " mapping tree";
		}
	}

	// The devices one pair of trees describes.  Its leaves come from the
	// census's records by leaf block: the live trees and a held snapshot's
	// share the leaves neither has changed since, and the census hands a
	// shared leaf over once, under one tag.
	struct device_view {
		std::map<uint64_t, device_details> details;
		std::map<uint64_t, block_address> details_leaf; // (for the report)
		std::map<uint64_t, block_address> roots;
	};

	device_view gather(block_address details_root, block_address top_level_root) const {
		device_view v;
		for (block_address leaf : census_.leaves_below(details_root))
			if (auto it = details_leaves_.find(leaf); it != details_leaves_.end())
				for (const auto &[dev, d] : it->second) {
					v.details[dev] = d;
					v.details_leaf[dev] = leaf;
				}
		for (block_address leaf : census_.leaves_below(top_level_root))
			if (auto it = top_leaves_.find(leaf); it != top_leaves_.end())
				for (const auto &[dev, root] : it->second)
					v.roots[dev] = root;
		return v;
	}

	void check_devices(const superblock &trees, bool snap) {
		device_view v = gather(trees.device_details_root, trees.data_mapping_root);
		std::string p = snap ? "metadata snapshot: " : "";
		for (const auto &[dev, d] : v.details)
			if (!v.roots.count(dev))
				report_.fatal(p + "thin device " + std::to_string(dev) +
				              " has details but no mapping tree");
		for (const auto &[dev, root] : v.roots) {
			auto it = v.details.find(dev);
			if (it == v.details.end()) {
				report_.fatal(p + "thin device " + std::to_string(dev) +
				              " has a mapping tree but no details");
				continue;
			}
			if (opts_.skip_mappings)
				continue;
			uint64_t actual = census_.entries_below(root);
			if (actual != it->second.mapped_blocks)
				report_.fatal(p + "thin device " + std::to_string(dev) +
				              " has unexpected number of mappings, expected " +
				              std::to_string(it->second.mapped_blocks) + ", actual " +
				              std::to_string(actual) + " (details in block " +
				              std::to_string(v.details_leaf.at(dev)) + ")");
		}
	}

	// Reads the bitmaps INDEX lists and compares every entry with the
	// recount REAL (entries of 3 through the reference count tree).  The
	// comparison is made by whichever thread read the bitmap (both read:
	// on a 20M-mapping pool this was a tenth of the check, on one thread).
	// Damaged bitmaps, and counts past the map's end, are reported here as
	// they come, in block order.
	bool compare_bitmaps(const pdata::sm_index &index, sm_comparison &cmp, const count_array &real, bool meta) {
		bool ok = true;
		for (block_address b : index.bitmaps) {
			if (b == pdata::NO_BITMAP)
				continue; // (reported with the index)
			if (b < refs_.size())
				refs_.inc(b);
			note(b, meta ? block_role::metadata_sm_bitmap : block_role::data_sm_bitmap);
		}
		pdata::read_bitmaps(
		    io_, index, [&](uint64_t i, block_address, const uint8_t *data) { cmp.compare_bitmap(i, data, real); },
		    [&](uint64_t i, block_address b, const uint8_t *data, const std::optional<std::string> &problem) {
			    if (!data || problem) {
				    report_.fatal(pdata::bitmap_damage_text(cmp.which(), i, b, data, problem.value_or("")));
				    ok = false;
				    return;
			    }
			    for (block_address past : cmp.counted_past_end(i, data))
				    report_.non_fatal(cmp.which() + " space map: bitmap block " + std::to_string(b) +
				                      " counts block " + std::to_string(past) + " past the map's end");
		    },
		    pdata::readers::both);
		return ok;
	}

	void check_space_maps(check_result &result) {
		pdata::sm_root meta = live_.metadata_sm();
		pdata::sm_root data = live_.data_sm();
		if (meta.bitmap_root < io_.nr_blocks() && meta.nr_blocks <= io_.nr_blocks()) {
			refs_.inc(meta.bitmap_root);
			note(meta.bitmap_root, block_role::metadata_sm_index);
		}
		pdata::sm_index meta_index = pdata::read_metadata_index(io_, meta);
		for (const auto &d : meta_index.damage)
			report_.fatal(d.reason);
		if (!meta_index.usable)
			return;
		bool ok = meta_index.damage.empty();

		meta_cmp_.emplace("metadata", meta.nr_blocks, true);
		data_cmp_.emplace("data", data.nr_blocks, false);
		census_.add_root(meta.ref_count_root, 4, META_REF_COUNTS);
		census_.add_root(data.bitmap_root, 16, DATA_INDEX);
		census_.add_root(data.ref_count_root, 4, DATA_REF_COUNTS);
		run_census();

		pdata::sm_index data_index = pdata::data_index_from_entries(data, data_index_);
		for (const auto &d : data_index.damage)
			report_.fatal(d.reason);
		ok = ok && data_index.damage.empty();
		// The data bitmaps first: reading the metadata ones counts references
		// to them, which the metadata comparison must include.
		bool data_ok = compare_bitmaps(data_index, *data_cmp_, data_refs_, false);
		ok = compare_bitmaps(meta_index, *meta_cmp_, refs_, true) && data_ok && ok;
		if (!ok) {
			// The counts cannot be trusted; report only how the maps disagree.
			for (auto *cmp : {&*meta_cmp_, &*data_cmp_})
				for (const auto &p : cmp->problems_only())
					report_.fatal(p.text);
			return;
		}
		pdata::report_space_map_comparison(report_, *meta_cmp_, result.metadata_leaks);
		pdata::report_space_map_comparison(report_, *data_cmp_, result.data_leaks);
		for (uint64_t b = meta.nr_blocks; b < refs_.size(); b++)
			if (refs_.get(b))
				report_.fatal("metadata block " + std::to_string(b) +
				              " is referenced but lies beyond the metadata space map");
		result.space_maps_checked = true;
	}

	pdata::block_io &io_;
	const check_options &opts_;
	check_report &report_;
	count_array refs_;
	pdata::btree_census census_;
	superblock live_;
	std::optional<superblock> snap_;
	uint64_t nr_data_blocks_ = 0;
	count_array data_refs_;
	std::unique_ptr<pdata::count_feeder> feeder_; // counts data_refs_ while the census runs
	bool counted_when_read_ = false;              // or digest_leaf() does, on the reading threads
	base::spin_lock data_refs_lock_;              // (taken by digest_leaf)
	// Runs digest_leaf found but has not yet added: the caller's thread's,
	// and the read-ahead thread's (one at a time: each level's ends before
	// the next level's starts).
	std::array<std::vector<block_run>, 2> waiting_runs_;
	std::thread::id caller_;
	// The entries of every details and top-level leaf, by leaf block.
	std::unordered_map<block_address, std::vector<std::pair<uint64_t, device_details>>> details_leaves_;
	std::unordered_map<block_address, std::vector<std::pair<uint64_t, block_address>>> top_leaves_;
	std::map<uint64_t, block_address> data_index_;
	std::optional<sm_comparison> meta_cmp_, data_cmp_;
	size_t out_of_range_lines_ = 0;
	std::vector<block_role> *roles_ = nullptr;
	std::map<block_address, uint64_t> *owners_ = nullptr;
};

} // namespace

const char *role_name(block_role r) {
	switch (r) {
	case block_role::unused: return "unused";
	case block_role::superblock: return "superblock";
	case block_role::snapshot_superblock: return "snapshot-superblock";
	case block_role::details_node: return "details-node";
	case block_role::top_level_node: return "top-level-node";
	case block_role::mapping_internal: return "mapping-internal";
	case block_role::mapping_leaf: return "mapping-leaf";
	case block_role::metadata_sm_index: return "metadata-sm-index";
	case block_role::metadata_sm_bitmap: return "metadata-sm-bitmap";
	case block_role::metadata_sm_ref_counts: return "metadata-sm-ref-counts";
	case block_role::data_sm_index: return "data-sm-index";
	case block_role::data_sm_bitmap: return "data-sm-bitmap";
	case block_role::data_sm_ref_counts: return "data-sm-ref-counts";
	}
	return "?";
}

check_result check_metadata(pdata::block_io &io, const check_options &opts, check_report &report) {
	checker c(io, opts, report);
	return c.run();
}

} // namespace thin
