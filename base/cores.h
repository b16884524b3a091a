// How many cores this process may run on: decides whether a tool hands
// work to extra threads (on two cores a third thread only competes).
#pragma once

namespace base {

// The CPUs in this process's affinity mask (taskset, cgroup cpusets), or
// DMPD_CORES when set to a positive number (tests and benchmarks use it to
// force a path).
unsigned usable_cores();

} // namespace base
