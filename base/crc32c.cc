#include "base/crc32c.h"

#include <array>
#include <cstring>

namespace base {
namespace {

constexpr uint32_t POLY = 0x82f63b78; // reflected Castagnoli polynomial

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes.
struct tables {
	std::array<std::array<uint32_t, 256>, 8> t{};
	constexpr tables() {
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t c = b;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
			t[0][b] = c;
		}
		for (uint32_t b = 0; b < 256; b++)
			for (int k = 1; k < 8; k++)
				t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
	}
};

constexpr tables TABLES;

} // namespace

uint32_t crc32c_raw_table(uint32_t crc, const void *data, size_t len) {
	auto p = static_cast<const uint8_t *>(data);
	const auto &t = TABLES.t;
	while (len >= 8) {
		uint64_t w;
		std::memcpy(&w, p, 8);
		w ^= crc; // little-endian host assumed (x86_64 and the usual ARM targets)
		crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
		      t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
		      t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
namespace {

// The crc32 instruction takes three cycles and can start one a cycle, so a
// block is checksummed fastest as three interleaved streams of STREAM bytes
// (4080 of a block's 4092), joined afterwards.  Joining needs the CRC of a
// stream's CRC followed by STREAM zero bytes; that is linear in the CRC,
// so four tables of 256 (one per byte of it) give it in four look-ups.
constexpr size_t STREAM = 1360;

struct shift_tables {
	std::array<std::array<uint32_t, 256>, 4> t{};
	shift_tables() {
		static const std::array<uint8_t, STREAM> zeros{};
		for (unsigned k = 0; k < 4; k++)
			for (uint32_t b = 0; b < 256; b++)
				t[k][b] = crc32c_raw_table(b << (8 * k), zeros.data(), STREAM);
	}
	uint32_t shift(uint32_t c) const {
		return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
	}
};

__attribute__((target("sse4.2"))) uint64_t crc_words(uint64_t c, const uint8_t *p, size_t words) {
	for (size_t i = 0; i < words; i++) {
		uint64_t w;
		std::memcpy(&w, p + 8 * i, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	return c;
}

} // namespace

__attribute__((target("sse4.2"))) uint32_t crc32c_raw_hw(uint32_t crc, const void *data,
                                                         size_t len) {
	auto p = static_cast<const uint8_t *>(data);
	uint64_t c = crc;
	if (len >= 3 * STREAM) {
		static const shift_tables tables;
		while (len >= 3 * STREAM) {
			uint64_t a = c, b = 0, d = 0;
			for (size_t i = 0; i < STREAM; i += 8) {
				uint64_t wa, wb, wd;
				std::memcpy(&wa, p + i, 8);
				std::memcpy(&wb, p + STREAM + i, 8);
				std::memcpy(&wd, p + 2 * STREAM + i, 8);
				a = __builtin_ia32_crc32di(a, wa);
				b = __builtin_ia32_crc32di(b, wb);
				d = __builtin_ia32_crc32di(d, wd);
			}
			c = tables.shift(tables.shift(uint32_t(a)) ^ uint32_t(b)) ^ uint32_t(d);
			p += 3 * STREAM;
			len -= 3 * STREAM;
		}
	}
	c = crc_words(c, p, len / 8);
	p += len / 8 * 8;
	len %= 8;
	uint32_t c32 = uint32_t(c);
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}

bool crc32c_hw_available() {
	static const bool available = __builtin_cpu_supports("sse4.2");
	return available;
}
#else
uint32_t crc32c_raw_hw(uint32_t crc, const void *data, size_t len) {
	return crc32c_raw_table(crc, data, len);
}

bool crc32c_hw_available() { return false; }
#endif

uint32_t crc32c_raw(uint32_t crc, const void *data, size_t len) {
	return crc32c_hw_available() ? crc32c_raw_hw(crc, data, len)
	                             : crc32c_raw_table(crc, data, len);
}

} // namespace base
