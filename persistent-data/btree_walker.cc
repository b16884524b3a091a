#include "persistent-data/btree_walker.h"

#include "persistent-data/btree_node_checks.h"

#include "persistent-data/btree.h"
#include "persistent-data/checksum.h"

#include <vector>

namespace pdata {
namespace {

class walker {
public:
	walker(block_manager &bm, const walk_options &opts, btree_visitor &v)
	    : bm_(bm), opts_(opts), v_(v) {}

	void walk(const node_context &ctx) {
		auto lose = [&](const std::string &why) {
			v_.damage({ctx.block, ctx.key_lo, ctx.key_hi.value_or(UINT64_MAX), why, true});
		};
		for (block_address a : path_)
			if (a == ctx.block) {
				lose("cycle: node refers back to its ancestor");
				return;
			}
		if (ctx.depth >= MAX_BTREE_DEPTH) {
			lose("btree too deep");
			return;
		}
		read_ref r;
		std::vector<uint8_t> mended; // (a leaf read by position)
		try {
			r = bm_.read(ctx.block, btree_node_validator());
		} catch (const bad_block &e) {
			if (!opts_.leaves_by_position || !mend(ctx, mended, e.reason())) {
				lose(e.reason());
				return;
			}
		}
		node_ref n(mended.empty() ? r->data : mended.data());
		if (auto problem = node_shape_problem(n, opts_.value_size);
		    problem && !(opts_.leaves_by_position && n.is_leaf() && mend(ctx, mended, problem->substr(0, problem->find(':'))))) {
			lose(*problem);
			return;
		}
		n = node_ref(mended.empty() ? r->data : mended.data());
		uint32_t nr = n.nr_entries();
		if (nr && n.is_leaf() && opts_.leaves_by_position && mended.empty() &&
		    (n.key(0) < ctx.key_lo || (ctx.key_hi && n.key(nr - 1) >= *ctx.key_hi)) &&
		    mend(ctx, mended, "keys beyond the parent's range")) {
			n = node_ref(mended.data());
			nr = n.nr_entries();
		}
		if (auto problem = key_range_problem(nr, nr ? n.key(0) : 0, nr ? n.key(nr - 1) : 0, ctx.key_lo, ctx.key_hi)) {
			lose(*problem);
			return;
		}
		if (auto problem = max_entries_problem(n))
			v_.damage({ctx.block, 0, 0, *problem, false});
		if (auto problem = opts_.check_min_fill ? fill_problem(n, ctx.is_root) : std::nullopt)
			v_.damage({ctx.block, 0, 0, *problem, false});

		if (n.is_leaf()) {
			v_.visit_leaf(ctx, n);
			return;
		}
		if (!v_.visit_internal(ctx, n))
			return;
		path_.push_back(ctx.block);
		// The node's bytes stay pinned while the children are walked.
		for (uint32_t i = 0; i < nr; i++) {
			std::optional<uint64_t> hi = i + 1 < nr ? std::optional(n.key(i + 1)) : ctx.key_hi;
			walk({n.value64(i), ctx.depth + 1, n.key(i), hi, false});
		}
		path_.pop_back();
	}

private:
	// Reads the leaf at CTX by position into MENDED (a repair); false when
	// its checksum or block number fails too, or nothing can be read.
	bool mend(const node_context &ctx, std::vector<uint8_t> &mended, const std::string &why) {
		static const checksum_validator sound("btree node", salt::btree_node, 8);
		read_ref raw;
		try {
			raw = bm_.read(ctx.block, sound);
		} catch (const bad_block &) {
			return false;
		}
		std::string what;
		auto leaf = leaf_by_position(raw->data, opts_.value_size, ctx.key_lo, ctx.key_hi, what);
		if (!leaf)
			return false;
		mended = std::move(*leaf);
		v_.damage({ctx.block, 0, 0, why + ": read by position (" + (what.empty() ? "nothing to mend" : what) + ")",
		           false, true});
		return true;
	}

	block_manager &bm_;
	const walk_options &opts_;
	btree_visitor &v_;
	std::vector<block_address> path_;
};

} // namespace

void walk_btree(block_manager &bm, block_address root, const walk_options &opts, btree_visitor &v) {
	walker w(bm, opts, v);
	w.walk({root, 0, 0, std::nullopt, true});
}

} // namespace pdata
