#include "caching/metadata_builder.h"

#include "base/endian.h"
#include "base/xml_reader.h"
#include "caching/superblock.h"
#include "persistent-data/array.h"
#include "persistent-data/bitset.h"
#include "persistent-data/space_map_writer.h"
#include "persistent-data/transaction_manager.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

namespace caching {
namespace {

using base::xml_input_error;
using pdata::block_address;

constexpr uint64_t MAX_METADATA_BLOCKS = 255 * 16320;

class builder : public emitter {
public:
	builder(pdata::block_manager &bm, const build_options &o)
	    : opts_(o), meta_counts_(std::min<uint64_t>(bm.nr_blocks(), MAX_METADATA_BLOCKS)),
	      tm_(bm, meta_counts_) {
		meta_counts_.set_count(0, 1); // the superblock
	}

	void begin_superblock(const cache_info &i) override {
		info_ = i;
		mappings_.assign(i.nr_cache_blocks, 0);
		dirty_.assign(i.nr_cache_blocks, false);
		hints_.assign(i.nr_cache_blocks * i.hint_width, 0);
	}
	void begin_mappings() override {}
	void end_mappings() override {}
	void mapping(uint64_t cb, uint64_t ob, bool dirty) override {
		if (mappings_[cb])
			throw xml_input_error("cache block " + std::to_string(cb) + " is mapped twice");
		if (!origins_.insert(ob).second)
			throw xml_input_error("origin block " + std::to_string(ob) + " is mapped by two cache blocks");
		// Format 2 keeps the dirty flag out of the mapping (doc/cache-format.md#mapping-array).
		mappings_[cb] = pack_mapping(ob, dirty && opts_.version == 1);
		dirty_[cb] = dirty;
	}
	void begin_hints() override {}
	void end_hints() override {}
	void hint(uint64_t cb, const std::vector<uint8_t> &data) override {
		std::memcpy(hints_.data() + cb * info_.hint_width, data.data(), info_.hint_width);
	}
	void begin_discards() override {}
	void end_discards() override {}
	void discard(uint64_t b, uint64_t e) override {
		// The XML has no discard block count: the bitset covers the highest
		// range given (the kernel resizes it to the origin on load).
		if (e > discards_.size())
			discards_.resize(e, false);
		std::fill(discards_.begin() + long(b), discards_.begin() + long(e), true);
	}

	void end_superblock() override {
		superblock sb;
		sb.flags = opts_.clean_shutdown ? CLEAN_SHUTDOWN : 0;
		sb.version = opts_.version;
		std::copy_n(info_.policy.begin(), std::min<size_t>(info_.policy.size(), POLICY_NAME_SIZE - 1),
		            sb.policy_name.begin());
		std::copy_n(info_.uuid.begin(), std::min<size_t>(info_.uuid.size(), 16), sb.uuid.begin());
		sb.policy_hint_size = info_.hint_width;
		sb.data_block_size = info_.block_size;
		sb.cache_blocks = uint32_t(info_.nr_cache_blocks);
		uint64_t n = info_.nr_cache_blocks;
		sb.mapping_root = pdata::array::create(tm_, 8, n, [&](uint64_t i, uint8_t *out) {
			base::store_le64(out, mappings_[i]);
		});
		uint32_t w = info_.hint_width;
		sb.hint_root = pdata::array::create(tm_, w, n, [&](uint64_t i, uint8_t *out) {
			std::memcpy(out, hints_.data() + i * w, w);
		});
		sb.discard_root = write_bits(discards_);
		if (!discards_.empty()) {
			sb.discard_block_size = info_.block_size;
			sb.discard_nr_blocks = discards_.size();
		}
		if (opts_.version >= 2)
			sb.dirty_root = write_bits(dirty_);
		pdata::sm_root meta = pdata::write_metadata_space_map(tm_, meta_counts_);
		pdata::encode_sm_root(meta, sb.metadata_space_map_root.data());
		std::vector<uint8_t> block(pdata::BLOCK_SIZE);
		encode_superblock(sb, block.data());
		tm_.commit(block.data());
	}

private:
	block_address write_bits(const std::vector<bool> &bits) {
		return pdata::array::create(tm_, 8, pdata::bitset_words(bits.size()), [&](uint64_t word, uint8_t *out) {
			uint64_t v = 0;
			for (unsigned k = 0; k < 64 && word * 64 + k < bits.size(); k++)
				if (bits[word * 64 + k])
					v |= uint64_t(1) << k;
			base::store_le64(out, v);
		});
	}

	build_options opts_;
	pdata::core_space_map meta_counts_;
	pdata::transaction_manager tm_;
	cache_info info_;
	std::vector<uint64_t> mappings_;
	std::vector<bool> dirty_, discards_;
	std::vector<uint8_t> hints_;
	std::unordered_set<uint64_t> origins_;
};

} // namespace

std::unique_ptr<emitter> make_cache_builder(pdata::block_manager &bm, const build_options &opts) {
	return std::make_unique<builder>(bm, opts);
}

} // namespace caching
