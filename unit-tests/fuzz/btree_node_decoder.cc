// libFuzzer entry point for fuzz::btree_node_decoder (unit-tests/fuzz_targets.h).
#include "unit-tests/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	fuzz::btree_node_decoder(data, size);
	return 0;
}
