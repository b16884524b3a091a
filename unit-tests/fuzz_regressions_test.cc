// Replays every input kept under unit-tests/fuzz-regressions/<target>/
// (inputs that crashed a target once, and hand-made hostile ones) through
// the fuzz targets: each must return normally, under ASan/UBSan in CI.
#include "unit-tests/fuzz_targets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path corpus_root() { return fs::path(__FILE__).parent_path() / "fuzz-regressions"; }

TEST(FuzzRegressions, EveryKeptInputRunsCleanly) {
	ASSERT_TRUE(fs::is_directory(corpus_root())) << corpus_root() << " is missing (run from the source root)";
	size_t replayed = 0;
	for (const auto &dir : fs::directory_iterator(corpus_root())) {
		auto target = fuzz::by_name(dir.path().filename().string());
		ASSERT_NE(target, nullptr) << "no fuzz target named " << dir.path().filename();
		for (const auto &f : fs::directory_iterator(dir.path())) {
			std::ifstream in(f.path(), std::ios::binary);
			std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
			SCOPED_TRACE(f.path().string());
			target(bytes.data(), bytes.size());
			replayed++;
		}
	}
	EXPECT_GE(replayed, 4u) << "the regression corpus lost its inputs";
}

} // namespace
