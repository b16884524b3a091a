// libFuzzer entry point for fuzz::era_image (unit-tests/fuzz_targets.h).
#include "unit-tests/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	fuzz::era_image(data, size);
	return 0;
}
