// A damage-tolerant, read-only, depth-first walk of one btree, in key order.
//
// Every problem found - an unreadable or invalid node, keys out of order or
// outside the range the parent gives them, the wrong value size, a cycle -
// is reported with the key range it loses, and the walk goes on with the
// rest of the tree.  Nothing is thrown for damaged metadata.
#pragma once

#include "persistent-data/block_manager.h"
#include "persistent-data/btree_node.h"

#include <optional>
#include <string>

namespace pdata {

struct btree_damage {
	block_address block;           // the node at fault
	uint64_t lost_begin, lost_end; // half-open key range lost; lost_end == UINT64_MAX: to the end
	std::string reason;
	bool fatal;          // false for under-full nodes, max_entries not divisible by 3, and mends
	bool mended = false; // a leaf read by position (walk_options::leaves_by_position): nothing lost
};

struct node_context {
	block_address block;
	unsigned depth;
	uint64_t key_lo;
	std::optional<uint64_t> key_hi;
	bool is_root;
};

class btree_visitor {
public:
	virtual ~btree_visitor() = default;
	// Called for every valid internal node before its children; returning
	// false skips the subtree.
	virtual bool visit_internal(const node_context &, node_ref) { return true; }
	virtual void visit_leaf(const node_context &, node_ref) {}
	virtual void damage(const btree_damage &) = 0;
};

struct walk_options {
	uint32_t value_size;
	bool check_min_fill = true;
	// Repair: a leaf whose checksum and block number hold but whose header
	// or keys do not is read by position (leaf_by_position), the mend
	// reported as non-fatal damage.  (Internal nodes are not mended: the
	// subtrees a damaged one cuts off are found as orphans.)
	bool leaves_by_position = false;
};

void walk_btree(block_manager &bm, block_address root, const walk_options &opts, btree_visitor &v);

} // namespace pdata
