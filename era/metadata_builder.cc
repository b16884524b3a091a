#include "era/metadata_builder.h"

#include "base/endian.h"
#include "base/xml_reader.h"
#include "era/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/btree.h"
#include "persistent-data/space_map_writer.h"
#include "persistent-data/transaction_manager.h"

#include <algorithm>
#include <map>

namespace era {
namespace {

constexpr uint64_t MAX_METADATA_BLOCKS = 255 * 16320;

class builder : public emitter {
public:
	explicit builder(pdata::block_manager &bm)
	    : meta_counts_(std::min<uint64_t>(bm.nr_blocks(), MAX_METADATA_BLOCKS)), tm_(bm, meta_counts_) {
		meta_counts_.set_count(0, 1);
	}
	void begin_superblock(const era_info &i) override {
		info_ = i;
		eras_.assign(i.nr_blocks, 0);
	}
	void begin_writeset(uint32_t era, uint32_t nr_bits) override {
		if (writesets_.count(era))
			throw base::xml_input_error("two writesets for era " + std::to_string(era));
		era_ = era;
		bits_.assign(nr_bits, false);
	}
	void writeset_bit(uint32_t block, bool value) override { bits_[block] = value; }
	void end_writeset() override {
		const auto &bits = bits_;
		block_address root = pdata::array::create(tm_, 8, pdata::bitset_words(bits.size()), [&](uint64_t w, uint8_t *out) {
			uint64_t v = 0;
			for (unsigned k = 0; k < 64 && w * 64 + k < bits.size(); k++)
				if (bits[w * 64 + k])
					v |= uint64_t(1) << k;
			base::store_le64(out, v);
		});
		writesets_[era_] = {uint32_t(bits.size()), root};
	}
	void begin_era_array() override {}
	void era(uint32_t block, uint32_t e) override { eras_[block] = e; }
	void end_era_array() override {}

	void end_superblock() override {
		superblock sb;
		std::copy_n(info_.uuid.begin(), std::min<size_t>(info_.uuid.size(), 16), sb.uuid.begin());
		sb.data_block_size = info_.block_size;
		sb.nr_blocks = uint32_t(info_.nr_blocks);
		sb.current_era = info_.current_era;
		sb.current_writeset_bits = uint32_t(info_.nr_blocks);
		pdata::btree_builder tree(tm_, WRITESET_SIZE);
		for (const auto &[e, ws] : writesets_) {
			uint8_t v[WRITESET_SIZE];
			encode_writeset(ws, v);
			tree.push_back(e, v);
		}
		sb.writeset_tree_root = tree.finish();
		sb.era_array_root = pdata::array::create(tm_, 4, eras_.size(),
		                                         [&](uint64_t i, uint8_t *out) { base::store_le32(out, eras_[i]); });
		pdata::sm_root meta = pdata::write_metadata_space_map(tm_, meta_counts_);
		pdata::encode_sm_root(meta, sb.metadata_space_map_root.data());
		std::vector<uint8_t> block(pdata::BLOCK_SIZE);
		encode_superblock(sb, block.data());
		tm_.commit(block.data());
	}

private:
	pdata::core_space_map meta_counts_;
	pdata::transaction_manager tm_;
	era_info info_;
	std::vector<uint32_t> eras_;
	std::vector<bool> bits_;
	uint32_t era_ = 0;
	std::map<uint32_t, writeset> writesets_;
};

} // namespace

std::unique_ptr<emitter> make_era_builder(pdata::block_manager &bm) { return std::make_unique<builder>(bm); }

} // namespace era
