// era_check's recount of the references era metadata makes to its own
// blocks, as the kernel's space map keeps them: one per pointer (a root a
// superblock holds, a btree child, a writeset held by the writeset tree,
// an array block).  A metadata snapshot shares whole subtrees with the live
// superblock until the kernel copies them on write; a node reached again
// through a second pointer is counted again but not walked again, since
// its children were counted once for it.
#pragma once

#include "persistent-data/block_manager.h"
#include "persistent-data/count_array.h"

#include <vector>

namespace era {

class reference_counter {
public:
	reference_counter(pdata::block_manager &bm, pdata::count_array &refs);

	// The writeset tree at ROOT and each writeset's bitset it holds.
	void writeset_tree(pdata::block_address root);
	// A dm-array (the era array, a writeset's bitset) at ROOT.
	void array(pdata::block_address root);

private:
	// Whether B was reached before (and remember it now).
	bool seen(pdata::block_address b);
	void inc(pdata::block_address b);
	friend class counting_visitor;

	pdata::block_manager &bm_;
	pdata::count_array &refs_;
	std::vector<bool> seen_;
};

} // namespace era
