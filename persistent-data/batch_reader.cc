#include "persistent-data/batch_reader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace pdata {

namespace {
constexpr size_t MAX_RUN = 64;       // blocks per read call (256 KiB)
constexpr block_address MAX_GAP = 4; // unwanted blocks read through rather than skipped
constexpr size_t SLOTS = 8;          // runs read ahead of the consumer
constexpr size_t MIN_RUNS_FOR_THREAD = 8;

// One read call: blocks[begin, end) of the sorted list, covering
// first..first+count-1 on the device (or a single block past its end).
struct run {
	size_t begin, end;
	block_address first;
	size_t count; // 0: past the device's end
};

std::vector<run> plan_runs(const std::vector<block_address> &blocks, block_address end) {
	std::vector<run> runs;
	size_t i = 0;
	while (i < blocks.size()) {
		block_address first = blocks[i];
		if (first >= end) {
			runs.push_back({i, i + 1, first, 0});
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < blocks.size() && blocks[j] < end && blocks[j] - blocks[j - 1] <= MAX_GAP + 1 &&
		       blocks[j] - first < MAX_RUN)
			j++;
		runs.push_back({i, j, first, size_t(blocks[j - 1] - first + 1)});
		i = j;
	}
	return runs;
}

// What the check found of each wanted block of a run, by its offset in it.
using problems = std::vector<std::optional<std::string>>;

void check_run(const std::vector<block_address> &blocks, const run &r, const uint8_t *buf,
               const validator *check, problems &found) {
	if (!check || !r.count)
		return;
	for (size_t k = r.begin; k < r.end; k++) {
		size_t at = size_t(blocks[k] - r.first);
		found[at] = check->check(buf + at * BLOCK_SIZE, blocks[k]);
	}
}

void deliver(const std::vector<block_address> &blocks, const run &r, const uint8_t *buf,
             const problems &found, const checked_block_fn &fn) {
	static const std::optional<std::string> none;
	for (size_t k = r.begin; k < r.end; k++) {
		size_t at = size_t(blocks[k] - r.first);
		fn(blocks[k], r.count ? buf + at * BLOCK_SIZE : nullptr, r.count ? found[at] : none);
	}
}

// A second thread reads the next runs while the caller's callback works on
// the current one: the copy out of the page cache (or the wait for the
// disk) overlaps with decoding.  Runs are delivered strictly in order.
//
// Waking a sleeping thread costs the waker a system call, and the caller
// is usually the slower side: so the reader, once the slots are full,
// sleeps until half of them are free again (one wake per SLOTS / 2 runs,
// not one per run), and nobody is woken who is not asleep.
class read_ahead {
public:
	read_ahead(block_io &io, const std::vector<block_address> &blocks, const std::vector<run> &runs,
	           const validator *check)
	    : io_(io), blocks_(blocks), runs_(runs), check_(check),
	      bufs_(SLOTS, std::vector<uint8_t>(MAX_RUN * BLOCK_SIZE)), found_(SLOTS, problems(MAX_RUN)),
	      worker_([this] { work(); }) {}

	~read_ahead() {
		{
			std::lock_guard<std::mutex> l(m_);
			stop_ = true;
		}
		room_.notify_all();
		worker_.join();
	}

	// The buffer of run I, waiting for it to be read; rethrows read errors.
	const uint8_t *get(size_t i) {
		std::unique_lock<std::mutex> l(m_);
		if (!(read_ > i || error_)) {
			consumer_waiting_ = true;
			ready_.wait(l, [&] { return read_ > i || error_; });
			consumer_waiting_ = false;
		}
		if (error_ && read_ <= i)
			std::rethrow_exception(error_);
		return bufs_[i % SLOTS].data();
	}
	// What the check found in run I (after get(I)).
	const problems &found(size_t i) const { return found_[i % SLOTS]; }

	// Run I is consumed: its slot may be refilled.
	void release(size_t i) {
		bool wake;
		{
			std::lock_guard<std::mutex> l(m_);
			consumed_ = i + 1;
			wake = worker_waiting_ && free_slots() >= REFILL;
		}
		if (wake)
			room_.notify_one();
	}

private:
	static constexpr size_t REFILL = SLOTS / 2; // free slots that wake a waiting reader

	size_t free_slots() const { return consumed_ + SLOTS - next_; }

	void work() {
		for (size_t i = 0; i < runs_.size(); i++) {
			{
				std::unique_lock<std::mutex> l(m_);
				next_ = i;
				if (!stop_ && !free_slots()) {
					worker_waiting_ = true;
					room_.wait(l, [&] { return stop_ || free_slots() >= REFILL; });
					worker_waiting_ = false;
				}
				if (stop_)
					return;
			}
			try {
				if (runs_[i].count)
					io_.read(runs_[i].first, runs_[i].count, bufs_[i % SLOTS].data());
				check_run(blocks_, runs_[i], bufs_[i % SLOTS].data(), check_, found_[i % SLOTS]);
			} catch (...) {
				std::lock_guard<std::mutex> l(m_);
				error_ = std::current_exception();
				ready_.notify_all();
				return;
			}
			bool wake;
			{
				std::lock_guard<std::mutex> l(m_);
				read_ = i + 1;
				wake = consumer_waiting_;
			}
			if (wake)
				ready_.notify_one();
		}
	}

	block_io &io_;
	const std::vector<block_address> &blocks_;
	const std::vector<run> &runs_;
	const validator *check_;
	std::vector<std::vector<uint8_t>> bufs_;
	std::vector<problems> found_;
	std::mutex m_;
	std::condition_variable ready_, room_; // a run was read; slots were freed
	size_t read_ = 0, consumed_ = 0, next_ = 0;
	bool consumer_waiting_ = false, worker_waiting_ = false;
	bool stop_ = false;
	std::exception_ptr error_;
	std::thread worker_; // last: starts once everything above exists
};

} // namespace

namespace {

void read_checked(block_io &io, std::vector<block_address> blocks, const validator *check,
                  const checked_block_fn &fn, batch_stats *stats) {
	std::sort(blocks.begin(), blocks.end());
	blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
	auto runs = plan_runs(blocks, io.nr_blocks());
	if (stats)
		for (const auto &r : runs)
			if (r.count) {
				stats->read_calls++;
				stats->blocks_read += r.count;
			}
	if (runs.size() < MIN_RUNS_FOR_THREAD || !io.thread_safe_reads()) {
		std::vector<uint8_t> buf(MAX_RUN * BLOCK_SIZE);
		problems found(MAX_RUN);
		for (const auto &r : runs) {
			if (r.count)
				io.read(r.first, r.count, buf.data());
			check_run(blocks, r, buf.data(), check, found);
			deliver(blocks, r, buf.data(), found, fn);
		}
		return;
	}
	read_ahead ahead(io, blocks, runs, check);
	for (size_t i = 0; i < runs.size(); i++) {
		const uint8_t *buf = ahead.get(i);
		deliver(blocks, runs[i], buf, ahead.found(i), fn);
		ahead.release(i);
	}
}

} // namespace

void read_in_batches(block_io &io, std::vector<block_address> blocks,
                     const std::function<void(block_address, const uint8_t *)> &fn, batch_stats *stats) {
	read_checked(
	    io, std::move(blocks), nullptr,
	    [&](block_address b, const uint8_t *data, const std::optional<std::string> &) { fn(b, data); }, stats);
}

void read_in_batches(block_io &io, std::vector<block_address> blocks, const validator &check,
                     const checked_block_fn &fn, batch_stats *stats) {
	read_checked(io, std::move(blocks), &check, fn, stats);
}

} // namespace pdata
