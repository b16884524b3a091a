#include "dev-tools/pool.h"

#include "base/error.h"
#include "persistent-data/checksum.h"
#include "persistent-data/space_map_bitmap.h"
#include "persistent-data/space_map_disk.h"
#include "persistent-data/space_map_metadata.h"
#include "persistent-data/two_level_btree.h"

#include <stdexcept>

namespace thin {
namespace {

using pdata::block_address;

const pdata::checksum_validator &superblock_validator() {
	static const pdata::checksum_validator v("superblock", pdata::salt::thin_superblock, 8);
	return v;
}

// Mapping values hold a reference to their data block; two values are
// equal when they map the same data block, whatever their time.
class data_block_refs : public pdata::value_ref_counter {
public:
	explicit data_block_refs(pdata::space_map &sm) : sm_(sm) {}
	void inc(const uint8_t *v) override { sm_.inc(unpack_block_time(base::load_le64(v)).data_block); }
	void dec(const uint8_t *v) override { sm_.dec(unpack_block_time(base::load_le64(v)).data_block); }
	bool equal(const uint8_t *a, const uint8_t *b, uint32_t) const override {
		return unpack_block_time(base::load_le64(a)).data_block ==
		       unpack_block_time(base::load_le64(b)).data_block;
	}

private:
	pdata::space_map &sm_;
};

} // namespace

pool::pool(pdata::block_manager &bm) : bm_(bm) {}
pool::~pool() = default;

std::unique_ptr<pool> pool::format(pdata::block_manager &bm, uint32_t data_block_size,
                                   uint64_t nr_data_blocks) {
	std::unique_ptr<pool> p(new pool(bm));
	uint64_t nr_meta = std::min<uint64_t>(bm.nr_blocks(), pdata::MAX_METADATA_BLOCKS);
	p->tm_ = std::make_unique<pdata::transaction_manager>(bm);
	p->metadata_sm_ = pdata::metadata_space_map::create(*p->tm_, nr_meta, 0);
	p->data_sm_ = pdata::disk_space_map::create(*p->tm_, nr_data_blocks);
	p->data_refs_ = std::make_unique<data_block_refs>(*p->data_sm_);
	p->sb_.data_mapping_root = pdata::two_level_btree::create_empty(*p->tm_);
	p->sb_.device_details_root = pdata::btree::create_empty(*p->tm_, DEVICE_DETAILS_SIZE);
	p->sb_.data_block_size = data_block_size;
	p->sb_.metadata_nr_blocks = nr_meta;
	p->commit();
	return p;
}

std::unique_ptr<pool> pool::open(pdata::block_manager &bm) {
	std::unique_ptr<pool> p(new pool(bm));
	pdata::read_ref r = bm.read(0, superblock_validator());
	p->sb_ = decode_superblock(r->data);
	r.reset();
	p->tm_ = std::make_unique<pdata::transaction_manager>(bm);
	p->metadata_sm_ = pdata::metadata_space_map::open(*p->tm_, p->sb_.metadata_space_map_root.data());
	p->data_sm_ = pdata::disk_space_map::open(*p->tm_, p->sb_.data_space_map_root.data());
	p->data_refs_ = std::make_unique<data_block_refs>(*p->data_sm_);
	return p;
}

std::map<uint64_t, device_details> pool::devices() {
	std::map<uint64_t, device_details> out;
	pdata::btree(*tm_, sb_.device_details_root, DEVICE_DETAILS_SIZE)
	    .for_each([&](uint64_t dev, const uint8_t *v) { out[dev] = decode_device_details(v); });
	return out;
}

device_details pool::details(uint64_t dev) {
	uint8_t v[DEVICE_DETAILS_SIZE];
	if (!pdata::btree(*tm_, sb_.device_details_root, DEVICE_DETAILS_SIZE).lookup(dev, v))
		throw std::invalid_argument("no thin device " + std::to_string(dev));
	return decode_device_details(v);
}

void pool::set_details(uint64_t dev, const device_details &d) {
	uint8_t v[DEVICE_DETAILS_SIZE];
	encode_device_details(d, v);
	pdata::btree t(*tm_, sb_.device_details_root, DEVICE_DETAILS_SIZE);
	t.insert(dev, v);
	sb_.device_details_root = t.root();
}

void pool::create_thin(uint64_t dev) {
	pdata::two_level_btree tree(*tm_, sb_.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_);
	if (tree.subtree(dev))
		throw std::invalid_argument("thin device " + std::to_string(dev) + " already exists");
	tree.insert_subtree(dev, pdata::btree::create_empty(*tm_, MAPPING_VALUE_SIZE));
	sb_.data_mapping_root = tree.root();
	set_details(dev, {0, sb_.trans_id, sb_.time, sb_.time});
}

void pool::create_snap(uint64_t dev, uint64_t origin) {
	pdata::two_level_btree tree(*tm_, sb_.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_);
	if (tree.subtree(dev))
		throw std::invalid_argument("thin device " + std::to_string(dev) + " already exists");
	auto root = tree.subtree(origin);
	if (!root)
		throw std::invalid_argument("no thin device " + std::to_string(origin));
	// The snapshot *is* the origin's tree: one more reference to its root.
	tm_->inc(*root);
	tree.insert_subtree(dev, *root);
	sb_.data_mapping_root = tree.root();
	sb_.time++;
	device_details o = details(origin);
	o.snapshotted_time = sb_.time;
	set_details(origin, o);
	set_details(dev, {o.mapped_blocks, sb_.trans_id, sb_.time, sb_.time});
}

void pool::delete_device(uint64_t dev) {
	pdata::two_level_btree tree(*tm_, sb_.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_);
	if (!tree.remove_subtree(dev))
		throw std::invalid_argument("no thin device " + std::to_string(dev));
	sb_.data_mapping_root = tree.root();
	pdata::btree t(*tm_, sb_.device_details_root, DEVICE_DETAILS_SIZE);
	t.remove(dev);
	sb_.device_details_root = t.root();
}

uint64_t pool::alloc_data_block() { return data_sm_->new_block(); }

void pool::insert(uint64_t dev, uint64_t vblock, uint64_t data_block) {
	pdata::two_level_btree tree(*tm_, sb_.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_);
	uint8_t old[8];
	bool existed = tree.lookup(dev, vblock, old);
	uint8_t v[8];
	base::store_le64(v, pack_block_time({data_block, sb_.time}));
	tree.insert(dev, vblock, v);
	sb_.data_mapping_root = tree.root();
	if (!existed) {
		device_details d = details(dev);
		d.mapped_blocks++;
		set_details(dev, d);
	}
}

bool pool::remove(uint64_t dev, uint64_t vblock) {
	pdata::two_level_btree tree(*tm_, sb_.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_);
	bool found = tree.remove(dev, vblock);
	sb_.data_mapping_root = tree.root();
	if (found) {
		device_details d = details(dev);
		d.mapped_blocks--;
		set_details(dev, d);
	}
	return found;
}

std::optional<block_time> pool::lookup(uint64_t dev, uint64_t vblock) {
	pdata::two_level_btree tree(*tm_, sb_.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_);
	uint8_t v[8];
	if (!tree.lookup(dev, vblock, v))
		return std::nullopt;
	return unpack_block_time(base::load_le64(v));
}

void pool::reserve_metadata_snap() {
	if (sb_.metadata_snap)
		throw std::invalid_argument("a metadata snapshot is already held");
	commit(); // the roots the copy keeps must be on disk
	metadata_sm_->inc(SUPERBLOCK_LOCATION);
	auto copy = tm_->shadow(SUPERBLOCK_LOCATION, superblock_validator());
	superblock snap = decode_superblock(copy.block->data);
	snap.data_space_map_root.fill(0);
	snap.metadata_space_map_root.fill(0);
	snap.blocknr = copy.block->location;
	encode_superblock(snap, copy.block->data);
	tm_->inc(snap.data_mapping_root);
	tm_->inc(snap.device_details_root);
	sb_.metadata_snap = copy.block->location;
}

void pool::release_metadata_snap() {
	if (!sb_.metadata_snap)
		throw std::invalid_argument("no metadata snapshot is held");
	superblock snap = decode_superblock(tm_->read(sb_.metadata_snap, superblock_validator())->data);
	pdata::two_level_btree(*tm_, snap.data_mapping_root, MAPPING_VALUE_SIZE, *data_refs_).destroy();
	pdata::btree(*tm_, snap.device_details_root, DEVICE_DETAILS_SIZE).destroy();
	tm_->dec(sb_.metadata_snap);
	sb_.metadata_snap = 0;
}

void pool::commit() {
	data_sm_->commit();
	metadata_sm_->commit();
	std::copy(data_sm_->root().begin(), data_sm_->root().end(), sb_.data_space_map_root.begin());
	std::copy(metadata_sm_->root().begin(), metadata_sm_->root().end(),
	          sb_.metadata_space_map_root.begin());
	std::vector<uint8_t> block(pdata::BLOCK_SIZE);
	encode_superblock(sb_, block.data());
	tm_->commit(block.data());
}

} // namespace thin
