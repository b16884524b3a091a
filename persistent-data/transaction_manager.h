// Copy-on-write transactions over a block manager and a space map.
//
// A block reachable from the committed superblock is never written: to
// change it, shadow() copies it to a newly allocated block (the "shadow")
// and drops one reference to the original.  Blocks allocated or shadowed in
// the current transaction may be changed in place.  commit() writes every
// dirty block, then the superblock, so a crash at any point leaves the last
// committed state intact.
#pragma once

#include "persistent-data/block_manager.h"
#include "persistent-data/space_map.h"

#include <unordered_set>

namespace pdata {

class transaction_manager {
public:
	transaction_manager(block_manager &bm, space_map &sm);
	// For a metadata space map that installs itself (set_sm) when it is
	// created or opened on this transaction manager.
	explicit transaction_manager(block_manager &bm) : bm_(bm), sm_(nullptr) {}

	block_manager &bm() { return bm_; }
	space_map &sm() { return *sm_; }
	// The metadata space map allocates through a temporary map while it is
	// being created, then switches the transaction manager to itself.
	void set_sm(space_map &sm) { sm_ = &sm; }

	read_ref read(block_address b, const validator &v) { return bm_.read(b, v); }

	// A new zeroed block with reference count 1, writable in place.
	write_ref new_block(const validator &v);

	struct shadow_result {
		write_ref block;
		// True when the original was shared (count > 1 before the shadow):
		// the caller must then add a reference to everything the copy points
		// at, since the copy is a new parent of those children.
		bool inc_children;
	};
	// A writable version of B: B itself when it was allocated in this
	// transaction, else a copy in a new block (B's count drops by one).
	shadow_result shadow(block_address b, const validator &v);
	bool is_shadow(block_address b) const { return shadows_.count(b) != 0; }

	void inc(block_address b) { sm_->inc(b); }
	void dec(block_address b) { sm_->dec(b); }

	// Writes every dirty block, syncs, writes SUPERBLOCK (already sealed)
	// to block 0, syncs.  The space maps must have been committed and their
	// roots copied into the superblock by the caller beforehand.
	void commit(const uint8_t *superblock);

private:
	block_manager &bm_;
	space_map *sm_;
	std::unordered_set<block_address> shadows_;
};

} // namespace pdata
