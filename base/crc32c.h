// CRC-32C (Castagnoli), the checksum of every persistent-data block.
//
// The functions compute the *raw* CRC: the caller chooses the seed and any
// final inversion.  The kernel's block checksum is
//     crc32c_raw(0xffffffff, bytes 4..4095) ^ salt
// (no final inversion), see persistent-data/checksum.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace base {

// Fastest available implementation (SSE4.2 instruction when the CPU has it).
uint32_t crc32c_raw(uint32_t crc, const void *data, size_t len);

// The two implementations, exposed so tests can prove they agree.
uint32_t crc32c_raw_table(uint32_t crc, const void *data, size_t len);
uint32_t crc32c_raw_hw(uint32_t crc, const void *data, size_t len);
bool crc32c_hw_available();

// The standard CRC-32C (seed ~0, final inversion), for test vectors.
inline uint32_t crc32c(const void *data, size_t len) {
	return ~crc32c_raw(0xffffffffu, data, len);
}

} // namespace base
