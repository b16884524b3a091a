#include "base/cores.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <sched.h>

namespace base {

unsigned usable_cores() {
	if (const char *forced = std::getenv("DMPD_CORES")) {
		char *end = nullptr;
		unsigned long n = std::strtoul(forced, &end, 10);
		if (end != forced && !*end && n > 0 && n < 4096)
			return unsigned(n);
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		return unsigned(CPU_COUNT(&set));
	return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace base
