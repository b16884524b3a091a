// libFuzzer entry point for fuzz::snap_store (unit-tests/fuzz_targets.h).
#include "unit-tests/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	fuzz::snap_store(data, size);
	return 0;
}
