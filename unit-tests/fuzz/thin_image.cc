// libFuzzer entry point for fuzz::thin_image (unit-tests/fuzz_targets.h).
#include "unit-tests/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	fuzz::thin_image(data, size);
	return 0;
}
