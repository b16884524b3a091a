// What cache metadata says, as a stream of events (doc/xml.md#cache-xml): the dump walks
// binary metadata into an emitter; the XML writer and the binary builder
// are emitters; the XML reader replays a file into one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace caching {

struct cache_info {
	std::string uuid;
	uint32_t block_size = 0; // sectors
	uint64_t nr_cache_blocks = 0;
	std::string policy;
	uint32_t hint_width = 4;
};

class emitter {
public:
	virtual ~emitter() = default;
	virtual void begin_superblock(const cache_info &info) = 0;
	virtual void end_superblock() = 0;
	virtual void begin_mappings() = 0;
	virtual void end_mappings() = 0;
	virtual void mapping(uint64_t cache_block, uint64_t origin_block, bool dirty) = 0;
	virtual void begin_hints() = 0;
	virtual void end_hints() = 0;
	virtual void hint(uint64_t cache_block, const std::vector<uint8_t> &data) = 0;
	virtual void begin_discards() = 0;
	virtual void end_discards() = 0;
	virtual void discard(uint64_t dbegin, uint64_t dend) = 0;
};

} // namespace caching
