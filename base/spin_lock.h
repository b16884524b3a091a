// A lock for sections of a few hundred nanoseconds that two threads enter
// often (the checker's two reading threads adding a leaf's counts): a
// mutex would put the loser to sleep in the kernel, which costs more than
// the section.  The waiter spins, and yields now and then in case the
// holder was preempted (on one core it must, or it spins its whole slice).
#pragma once

#include <atomic>
#include <thread>

namespace base {

class spin_lock {
public:
	void lock() {
		for (unsigned spins = 1; held_.exchange(true, std::memory_order_acquire); spins++) {
			while (held_.load(std::memory_order_relaxed)) {
				if (spins++ % 4096 == 0)
					std::this_thread::yield();
				else
					pause();
			}
		}
	}
	bool try_lock() { return !held_.load(std::memory_order_relaxed) && !held_.exchange(true, std::memory_order_acquire); }
	void unlock() { held_.store(false, std::memory_order_release); }

private:
	static void pause() {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		asm volatile("yield");
#endif
	}
	std::atomic<bool> held_ = false;
};

} // namespace base
