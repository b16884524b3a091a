#include "persistent-data/metadata_sm_check.h"

#include "persistent-data/btree_walker.h"
#include "persistent-data/space_map_reader.h"
#include "persistent-data/space_map_report.h"

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
		if (values_)
			for (uint32_t i = 0; i < n.nr_entries(); i++)
				inc(n.value64(i));
	}
	void damage(const btree_damage &) override {} // (the caller's walk reports it)

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

bool check_metadata_space_map(block_manager &bm, const sm_root &root, count_array &refs, base::check_report &report,
                              std::vector<sm_count_mismatch> &leaks) {
	sm_index index = read_metadata_index(bm.io(), root);
	for (const auto &d : index.damage)
		report.fatal(d.reason);
	if (!index.usable)
		return false;
	bool read_whole = index.damage.empty();
	refs.inc(root.bitmap_root);
	overflow_counts tree = read_overflow_counts(bm, root.ref_count_root);
	for (block_address b : tree.nodes)
		if (b < refs.size())
			refs.inc(b);
	if (tree.damaged) {
		report.fatal("metadata space map: reference count tree is damaged");
		read_whole = false;
	}
	for (block_address b : index.bitmaps)
		if (b < refs.size())
			refs.inc(b);

	sm_comparison cmp("metadata", root.nr_blocks, true);
	for (const auto &[b, c] : tree.counts)
		cmp.note_overflow(b, c, refs);
	read_bitmaps(
	    bm.io(), index, [&](uint64_t i, block_address, const uint8_t *data) { cmp.compare_bitmap(i, data, refs); },
	    [&](uint64_t i, block_address b, const uint8_t *data, const std::optional<std::string> &problem) {
		    if (!data || problem) {
			    report.fatal(bitmap_damage_text("metadata", i, b, data, problem.value_or("")));
			    read_whole = false;
		    }
	    });
	if (!read_whole) {
		// The counts cannot be trusted; report only how the map disagrees.
		for (const auto &p : cmp.problems_only())
			report.fatal(p.text);
		return false;
	}
	return report_space_map_comparison(report, cmp, leaks);
}

} // namespace pdata
