// Explicit little-endian encoding and decoding of on-disk integers.
//
// Every on-disk structure in this project is read and written through these
// helpers, never by overlaying a C++ struct on the bytes: the layout is then
// stated field by field where it is used, and a short buffer is caught by a
// bounds check instead of being read past its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

namespace base {

inline uint16_t load_le16(const uint8_t *p) {
	return uint16_t(p[0]) | uint16_t(p[1]) << 8;
}

inline uint32_t load_le32(const uint8_t *p) {
	return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

inline uint64_t load_le64(const uint8_t *p) {
	return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32;
}

inline void store_le16(uint8_t *p, uint16_t v) {
	p[0] = uint8_t(v);
	p[1] = uint8_t(v >> 8);
}

inline void store_le32(uint8_t *p, uint32_t v) {
	for (int i = 0; i < 4; i++)
		p[i] = uint8_t(v >> (8 * i));
}

inline void store_le64(uint8_t *p, uint64_t v) {
	store_le32(p, uint32_t(v));
	store_le32(p + 4, uint32_t(v >> 32));
}

// Thrown when a decoder would step outside its buffer: a programming error
// or a corrupt length field, never silently tolerated.
class out_of_bounds : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

// Reads little-endian fields at explicit offsets of a fixed-size buffer.
class le_reader {
public:
	explicit le_reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

	uint8_t u8(size_t off) const { return *at(off, 1); }
	uint16_t u16(size_t off) const { return load_le16(at(off, 2)); }
	uint32_t u32(size_t off) const { return load_le32(at(off, 4)); }
	uint64_t u64(size_t off) const { return load_le64(at(off, 8)); }
	std::span<const uint8_t> bytes(size_t off, size_t len) const {
		return {at(off, len), len};
	}
	size_t size() const { return bytes_.size(); }

private:
	const uint8_t *at(size_t off, size_t len) const {
		if (off > bytes_.size() || len > bytes_.size() - off)
			throw out_of_bounds("read of " + std::to_string(len) + " bytes at offset " +
			                    std::to_string(off) + " past the end of a " +
			                    std::to_string(bytes_.size()) + "-byte buffer");
		return bytes_.data() + off;
	}

	std::span<const uint8_t> bytes_;
};

// Writes little-endian fields at explicit offsets of a fixed-size buffer.
class le_writer {
public:
	explicit le_writer(std::span<uint8_t> bytes) : bytes_(bytes) {}

	void u8(size_t off, uint8_t v) { *at(off, 1) = v; }
	void u16(size_t off, uint16_t v) { store_le16(at(off, 2), v); }
	void u32(size_t off, uint32_t v) { store_le32(at(off, 4), v); }
	void u64(size_t off, uint64_t v) { store_le64(at(off, 8), v); }
	void bytes(size_t off, std::span<const uint8_t> src) {
		if (!src.empty())
			std::memcpy(at(off, src.size()), src.data(), src.size());
	}
	void zero(size_t off, size_t len) {
		if (len)
			std::memset(at(off, len), 0, len);
	}

private:
	uint8_t *at(size_t off, size_t len) {
		if (off > bytes_.size() || len > bytes_.size() - off)
			throw out_of_bounds("write of " + std::to_string(len) + " bytes at offset " +
			                    std::to_string(off) + " past the end of a " +
			                    std::to_string(bytes_.size()) + "-byte buffer");
		return bytes_.data() + off;
	}

	std::span<uint8_t> bytes_;
};

} // namespace base
