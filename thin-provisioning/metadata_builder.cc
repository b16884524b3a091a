#include "thin-provisioning/metadata_builder.h"

#include "persistent-data/btree.h"
#include "persistent-data/count_array.h"
#include "persistent-data/shared_btree_builder.h"
#include "persistent-data/space_map_writer.h"
#include "persistent-data/transaction_manager.h"
#include "thin-provisioning/superblock.h"
#include "thin-provisioning/xml_parser.h"

#include <algorithm>
#include <map>
#include <vector>

namespace thin {
namespace {

using pdata::block_address;

class metadata_builder : public emitter {
public:
	metadata_builder(pdata::block_manager &bm, const build_overrides &o)
	    : overrides_(o), nr_metadata_blocks_(std::min(bm.nr_blocks(), MAX_METADATA_BLOCKS)),
	      meta_counts_(nr_metadata_blocks_), tm_(bm, meta_counts_), dict_(tm_) {
		meta_counts_.set_count(0, 1); // the superblock
	}

	void begin_superblock(const superblock_info &sb) override {
		info_ = sb;
		if (overrides_.transaction_id)
			info_.transaction = *overrides_.transaction_id;
		if (overrides_.data_block_size)
			info_.data_block_size = *overrides_.data_block_size;
		if (overrides_.nr_data_blocks)
			info_.nr_data_blocks = *overrides_.nr_data_blocks;
		if (info_.nr_data_blocks > MAX_DATA_BLOCK + 1)
			throw input_error("nr_data_blocks " + std::to_string(info_.nr_data_blocks) +
			                  " exceeds the 40-bit limit of data block numbers");
		if (info_.version < 1 || info_.version > 2)
			throw input_error("unsupported metadata version " + std::to_string(info_.version));
		data_counts_.resize(info_.nr_data_blocks);
		started_ = true;
	}

	void begin_device(uint64_t dev, const device_details &d) override {
		if (devices_.count(dev))
			throw input_error("device " + std::to_string(dev) + " is defined twice");
		dev_ = dev;
		details_ = d;
		builder_ = new_tree_builder();
		last_origin_.reset();
		late_.clear();
	}

	void range_map(uint64_t origin, uint64_t data, uint32_t time, uint64_t len) override {
		check_data_range(origin, data, len);
		for (uint64_t i = 0; i < len; i++)
			add(origin + i, data + i, time);
	}

	void single_map(uint64_t origin, uint64_t data, uint32_t time) override {
		check_data_range(origin, data, 1);
		add(origin, data, time);
	}

	void end_device() override {
		block_address root = builder_->finish();
		builder_.reset();
		if (!late_.empty())
			root = insert_late(root);
		devices_[dev_] = {root, details_};
	}

	void end_superblock() override {
		if (!started_)
			throw input_error("no <superblock>");
		pdata::btree_builder details(tm_, DEVICE_DETAILS_SIZE);
		pdata::btree_builder top(tm_, MAPPING_VALUE_SIZE);
		for (const auto &[dev, d] : devices_) {
			uint8_t v[DEVICE_DETAILS_SIZE];
			encode_device_details(d.details, v);
			details.push_back(dev, v);
			top.push_back64(dev, d.root);
		}
		superblock sb;
		sb.flags = info_.flags;
		sb.version = info_.version;
		sb.time = info_.time;
		sb.trans_id = info_.transaction;
		sb.device_details_root = details.finish();
		sb.data_mapping_root = top.finish();
		sb.data_block_size = info_.data_block_size;
		sb.metadata_nr_blocks = nr_metadata_blocks_;
		std::copy_n(info_.uuid.begin(), std::min<size_t>(info_.uuid.size(), 16), sb.uuid.begin());

		pdata::sm_root data_root = pdata::write_disk_space_map(tm_, data_counts_);
		pdata::encode_sm_root(data_root, sb.data_space_map_root.data());
		pdata::sm_root meta_root = pdata::write_metadata_space_map(tm_, meta_counts_);
		pdata::encode_sm_root(meta_root, sb.metadata_space_map_root.data());

		std::vector<uint8_t> block(pdata::BLOCK_SIZE);
		encode_superblock(sb, block.data());
		tm_.commit(block.data());
	}

private:
	struct device {
		block_address root;
		device_details details;
	};

	struct late_mapping {
		uint64_t origin;
		uint64_t value;
	};

	void check_data_range(uint64_t origin, uint64_t data, uint64_t len) const {
		if (!builder_)
			throw input_error("mapping outside a device");
		if (data >= info_.nr_data_blocks || len > info_.nr_data_blocks - data)
			throw input_error("thin device " + std::to_string(dev_) + ": mapping of block " +
			                  std::to_string(origin) + " to data block " +
			                  std::to_string(data + len - 1) + " is beyond nr_data_blocks (" +
			                  std::to_string(info_.nr_data_blocks) + ")");
	}

	// Trees are built with node sharing: identical nodes (snapshots) are
	// written once.  Data blocks are counted once per leaf written, as the
	// kernel counts them (a shared leaf holds one reference).
	std::unique_ptr<pdata::shared_btree_builder> new_tree_builder() {
		return std::make_unique<pdata::shared_btree_builder>(
		    tm_, MAPPING_VALUE_SIZE, dict_, [this](pdata::node_ref leaf) {
			    for (uint32_t i = 0; i < leaf.nr_entries(); i++)
				    data_counts_.inc(unpack_block_time(leaf.value64(i)).data_block);
		    });
	}

	void add(uint64_t origin, uint64_t data, uint32_t time) {
		if (time > MAX_TIME)
			throw input_error("mapping time " + std::to_string(time) + " exceeds 24 bits");
		uint64_t value = pack_block_time({data, time});
		if (last_origin_ && origin <= *last_origin_) {
			// Out of order (hand-edited XML): inserted after the bulk build.
			late_.push_back({origin, value});
			return;
		}
		builder_->push_back64(origin, value);
		last_origin_ = origin;
	}

	// Mappings that arrived out of order (hand-edited XML): merge them with
	// the tree built so far and build the device's tree again.  Rare, so it
	// may cost a second pass over one device.
	block_address insert_late(block_address root) {
		std::vector<late_mapping> all;
		pdata::btree(tm_, root, MAPPING_VALUE_SIZE).for_each([&](uint64_t k, const uint8_t *v) {
			all.push_back({k, base::load_le64(v)});
		});
		all.insert(all.end(), late_.begin(), late_.end());
		std::sort(all.begin(), all.end(),
		          [](const auto &a, const auto &b) { return a.origin < b.origin; });
		for (size_t i = 1; i < all.size(); i++)
			if (all[i - 1].origin == all[i].origin)
				throw input_error("thin device " + std::to_string(dev_) +
				                  ": overlapping mappings for block " + std::to_string(all[i].origin));
		data_refs refs(data_counts_);
		pdata::btree(tm_, root, MAPPING_VALUE_SIZE, refs).destroy();
		dict_.forget_freed_nodes();
		auto rebuilt = new_tree_builder();
		for (const auto &m : all)
			rebuilt->push_back64(m.origin, m.value);
		return rebuilt->finish();
	}

	// Drops data references held in memory when a tree is deleted.
	class data_refs : public pdata::value_ref_counter {
	public:
		explicit data_refs(pdata::count_array &c) : c_(c) {}
		void inc(const uint8_t *v) override { c_.inc(unpack_block_time(base::load_le64(v)).data_block); }
		void dec(const uint8_t *v) override { c_.dec(unpack_block_time(base::load_le64(v)).data_block); }

	private:
		pdata::count_array &c_;
	};

	build_overrides overrides_;
	uint64_t nr_metadata_blocks_;
	pdata::core_space_map meta_counts_;
	pdata::transaction_manager tm_;
	pdata::node_dictionary dict_;
	pdata::count_array data_counts_;
	superblock_info info_;
	bool started_ = false;

	uint64_t dev_ = 0;
	device_details details_;
	std::unique_ptr<pdata::shared_btree_builder> builder_;
	std::optional<uint64_t> last_origin_;
	std::vector<late_mapping> late_;
	std::map<uint64_t, device> devices_;
};

} // namespace

std::unique_ptr<emitter> make_metadata_builder(pdata::block_manager &bm,
                                               const build_overrides &overrides) {
	return std::make_unique<metadata_builder>(bm, overrides);
}

} // namespace thin
