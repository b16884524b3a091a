// Reference counts for every block of a device, held compactly in memory:
// four bits per block (two blocks a byte), in pages allocated as they are
// first written.  A count of 15 and above is held in a byte per block of a
// "wide" page, allocated for the pages that have such counts, and one of
// 255 and above in four bytes per block of a "huge" page, likewise.  (A
// side table keyed by block was used for those: in a pool of thousands of
// snapshots of one origin every origin block counts thousands of leaf
// copies, and the table's two look-ups an increment made thin_check's cost
// per mapping grow with the pool, 12 ns at 1 GiB of metadata, 45 at 16.)  Used by writers that build metadata from scratch
// (restore, repair) and by the checker that recounts everything.
//
// Why four bits: in pools with snapshots many data blocks are held by
// several copies of a leaf (counts of 3-6 are common), so the kernel's own
// 2-bit scheme would push millions of blocks into the side table, while a
// byte per block doubles the memory for counts that are rarely above 14.
#pragma once

#include "persistent-data/block.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pdata {

class count_array {
public:
	explicit count_array(uint64_t nr_blocks = 0) { resize(nr_blocks); }

	uint64_t size() const { return size_; }
	void resize(uint64_t nr_blocks) {
		// (Rounded up without overflow: a damaged size near 2^64 must fail
		// to allocate, not wrap to a small array.)
		pages_.resize(nr_blocks / PAGE_BLOCKS + (nr_blocks % PAGE_BLOCKS != 0));
		wide_.resize(pages_.size());
		huge_.resize(pages_.size());
		if (nr_blocks < size_) {
			// Forget what lies past the new end in its last page.
			uint64_t page_end = std::min(size_, (nr_blocks + PAGE_BLOCKS - 1) / PAGE_BLOCKS * PAGE_BLOCKS);
			for (uint64_t b = nr_blocks; b < page_end; b++)
				set_small(b, 0);
		}
		size_ = nr_blocks;
	}

	uint32_t get(block_address b) const {
		uint32_t s = small(b);
		if (s != BIG)
			return s;
		uint32_t w = (*wide_[b / PAGE_BLOCKS])[b % PAGE_BLOCKS];
		return w == HUGE ? (*huge_[b / PAGE_BLOCKS])[b % PAGE_BLOCKS] : w;
	}

	void set(block_address b, uint32_t c) {
		if (c < BIG) {
			set_small(b, c);
			return;
		}
		set_small(b, BIG);
		auto &w = wide_[b / PAGE_BLOCKS];
		if (!w)
			w = std::make_unique<wide_page>(PAGE_BLOCKS, 0);
		(*w)[b % PAGE_BLOCKS] = uint8_t(c < HUGE ? c : HUGE);
		if (c >= HUGE) {
			auto &h = huge_[b / PAGE_BLOCKS];
			if (!h)
				h = std::make_unique<huge_page>(PAGE_BLOCKS, 0);
			(*h)[b % PAGE_BLOCKS] = c;
		}
	}

	[[gnu::always_inline]] void inc(block_address b, uint32_t by = 1) {
		check(b);
		inc_in(pages_[b / PAGE_BLOCKS].get(), b, by);
	}

	void dec(block_address b) {
		uint32_t c = get(b);
		if (!c)
			throw std::underflow_error("count of block " + std::to_string(b) + " is already 0");
		set(b, c - 1);
	}

	// The counts of blocks FIRST..FIRST+31 as one 64-bit word of a space-map
	// bitmap encodes them (doc/persistent-data-format.md#bitmap-blocks: entry i in bits 2i (high) and
	// 2i+1 (low), counts above 2 as 3); blocks past the end count 0.  Lets a
	// checker compare a stored bitmap with a recount a word at a time.
	uint64_t bitmap_word(block_address first) const {
		if (first % 32 == 0 && first + 32 <= size_) {
			// 32 counts are 16 bytes of one page: convert them 16 at a time.
			const page *p = page_of(first);
			if (!p)
				return 0;
			const uint8_t *at = p->data() + (first % PAGE_BLOCKS) / 2;
			return bitmap_half(load64(at)) | bitmap_half(load64(at + 8)) << 32;
		}
		uint64_t word = 0;
		uint64_t n = first >= size_ ? 0 : std::min<uint64_t>(32, size_ - first);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t c = raw(first + i);
			c = c > 3 ? 3 : c;
			word |= ((c >> 1) | ((c & 1) << 1)) << (2 * i);
		}
		return word;
	}

	// Number of blocks with a non-zero count.
	uint64_t nr_allocated() const {
		uint64_t n = 0;
		for (const auto &p : pages_)
			if (p)
				for (uint8_t byte : *p)
					n += (byte & 0x0f) != 0 ? 1 : 0, n += (byte >> 4) != 0 ? 1 : 0;
		return n;
	}

private:
	static uint64_t load64(const uint8_t *p) {
		uint64_t v = 0;
		for (int i = 7; i >= 0; i--)
			v = v << 8 | p[i]; // (compiles to one load)
		return v;
	}
	// 16 four-bit counts (the first in the low nibble) as the 32 low bits of
	// a bitmap word: each count capped at 3, its two bits swapped (the high
	// bit first), packed two bits apart.
	static uint64_t bitmap_half(uint64_t x) {
		const uint64_t ones = 0x1111111111111111ull;
		uint64_t big = ((x >> 2) | (x >> 3)) & ones;    // count >= 4
		uint64_t c = (x & 0x3333333333333333ull) | big | big << 1;
		c = ((c >> 1) & ones) | ((c & ones) << 1);     // swap the two bits
		c = (c | c >> 2) & 0x0f0f0f0f0f0f0f0full;    // 2 bits per nibble -> 4 per byte
		c = (c | c >> 4) & 0x00ff00ff00ff00ffull;
		c = (c | c >> 8) & 0x0000ffff0000ffffull;
		return (c | c >> 16) & 0xffffffffull;
	}

	static constexpr uint32_t BIG = 15;   // in the nibble: see the wide page
	static constexpr uint32_t HUGE = 255; // in the wide page: see the huge page
	// Counts live in pages of 64Ki blocks, allocated on first write: a map of
	// a huge, mostly unused device (a pool's data device, or what a hostile
	// input claims) costs only the pages in use.
	static constexpr uint64_t PAGE_BLOCKS = 1 << 16;
	using page = std::vector<uint8_t>; // PAGE_BLOCKS / 2 bytes, two counts a byte
	using wide_page = std::vector<uint8_t>; // PAGE_BLOCKS bytes
	using huge_page = std::vector<uint32_t>; // PAGE_BLOCKS counts

	const page *page_of(block_address b) const { return pages_[b / PAGE_BLOCKS].get(); }
	// Adds BY to B's count, P being B's page (null if not allocated yet).
	// In place when the page exists and the count stays below BIG (nearly
	// every increment), in the wide page (data blocks shared by many
	// snapshots) or in the huge page (an origin's blocks under thousands
	// of snapshots); through get and set when it crosses into one.
	[[gnu::always_inline]] void inc_in(page *p, block_address b, uint32_t by) {
		if (p) [[likely]] {
			uint8_t &byte = (*p)[(b % PAGE_BLOCKS) / 2];
			unsigned shift = unsigned(4 * (b % 2));
			uint32_t s = (byte >> shift) & 0x0f;
			if (s + by < BIG) {
				byte = uint8_t(byte + (by << shift));
				return;
			}
			if (s == BIG) {
				uint8_t &w = (*wide_[b / PAGE_BLOCKS])[b % PAGE_BLOCKS];
				if (w + by < HUGE) {
					w = uint8_t(w + by);
					return;
				}
				if (w == HUGE) {
					(*huge_[b / PAGE_BLOCKS])[b % PAGE_BLOCKS] += by;
					return;
				}
			}
		}
		uint32_t s = small(b);
		if (s + by < BIG)
			set_small(b, s + by);
		else
			set(b, get(b) + by);
	}
	uint32_t raw(block_address b) const {
		const page *p = page_of(b);
		return p ? ((*p)[(b % PAGE_BLOCKS) / 2] >> (4 * (b % 2))) & 0x0f : 0;
	}

	[[gnu::always_inline]] uint32_t small(block_address b) const {
		check(b);
		return raw(b);
	}
	void set_small(block_address b, uint32_t v) {
		auto &p = pages_[b / PAGE_BLOCKS];
		if (!p) {
			if (!v)
				return;
			p = std::make_unique<page>(PAGE_BLOCKS / 2, 0);
		}
		uint8_t &byte = (*p)[(b % PAGE_BLOCKS) / 2];
		unsigned shift = unsigned(4 * (b % 2));
		byte = uint8_t((byte & ~(0x0f << shift)) | (v << shift));
	}
	void check(block_address b) const {
		if (b >= size_) [[unlikely]]
			out_of_range(b);
	}
	[[noreturn, gnu::cold, gnu::noinline]] void out_of_range(block_address b) const {
		throw std::out_of_range("block " + std::to_string(b) + " is beyond the count array (" +
		                        std::to_string(size_) + " blocks)");
	}

	uint64_t size_ = 0;
	std::vector<std::unique_ptr<page>> pages_;
	std::vector<std::unique_ptr<wide_page>> wide_;
	std::vector<std::unique_ptr<huge_page>> huge_;

public:
	// inc() for a run of calls that mostly fall in one page (the blocks of
	// one btree leaf): the page is looked up once, not once a block.
	class incrementer {
	public:
		explicit incrementer(count_array &a) : a_(a) {}
		[[gnu::always_inline]] void inc(block_address b) {
			a_.check(b);
			inc_inside(b);
		}
		// For a caller that has already compared B with the array's size.
		[[gnu::always_inline]] void inc_inside(block_address b) {
			look_up_page(b);
			a_.inc_in(page_, b, 1); // (a null page_ is looked up again next time)
		}

		// Adds 1 to the counts of blocks B..B+N-1, all inside the array.
		// Mapping leaves mostly hold runs of consecutive data blocks (a
		// volume written in order is allocated in order): sixteen counts
		// of a run are raised with one addition when none of them is about
		// to leave the nibble.
		void inc_run_inside(block_address b, uint64_t n) {
			while (n) {
				look_up_page(b);
				// Whole bytes (two counts), eight at a time when the run
				// and the page go on that far.  A count at 14 or 15 has
				// bits 1, 2 and 3 set: it goes through inc_in.
				if (page_ && b % 2 == 0 && n >= 2) [[likely]] {
					uint64_t in_page = b % PAGE_BLOCKS;
					uint8_t *at = page_->data() + in_page / 2;
					if (n >= 16 && PAGE_BLOCKS - in_page >= 16) {
						uint64_t word;
						std::memcpy(&word, at, 8);
						if (!(word & (word >> 1) & (word >> 2) & 0x2222222222222222ull)) {
							word += 0x1111111111111111ull; // (no carries: all below 14)
							std::memcpy(at, &word, 8);
							b += 16, n -= 16;
							continue;
						}
					}
					if (!(*at & (*at >> 1) & (*at >> 2) & 0x22)) {
						*at = uint8_t(*at + 0x11);
						b += 2, n -= 2;
						continue;
					}
				}
				a_.inc_in(page_, b, 1); // (a null page_ is looked up again next time)
				b++, n--;
			}
		}

	private:
		// page_ becomes B's page (null while it is not allocated).
		[[gnu::always_inline]] void look_up_page(block_address b) {
			uint64_t index = b / PAGE_BLOCKS;
			if (index != index_ || !page_) [[unlikely]] {
				index_ = index;
				page_ = a_.pages_[index].get();
			}
		}

		count_array &a_;
		uint64_t index_ = UINT64_MAX;
		page *page_ = nullptr;
	};
};

} // namespace pdata
