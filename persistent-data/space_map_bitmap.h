// The blocks every on-disk space map is made of (doc/persistent-data-format.md#space-maps).
//
// Bitmap block:               Index entry (16 bytes):
//   off size field              off size field
//     0   4  csum (240779)        0   8  blocknr of the bitmap
//     4   4  not_used (0)         8   4  nr_free
//     8   8  blocknr             12   4  none_free_before
//    16 4080 2-bit counts
//
// Entry i lives in le64 word i/32 of the count area; bit 2*(i%32) is the
// HIGH bit and the next one the LOW bit.  Values 0, 1, 2; 3 means "look in
// the overflow tree" (a btree of le32 counts keyed by block).
#pragma once

#include "base/endian.h"
#include "persistent-data/block.h"

#include <cstdint>

namespace pdata {

constexpr uint32_t ENTRIES_PER_BITMAP = 16320;
constexpr size_t BITMAP_HEADER_SIZE = 16;
constexpr size_t INDEX_ENTRY_SIZE = 16;
constexpr uint32_t MAX_METADATA_BITMAPS = 255;
constexpr size_t METADATA_INDEX_OFFSET = 16; // index entries in the metadata index block
constexpr uint64_t MAX_METADATA_BLOCKS = uint64_t(MAX_METADATA_BITMAPS) * ENTRIES_PER_BITMAP;

struct index_entry {
	block_address blocknr = 0;
	uint32_t nr_free = 0;
	uint32_t none_free_before = 0;
};

inline index_entry decode_index_entry(const uint8_t *p) {
	return {base::load_le64(p), base::load_le32(p + 8), base::load_le32(p + 12)};
}

inline void encode_index_entry(const index_entry &e, uint8_t *p) {
	base::store_le64(p, e.blocknr);
	base::store_le32(p + 8, e.nr_free);
	base::store_le32(p + 12, e.none_free_before);
}

// A view of a bitmap block's counts.
class bitmap_block {
public:
	explicit bitmap_block(uint8_t *data) : d_(data) {}

	static uint32_t get(const uint8_t *data, uint32_t i) {
		uint64_t w = base::load_le64(data + BITMAP_HEADER_SIZE + 8 * (i / 32));
		unsigned k = 2 * (i % 32);
		return uint32_t(((w >> k) & 1) << 1 | ((w >> (k + 1)) & 1));
	}
	uint32_t get(uint32_t i) const { return get(d_, i); }

	void set(uint32_t i, uint32_t v) {
		uint8_t *p = d_ + BITMAP_HEADER_SIZE + 8 * (i / 32);
		uint64_t w = base::load_le64(p);
		unsigned k = 2 * (i % 32);
		w &= ~(uint64_t(3) << k);
		w |= uint64_t((v >> 1) & 1) << k | uint64_t(v & 1) << (k + 1);
		base::store_le64(p, w);
	}

private:
	uint8_t *d_;
};

} // namespace pdata
