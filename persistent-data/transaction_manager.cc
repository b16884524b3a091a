#include "persistent-data/transaction_manager.h"

#include <cstring>

namespace pdata {

transaction_manager::transaction_manager(block_manager &bm, space_map &sm) : bm_(bm), sm_(&sm) {}

write_ref transaction_manager::new_block(const validator &v) {
	block_address b = sm_->new_block();
	shadows_.insert(b);
	return bm_.write_zero(b, v);
}

transaction_manager::shadow_result transaction_manager::shadow(block_address b,
                                                               const validator &v) {
	if (is_shadow(b))
		return {bm_.write(b, v), false};

	read_ref orig = bm_.read(b, v);
	bool shared = sm_->count_is_more_than_one(b);
	// Allocate first, then drop the original's reference: the order the
	// kernel uses, and the one a recursive space map must replay in.
	block_address copy = sm_->new_block();
	sm_->dec(b);
	write_ref w = bm_.write_zero(copy, v);
	std::memcpy(w->data, orig->data, BLOCK_SIZE);
	shadows_.insert(copy);
	return {w, shared};
}

void transaction_manager::commit(const uint8_t *superblock) {
	bm_.commit_superblock(superblock);
	shadows_.clear();
}

} // namespace pdata
