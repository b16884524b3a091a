// Removal from a copy-on-write btree, rebalancing on the way down as the
// kernel does: each child the search descends into is first merged with or
// evened out against one or two siblings, so nodes stay reasonably full
// without a second pass back up the tree.
#include "persistent-data/btree.h"

#include "persistent-data/btree_spine.h"

namespace pdata {

bool btree::remove(uint64_t key) {
	shadow_spine spine(tm_, rc_);
	spine.step(root_);
	bool found = false;
	for (unsigned depth = 0; depth < MAX_BTREE_DEPTH; depth++) {
		if (spine.current().is_leaf())
			break;
		if (!spine.rebalance_children(key))
			break;
		node_mut n = spine.current();
		if (n.is_leaf())
			break;
		int i = n.lower_bound(key);
		if (i < 0)
			break;
		spine.step_child(uint32_t(i));
	}
	node_mut n = spine.current();
	if (n.is_leaf()) {
		int i = n.lower_bound(key);
		if (i >= 0 && n.key(uint32_t(i)) == key) {
			rc_.dec(n.value(uint32_t(i)));
			n.delete_at(uint32_t(i));
			found = true;
		}
	}
	// Even a miss has shadowed (and perhaps rebalanced) the path: the root
	// may have moved.
	root_ = spine.root();
	return found;
}

} // namespace pdata
