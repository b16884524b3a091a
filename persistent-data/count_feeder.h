// Counting references on a thread of its own.
//
// thin_check's decoding thread finds every data block a mapping leaf
// references; counting them (a count_array increment each) is a third of
// its work.  With a core to spare, the decoder passes the block numbers
// over in chunks and this thread counts them, so decoding and counting run
// in parallel (reading and checksumming already run beside both).  Nothing
// else may touch the count_array until finish() returns.
#pragma once

#include "persistent-data/count_array.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pdata {

class count_feeder {
public:
	explicit count_feeder(count_array &counts);
	~count_feeder();
	count_feeder(const count_feeder &) = delete;
	count_feeder &operator=(const count_feeder &) = delete;

	// B must be inside the count_array.
	void add(block_address b) {
		chunk_.push_back(b);
		if (chunk_.size() == CHUNK) [[unlikely]]
			hand_over();
	}
	// Counts everything added; rethrows what the counting thread threw.
	void finish();

private:
	static constexpr size_t CHUNK = 16384; // blocks per hand-over (128 KiB)
	static constexpr size_t QUEUED = 4;    // chunks waiting at most

	void hand_over();
	void work();

	count_array &counts_;
	std::vector<block_address> chunk_;
	std::mutex m_;
	std::condition_variable work_ready_, room_;
	std::deque<std::vector<block_address>> queue_; // handed over, not yet counted
	std::vector<std::vector<block_address>> spare_; // counted, to fill again
	bool done_ = false, worker_waiting_ = false, producer_waiting_ = false;
	std::exception_ptr error_;
	std::thread worker_; // last: starts once everything above exists
};

} // namespace pdata
