// libFuzzer entry point for fuzz::thin_xml (unit-tests/fuzz_targets.h).
#include "unit-tests/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	fuzz::thin_xml(data, size);
	return 0;
}
