// The bodies of the fuzz targets (unit-tests/fuzz/*.cc wrap each in a
// libFuzzer entry point; `make fuzz` runs them).  The unit tests replay
// every input kept in unit-tests/fuzz-regressions/<target>/ through the same
// functions, so an input that once crashed a tool stays fixed.
//
// Each takes arbitrary bytes and must return without crashing, hanging or
// leaking; errors the tools report to users (base::error) are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fuzz {

void superblock_decoder(const uint8_t *data, size_t size);
void btree_node_decoder(const uint8_t *data, size_t size);
// The bytes as a metadata image: thin_check, then thin_dump --repair and
// the superblock salvage of thin_repair.
void thin_image(const uint8_t *data, size_t size);
// The bytes as thin_restore's XML input, restored into a memory device.
void thin_xml(const uint8_t *data, size_t size);
// The bytes as dm-cache metadata: cache_check, then cache_dump --repair.
void cache_image(const uint8_t *data, size_t size);
// The bytes as dm-era metadata: era_check, era_dump and era_invalidate.
void era_image(const uint8_t *data, size_t size);
// The bytes as a COW device holding a dm-snapshot exception store.
void snap_store(const uint8_t *data, size_t size);

// By name (the directory names under fuzz-regressions/); nullptr if unknown.
using target = void (*)(const uint8_t *, size_t);
target by_name(const std::string &name);

} // namespace fuzz
