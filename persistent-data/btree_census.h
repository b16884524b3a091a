// A census of many btrees at once: every distinct node is read, checked and
// decoded once, in level order with batched sorted reads, however many
// parents point at it; every pointer to it is counted.  This is how the
// checker recounts metadata references and visits the leaves of trees that
// snapshots share, without re-walking shared subtrees.
//
// Damage is reported as data (btree_damage, with the key range it loses),
// never thrown, and the census goes on with everything else.
#pragma once

#include "persistent-data/batch_reader.h"
#include "persistent-data/btree_node.h"
#include "persistent-data/btree_walker.h"
#include "persistent-data/count_array.h"

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

namespace pdata {

class btree_census {
public:
	// Every reference found is added to REFS (indexed by metadata block).
	btree_census(block_io &io, count_array &refs);

	// A tree root held by its owner (a superblock, a leaf of an upper-level
	// tree): counts one reference.  TAG is the caller's name for the tree,
	// reported with its leaves and damage.  May be called from a leaf handler
	// during run() (the roots of a second-level tree).
	void add_root(block_address root, uint32_t value_size, uint64_t tag);

	// Called once for every distinct valid leaf, with the tag of the first
	// tree that reached it.
	using leaf_handler = std::function<void(uint64_t tag, block_address leaf, node_ref n)>;
	using damage_handler = std::function<void(uint64_t tag, const btree_damage &d)>;

	// Visits everything reachable from the roots added so far (and those
	// added while running).
	void run(const leaf_handler &on_leaf, const damage_handler &on_damage);

	// The distinct valid leaves below ROOT, in no particular order.  A leaf
	// that several trees share is handed to the leaf handler once, with one
	// tree's tag; a caller that wants each tree's own entries (the live
	// details and a held metadata snapshot's, which share leaves) keeps them
	// by leaf and gathers each tree's leaves here.
	std::vector<block_address> leaves_below(block_address root) const;

	// Entries in the valid leaves below ROOT (a device's mapped_blocks);
	// shared subtrees are summed once per node, not re-walked.
	uint64_t entries_below(block_address root);

	// The same fold for any per-leaf quantity: LEAF_VALUE of every valid
	// leaf below ROOT, summed (or the maximum taken).  MEMO carries results
	// for shared subtrees between calls with the same LEAF_VALUE.
	enum class fold { sum, max };
	uint64_t fold_below(block_address root, const std::function<uint64_t(block_address leaf)> &leaf_value,
	                    std::unordered_map<block_address, uint64_t> &memo, fold how = fold::sum);

	// For every node below ROOTS, the number of distinct paths that reach
	// it from them (a root listed twice counts twice).  Cycles are cut.
	std::unordered_map<block_address, uint64_t> paths_from(const std::vector<block_address> &roots);

	bool visited(block_address b) const { return state(b) & SEEN; }
	const batch_stats &stats() const { return stats_; }

	// Require non-root nodes to be at least a third full (non-fatal damage).
	void set_check_min_fill(bool on) { check_min_fill_ = on; }

	// Within a level, nodes reached from several trees are attributed to the
	// tree whose tag has the lowest rank (e.g. live trees before a metadata
	// snapshot's), so damage is reported against the tree users care about.
	void set_tag_rank(std::function<int(uint64_t tag)> rank);

	// Called once for every distinct valid node, internal or leaf, before
	// the leaf handler (tools that map which block holds what use it).
	using node_observer = std::function<void(uint64_t tag, block_address b, node_ref n)>;
	void set_node_observer(node_observer fn) { observer_ = std::move(fn); }

	// Work on a valid leaf's bytes done by the thread that reads it, while
	// they are still in that core's cache (the checker counts a mapping
	// leaf's data blocks here: on the caller's thread, fetching them from
	// the other core again was most of its time).  With a digest, both
	// threads read (readers::both), so it may run on the caller's thread
	// and on the read-ahead thread at once, for different leaves: what it
	// shares, it must guard itself.  Called once for each distinct valid
	// leaf, before the leaf handler; never for a damaged one.  It returns
	// whether the leaf handler must see the leaf too; the handler is not
	// called for it when it returns false.
	using leaf_digest = std::function<bool(uint64_t tag, block_address leaf, node_ref n)>;
	void set_leaf_digest(leaf_digest fn) { digest_ = std::move(fn); }

	// Told the number of distinct nodes read so far, now and then.
	void set_progress(std::function<void(uint64_t nodes)> fn) { progress_ = std::move(fn); }

private:
	// A pointer to a node still to be visited, with what its parent says of
	// it.  Kept small (32 bytes): a whole tree level of these is held at
	// once, and sorted.
	struct edge {
		block_address child;
		uint64_t key_lo;
		uint64_t key_hi; // exclusive bound, meaningful when has_hi
		uint32_t tag;    // index into tags_
		uint16_t value_size;
		bool has_hi;
		bool is_root;
	};
	static_assert(sizeof(edge) == 32);

	// The caller's tags, by the index edges hold, and their ranks.
	uint32_t tag_index(uint64_t tag);
	std::vector<uint64_t> tags_;
	std::vector<int> tag_ranks_;
	std::unordered_map<uint64_t, uint32_t> tag_indices_;

	// What is remembered of a node once read: two bytes per metadata block
	// (a map for blocks past the device's end, which are never valid).  Its
	// keys are not kept: a parent met in a later level re-reads the node.
	static constexpr uint16_t SEEN = 0x8000, VALID = 0x4000, LEAF = 0x2000, ENTRIES = 0x03ff;
	uint16_t state(block_address b) const;
	void set_state(block_address b, uint16_t s);

	struct node_keys {
		uint32_t nr_entries;
		uint64_t first, last;
	};
	static node_keys keys_of(node_ref n);

	// The checks of a node made as it is read (on the reading thread), and
	// the leaf digest.
	class inspector;

	// PROBLEM: what the inspector found of DATA.  HANDLE_LEAF: whether the
	// leaf handler is to see it (the digest's answer).
	void process(const edge &e, const uint8_t *data, const std::optional<std::string> &problem,
	             bool handle_leaf, std::vector<edge> &next, const leaf_handler &on_leaf,
	             const damage_handler &on_damage);
	void check_edge(const edge &e, const node_keys &k, const damage_handler &on_damage);
	void check_late_edges(const std::vector<edge> &late, const damage_handler &on_damage);
	void lose(const edge &e, const std::string &reason, bool fatal, const damage_handler &on_damage);

	block_io &io_;
	count_array &refs_;
	std::vector<edge> pending_;
	std::vector<uint16_t> state_;
	std::unordered_map<block_address, uint16_t> state_beyond_;
	std::unordered_map<block_address, std::vector<block_address>> children_;
	std::unordered_map<block_address, uint64_t> entries_memo_;
	batch_stats stats_;
	bool check_min_fill_ = true;
	node_observer observer_;
	leaf_digest digest_;
	std::function<int(uint64_t)> rank_;
	std::function<void(uint64_t)> progress_;
	uint64_t nodes_read_ = 0;
};

} // namespace pdata
