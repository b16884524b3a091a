#include "persistent-data/count_feeder.h"

namespace pdata {

count_feeder::count_feeder(count_array &counts) : counts_(counts), worker_([this] { work(); }) {
	chunk_.reserve(CHUNK);
}

count_feeder::~count_feeder() {
	try {
		finish();
	} catch (...) {
		// (Only reached when finish() was skipped by another exception.)
	}
}

void count_feeder::hand_over() {
	bool wake;
	{
		std::unique_lock<std::mutex> l(m_);
		if (queue_.size() >= QUEUED && !error_) {
			producer_waiting_ = true;
			room_.wait(l, [&] { return queue_.size() < QUEUED || error_; });
			producer_waiting_ = false;
		}
		if (error_) {
			chunk_.clear(); // (the counts are lost anyway: finish() throws)
			return;
		}
		queue_.push_back(std::move(chunk_));
		chunk_.clear();
		if (!spare_.empty()) {
			chunk_ = std::move(spare_.back());
			spare_.pop_back();
		}
		wake = worker_waiting_;
	}
	chunk_.reserve(CHUNK);
	// (Woken only when asleep: a wake costs the decoder a system call.)
	if (wake)
		work_ready_.notify_one();
}

void count_feeder::work() {
	std::unique_lock<std::mutex> l(m_);
	for (;;) {
		if (queue_.empty() && !done_) {
			worker_waiting_ = true;
			work_ready_.wait(l, [&] { return !queue_.empty() || done_; });
			worker_waiting_ = false;
		}
		if (queue_.empty())
			return; // done
		std::vector<block_address> chunk = std::move(queue_.front());
		queue_.pop_front();
		l.unlock();
		try {
			count_array::incrementer refs(counts_);
			for (block_address b : chunk)
				refs.inc(b);
		} catch (...) {
			l.lock();
			error_ = std::current_exception();
			done_ = true;
			queue_.clear();
			room_.notify_all();
			return;
		}
		chunk.clear();
		l.lock();
		spare_.push_back(std::move(chunk));
		if (producer_waiting_)
			room_.notify_one();
	}
}

void count_feeder::finish() {
	if (!worker_.joinable())
		return;
	if (!chunk_.empty())
		hand_over();
	{
		std::lock_guard<std::mutex> l(m_);
		done_ = true;
	}
	work_ready_.notify_one();
	worker_.join();
	if (error_)
		std::rethrow_exception(error_);
}

} // namespace pdata
