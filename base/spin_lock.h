// Busy-waiting, for waits shorter than a trip through the kernel.
#pragma once

#include <atomic>
#include <thread>

namespace base {

// A pause in a busy wait (lets the sibling hyperthread run).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	asm volatile("yield");
#endif
}

// A lock for sections of well under a microsecond that two threads enter
// often (the checker's reading threads adding a leaf's counts; they mostly
// only try it, and wait with lock() when they hold many runs): a mutex
// would put the loser to sleep in the kernel, which costs more than the
// section.  The waiter spins, and yields now and then in case the holder
// was preempted (on one core it must, or it spins its whole slice).
class spin_lock {
public:
	void lock() {
		unsigned spins = 0;
		while (held_.exchange(true, std::memory_order_acquire)) {
			while (held_.load(std::memory_order_relaxed)) {
				if (++spins % 4096 == 0)
					std::this_thread::yield();
				else
					cpu_relax();
			}
		}
	}
	bool try_lock() {
		return !held_.load(std::memory_order_relaxed) && !held_.exchange(true, std::memory_order_acquire);
	}
	void unlock() { held_.store(false, std::memory_order_release); }

private:
	std::atomic<bool> held_ = false;
};

} // namespace base
