#include "persistent-data/batch_reader.h"

#include "base/cores.h"
#include "base/spin_lock.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
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

// Read buffers start on a page boundary.  The kernel's copy out of the page
// cache ran four times slower here into a buffer 16 bytes past a page
// boundary (where malloc puts a fresh large block) than into an aligned one:
// 190,000 cached blocks read 16 at a time, 320 ms against 75 ms.
class page_aligned_buffer {
public:
	explicit page_aligned_buffer(size_t size)
	    : p_(static_cast<uint8_t *>(std::aligned_alloc(PAGE, (size + PAGE - 1) / PAGE * PAGE))) {
		if (!p_)
			throw std::bad_alloc();
	}
	uint8_t *data() const { return p_.get(); }

private:
	static constexpr size_t PAGE = 4096;
	struct release {
		void operator()(uint8_t *p) const { std::free(p); }
	};
	std::unique_ptr<uint8_t, release> p_;
};

// What the check found of each wanted block of a run, by its offset in it.
using problems = std::vector<std::optional<std::string>>;

void check_run(const std::vector<block_address> &blocks, const run &r, const uint8_t *buf,
               const indexed_check *check, problems &found) {
	if (!check || !r.count)
		return;
	for (size_t k = r.begin; k < r.end; k++) {
		size_t at = size_t(blocks[k] - r.first);
		found[at] = (*check)(k, blocks[k], buf + at * BLOCK_SIZE);
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

// Busy-waits up to SPIN_TIME for READY(); false if it never came.  Only
// with a core for each thread: on one core the wait would keep the other
// side from running.
constexpr auto SPIN_TIME = std::chrono::microseconds(200);
template <typename Ready> bool spin_until(const Ready &ready) {
	static const bool worth_it = base::usable_cores() >= 2;
	if (!worth_it)
		return ready();
	auto deadline = std::chrono::steady_clock::now() + SPIN_TIME;
	for (unsigned n = 1;; n++) {
		if (ready())
			return true;
		base::cpu_relax();
		if (n % 64 == 0 && std::chrono::steady_clock::now() > deadline)
			return ready();
	}
}

// A second thread reads the next runs while the caller's callback works on
// the current one: the copy out of the page cache (or the wait for the
// disk) overlaps with decoding.  Runs are delivered strictly in order.
// With readers::both, a caller that would wait for a run reads one itself
// instead: the next run nobody has taken yet.  A run is held in its slot
// until delivered, so runs finish out of order but are handed over in
// order.
//
// Waking a sleeping thread costs the waker a system call (and, in a
// virtual machine, an interrupt to the other core): measured at a tenth of
// the caller's time on a 20M-mapping check.  So each side first waits for
// the other by spinning a little (a run takes tens of microseconds to
// read or to decode); only then does it sleep.  The reader, once asleep,
// is woken when half of the slots are free again (one wake per SLOTS / 2
// runs, not one per run), and nobody is woken who is not asleep.
//
// The counters are atomic and the lock is taken only around sleeping and
// waking: a lock taken by both sides for every run made them queue on it
// (and sleep in the kernel) when runs are short, as in a level of
// scattered single nodes.  Each side stores its counter (or a slot's
// "ready" mark), then looks at the other's "asleep" flag (both
// sequentially consistent), and the sleeper sets its flag, then tests the
// counter, under the lock: so either the sleeper sees the new value or the
// other side sees it asleep and wakes it, under the lock.
class read_ahead {
public:
	read_ahead(block_io &io, const std::vector<block_address> &blocks, const std::vector<run> &runs,
	           const indexed_check *check, readers who)
	    : io_(io), blocks_(blocks), runs_(runs), check_(check), caller_reads_(who == readers::both),
	      bufs_(SLOTS * MAX_RUN * BLOCK_SIZE), found_(SLOTS, problems(MAX_RUN)),
	      worker_([this] { work(); }) {}

	~read_ahead() {
		{
			std::lock_guard<std::mutex> l(m_);
			stop_ = true;
		}
		room_.notify_all();
		worker_.join();
	}

	// The buffer of run I, once it is read (by the reader, or here);
	// rethrows read errors when their run is reached, so every block before
	// it is delivered first, whichever thread read it.
	const uint8_t *get(size_t i) {
		for (;;) {
			if (ready(i))
				return slot(i);
			if (own_error_) {
				if (own_error_run_ == i)
					std::rethrow_exception(own_error_);
			} else if (caller_reads_) {
				if (auto j = claim()) {
					try {
						fill(*j, true);
					} catch (...) {
						own_error_ = std::current_exception();
						own_error_run_ = *j;
					}
					continue;
				}
			}
			// Run I is the reader's to read.  (Nothing more can be claimed
			// until the caller releases a slot.)
			if (spin_until([&] { return ready(i); }))
				return slot(i);
			std::unique_lock<std::mutex> l(m_);
			consumer_asleep_ = true;
			ready_cv_.wait(l, [&] { return ready(i) || error_; });
			consumer_asleep_ = false;
			if (!ready(i))
				std::rethrow_exception(error_);
		}
	}
	// What the check found in run I (after get(I)), the check made here if
	// the reader left it to the caller.
	const problems &found(size_t i) {
		if (!checked_[i % SLOTS])
			check_run(blocks_, runs_[i], slot(i), check_, found_[i % SLOTS]);
		return found_[i % SLOTS];
	}

	// Run I is consumed: its slot may be refilled.
	void release(size_t i) {
		consumed_ = i + 1;
		if (worker_asleep_) {
			std::lock_guard<std::mutex> l(m_);
			if (refilled())
				room_.notify_one();
		}
	}

private:
	static constexpr size_t REFILL = SLOTS / 2; // free slots that wake a sleeping reader

	uint8_t *slot(size_t i) const { return bufs_.data() + (i % SLOTS) * MAX_RUN * BLOCK_SIZE; }
	bool ready(size_t i) const { return ready_[i % SLOTS].load(std::memory_order_acquire) == i + 1; }

	// Takes the next run nobody has taken, if its slot is free.
	std::optional<size_t> claim() {
		size_t next = next_.load();
		for (;;) {
			if (next >= runs_.size() || next >= consumed_.load(std::memory_order_acquire) + SLOTS)
				return std::nullopt;
			if (next_.compare_exchange_weak(next, next + 1))
				return next;
		}
	}
	// Whether the sleeping reader has REFILL slots free past the runs
	// taken.  (Under the lock.)
	bool refilled() const { return consumed_ + SLOTS >= next_ + REFILL || next_ >= runs_.size(); }

	// Reads run I into its slot and marks it ready.  The checks go to
	// whichever side has time: the reader makes them while the caller has
	// a run in hand and another waiting; otherwise the caller is waiting
	// for this run and makes them itself (on a 20M-mapping check the two
	// sides take turns at being the slower one).  A caller that reads a
	// run checks it at once, while it is in this core's cache.
	void fill(size_t i, bool by_caller) {
		if (runs_[i].count)
			io_.read(runs_[i].first, runs_[i].count, slot(i));
		checked_[i % SLOTS] = by_caller || caller_reads_ || i - consumed_.load(std::memory_order_acquire) >= 2;
		if (checked_[i % SLOTS])
			check_run(blocks_, runs_[i], slot(i), check_, found_[i % SLOTS]);
		ready_[i % SLOTS].store(i + 1);
	}

	void work() {
		for (;;) {
			if (stop_)
				return;
			auto i = claim();
			if (!i) {
				if (next_ >= runs_.size())
					return;
				if (spin_until([&] { return next_ >= runs_.size() || consumed_.load() + SLOTS > next_; }))
					continue;
				std::unique_lock<std::mutex> l(m_);
				worker_asleep_ = true;
				room_.wait(l, [&] { return stop_ || refilled(); });
				worker_asleep_ = false;
				continue;
			}
			try {
				fill(*i, false);
			} catch (...) {
				{
					std::lock_guard<std::mutex> l(m_);
					error_ = std::current_exception();
				}
				ready_cv_.notify_all();
				return;
			}
			if (consumer_asleep_) {
				std::lock_guard<std::mutex> l(m_);
				ready_cv_.notify_one();
			}
		}
	}

	block_io &io_;
	const std::vector<block_address> &blocks_;
	const std::vector<run> &runs_;
	const indexed_check *check_;
	const bool caller_reads_;
	page_aligned_buffer bufs_; // SLOTS runs
	std::vector<problems> found_;
	std::vector<char> checked_ = std::vector<char>(SLOTS); // found_ is filled in
	std::atomic<size_t> ready_[SLOTS] = {}; // run + 1 of the run read into each slot
	std::mutex m_;
	std::condition_variable ready_cv_, room_; // a run was read; slots were freed
	std::atomic<size_t> next_ = 0, consumed_ = 0; // runs taken; runs released
	std::atomic<bool> consumer_asleep_ = false, worker_asleep_ = false, stop_ = false;
	std::exception_ptr error_; // (under the lock)
	std::exception_ptr own_error_; // the caller's, reading run own_error_run_
	size_t own_error_run_ = 0;
	std::thread worker_;       // last: starts once everything above exists
};

} // namespace

namespace {

void read_checked(block_io &io, std::vector<block_address> blocks, const indexed_check *check,
                  const checked_block_fn &fn, batch_stats *stats, readers who) {
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
		page_aligned_buffer buf(MAX_RUN * BLOCK_SIZE);
		problems found(MAX_RUN);
		for (const auto &r : runs) {
			if (r.count)
				io.read(r.first, r.count, buf.data());
			check_run(blocks, r, buf.data(), check, found);
			deliver(blocks, r, buf.data(), found, fn);
		}
		return;
	}
	read_ahead ahead(io, blocks, runs, check, who);
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
	    [&](block_address b, const uint8_t *data, const std::optional<std::string> &) { fn(b, data); }, stats,
	    readers::one);
}

void read_in_batches(block_io &io, std::vector<block_address> blocks, const validator &check,
                     const checked_block_fn &fn, batch_stats *stats, readers who) {
	indexed_check by_index = [&check](size_t, block_address b, const uint8_t *data) { return check.check(data, b); };
	read_checked(io, std::move(blocks), &by_index, fn, stats, who);
}

void read_in_batches(block_io &io, std::vector<block_address> blocks, const indexed_check &check,
                     const checked_block_fn &fn, batch_stats *stats, readers who) {
	read_checked(io, std::move(blocks), &check, fn, stats, who);
}

} // namespace pdata
