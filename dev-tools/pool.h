// A thin pool's metadata, changed the way the kernel's dm-thin-metadata
// changes it: copy-on-write transactions over the on-disk space maps, the
// two-level mapping tree and the device details tree.  A snapshot's tree
// *is* its origin's (one more reference to the root); later writes to either
// side shadow only the paths they touch.
//
// Used by the metadata generator (tests and benchmarks) and by tools that
// change metadata in place.
#pragma once

#include "persistent-data/block_manager.h"
#include "persistent-data/btree.h"
#include "persistent-data/space_map.h"
#include "persistent-data/transaction_manager.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/superblock.h"

#include <map>
#include <memory>
#include <optional>

namespace thin {

class pool {
public:
	// Formats empty metadata on BM's device (every block of it).
	static std::unique_ptr<pool> format(pdata::block_manager &bm, uint32_t data_block_size,
	                                    uint64_t nr_data_blocks);
	// Opens committed metadata.
	static std::unique_ptr<pool> open(pdata::block_manager &bm);
	~pool();

	void create_thin(uint64_t dev);
	// A snapshot of ORIGIN: shares its whole mapping tree.
	void create_snap(uint64_t dev, uint64_t origin);
	void delete_device(uint64_t dev);

	// A free data block, now with one reference: the caller's, which
	// insert() hands to the mapping (as the kernel allocates, then maps).
	uint64_t alloc_data_block();
	// Maps VBLOCK of DEV to DATA_BLOCK (stamped with the pool's time), with
	// the reference from alloc_data_block(); an earlier mapping is replaced
	// and its data block released.
	void insert(uint64_t dev, uint64_t vblock, uint64_t data_block);
	bool remove(uint64_t dev, uint64_t vblock);
	std::optional<block_time> lookup(uint64_t dev, uint64_t vblock);

	void set_transaction_id(uint64_t id) { sb_.trans_id = id; }
	// Takes the held metadata snapshot (commits first, as the kernel does).
	void reserve_metadata_snap();
	void release_metadata_snap();

	// Writes everything, superblock last.
	void commit();

	const superblock &sb() const { return sb_; }
	pdata::transaction_manager &tm() { return *tm_; }
	pdata::space_map &data_sm() { return *data_sm_; }
	pdata::space_map &metadata_sm() { return *metadata_sm_; }
	std::map<uint64_t, device_details> devices();

private:
	pool(pdata::block_manager &bm);
	device_details details(uint64_t dev);
	void set_details(uint64_t dev, const device_details &d);
	pdata::block_address device_root(uint64_t dev);

	pdata::block_manager &bm_;
	superblock sb_;
	std::unique_ptr<pdata::core_space_map> bootstrap_;
	std::unique_ptr<pdata::space_map> metadata_sm_;
	std::unique_ptr<pdata::transaction_manager> tm_;
	std::unique_ptr<pdata::space_map> data_sm_;
	std::unique_ptr<pdata::value_ref_counter> data_refs_;
};

} // namespace thin
