// The stream of events that describes a pool's metadata, in order:
//   begin_superblock (begin_device (range_map | single_map)* end_device)* end_superblock
// thin_dump produces it from binary metadata; the XML reader produces it
// from a file; emitters turn it into XML, human-readable text, or new
// binary metadata (restore, repair).
#pragma once

#include "thin-provisioning/device_details.h"

#include <cstdint>
#include <optional>
#include <string>

namespace thin {

struct superblock_info {
	std::string uuid;
	uint32_t time = 0;
	uint64_t transaction = 0;
	uint32_t flags = 0;
	uint32_t version = 2;
	uint32_t data_block_size = 0;
	uint64_t nr_data_blocks = 0;
	std::optional<uint64_t> metadata_snap;
};

class emitter {
public:
	virtual ~emitter() = default;
	virtual void begin_superblock(const superblock_info &sb) = 0;
	virtual void end_superblock() = 0;
	virtual void begin_device(uint64_t dev_id, const device_details &d) = 0;
	virtual void end_device() = 0;
	// LEN consecutive virtual blocks from ORIGIN_BEGIN map to consecutive data
	// blocks from DATA_BEGIN, all with snapshot time TIME (LEN >= 2).
	virtual void range_map(uint64_t origin_begin, uint64_t data_begin, uint32_t time,
	                       uint64_t len) = 0;
	virtual void single_map(uint64_t origin_block, uint64_t data_block, uint32_t time) = 0;
};

// Joins single mappings into runs as the reference dump does: a run goes on
// while the virtual and the data block both go up by one and the time stays
// the same (across leaf boundaries too).  Forwards runs to an emitter.
class run_joiner {
public:
	explicit run_joiner(emitter &out) : out_(out) {}
	void add(uint64_t origin, uint64_t data, uint32_t time) {
		if (len_ && origin == origin_ + len_ && data == data_ + len_ && time == time_) {
			len_++;
			return;
		}
		flush();
		origin_ = origin;
		data_ = data;
		time_ = time;
		len_ = 1;
	}
	void flush() {
		if (len_ == 1)
			out_.single_map(origin_, data_, time_);
		else if (len_ > 1)
			out_.range_map(origin_, data_, time_, len_);
		len_ = 0;
	}

private:
	emitter &out_;
	uint64_t origin_ = 0, data_ = 0, len_ = 0;
	uint32_t time_ = 0;
};

} // namespace thin
