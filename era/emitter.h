// What era metadata says, as events (doc/xml.md#era-xml): dump walks binary metadata
// into an emitter; the XML writer and the binary builder are emitters.
#pragma once

#include <cstdint>
#include <string>

namespace era {

struct era_info {
	std::string uuid;
	uint32_t block_size = 0;
	uint64_t nr_blocks = 0;
	uint32_t current_era = 0;
};

class emitter {
public:
	virtual ~emitter() = default;
	virtual void begin_superblock(const era_info &info) = 0;
	virtual void end_superblock() = 0;
	virtual void begin_writeset(uint32_t era, uint32_t nr_bits) = 0;
	virtual void writeset_bit(uint32_t block, bool value) = 0;
	virtual void end_writeset() = 0;
	virtual void begin_era_array() = 0;
	virtual void era(uint32_t block, uint32_t era) = 0;
	virtual void end_era_array() = 0;
};

} // namespace era
