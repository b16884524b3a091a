// The unit of all metadata I/O: a 4096-byte block addressed by its index.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pdata {

constexpr size_t BLOCK_SIZE = 4096;
constexpr uint32_t SECTORS_PER_BLOCK = BLOCK_SIZE / 512;

using block_address = uint64_t;

} // namespace pdata
