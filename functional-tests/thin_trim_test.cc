// thin_trim on regular files: holes are punched exactly over the data
// blocks the pool does not map, mapped blocks keep their bytes, and
// metadata that fails the check discards nothing.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <regex>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr uint64_t NR_DATA_BLOCKS = 2000;
constexpr uint64_t BLOCK_BYTES = 128 * 512;

// Data blocks mapped by any device, from thin_dump's XML.
std::set<uint64_t> mapped_blocks(const std::string &xml) {
	std::set<uint64_t> s;
	std::regex range("data_begin=\"([0-9]+)\" length=\"([0-9]+)\""), single("data_block=\"([0-9]+)\"");
	for (auto it = std::sregex_iterator(xml.begin(), xml.end(), range); it != std::sregex_iterator(); ++it)
		for (uint64_t i = 0; i < std::stoull((*it)[2]); i++)
			s.insert(std::stoull((*it)[1]) + i);
	for (auto it = std::sregex_iterator(xml.begin(), xml.end(), single); it != std::sregex_iterator(); ++it)
		s.insert(std::stoull((*it)[1]));
	return s;
}

class ThinTrim : public ::testing::Test {
protected:
	void SetUp() override {
		ft::make_zero_file(meta(), 8 << 20);
		// Deleted devices leave free ranges between used ones.
		auto r = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", meta(), "--devices", "4", "--mappings",
		                  "300", "--run-length", "4", "--delete", "2", "--snapshots", "1", "--writes", "30",
		                  "--nr-data-blocks", std::to_string(NR_DATA_BLOCKS)});
		ASSERT_EQ(r.status, 0) << r.err;
		ft::write_file(data(), std::string(NR_DATA_BLOCKS * BLOCK_BYTES, '\xaa'));
	}
	std::string meta() const { return dir.path("meta.img"); }
	std::string data() const { return dir.path("data.img"); }
	ft::scratch dir;
};

TEST_F(ThinTrim, PunchesHolesExactlyOverTheFreeBlocks) {
	auto used = mapped_blocks(ft::run({ft::tool("thin_dump"), meta()}).out);
	ASSERT_GT(used.size(), 100u);
	ASSERT_LT(used.size(), NR_DATA_BLOCKS - 100);
	std::string meta_before = ft::read_file(meta());

	auto r = ft::run({ft::tool("thin_trim"), "--metadata-dev", meta(), "--data-dev", data()});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("discarded " + std::to_string(NR_DATA_BLOCKS - used.size()) + " free data blocks"),
	          std::string::npos)
	    << r.err;
	EXPECT_TRUE(ft::read_file(meta()) == meta_before) << "thin_trim wrote to the metadata";

	std::string after = ft::read_file(data());
	ASSERT_EQ(after.size(), NR_DATA_BLOCKS * BLOCK_BYTES) << "the file's size changed";
	for (uint64_t b = 0; b < NR_DATA_BLOCKS; b++) {
		std::string block = after.substr(b * BLOCK_BYTES, BLOCK_BYTES);
		char want = used.count(b) ? '\xaa' : '\0';
		ASSERT_EQ(block, std::string(BLOCK_BYTES, want)) << "data block " << b << (used.count(b) ? " (mapped)" : " (free)");
	}
	// And they are holes: only the mapped blocks hold storage.
	struct stat st;
	ASSERT_EQ(::stat(data().c_str(), &st), 0);
	EXPECT_EQ(uint64_t(st.st_blocks) * 512, used.size() * BLOCK_BYTES);
	// The data at each hole boundary agrees with SEEK_DATA.
	int fd = ::open(data().c_str(), O_RDONLY);
	ASSERT_GE(fd, 0);
	for (uint64_t b = 0; b < NR_DATA_BLOCKS; b++) {
		off_t next = ::lseek(fd, off_t(b * BLOCK_BYTES), SEEK_DATA);
		bool data_here = next == off_t(b * BLOCK_BYTES);
		EXPECT_EQ(data_here, used.count(b) != 0) << "data block " << b;
	}
	::close(fd);
}

TEST_F(ThinTrim, RefusesMetadataThatFailsTheCheck) {
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), meta(), "--kind", "count-low", "--sm", "data"}).status, 0);
	std::string before = ft::read_file(data());
	auto r = ft::run({ft::tool("thin_trim"), "--metadata-dev", meta(), "--data-dev", data()});
	EXPECT_EQ(r.status, 1);
	EXPECT_NE(r.err.find("metadata has errors (run thin_check); nothing discarded"), std::string::npos) << r.err;
	EXPECT_TRUE(ft::read_file(data()) == before);
}

TEST_F(ThinTrim, CommandLineErrors) {
	auto none = ft::run({ft::tool("thin_trim")});
	EXPECT_EQ(none.status, 1);
	EXPECT_EQ(none.err.rfind("Usage: thin_trim", 0), 0u) << none.err;
	auto ref_none = ft::run({ft::reference("thin_trim")});
	EXPECT_EQ(ref_none.status, 1);

	auto missing = ft::run({ft::tool("thin_trim"), "--metadata-dev", meta(), "--data-dev", dir.path("nope")});
	EXPECT_EQ(missing.status, 1);
	EXPECT_NE(missing.err.find("Couldn't open data device '" + dir.path("nope") + "'"), std::string::npos)
	    << missing.err;

	ft::write_file(dir.path("small.img"), std::string(BLOCK_BYTES * 10, 'x'));
	auto small = ft::run({ft::tool("thin_trim"), "--metadata-dev", meta(), "--data-dev", dir.path("small.img")});
	EXPECT_EQ(small.status, 1);
	EXPECT_NE(small.err.find("smaller than"), std::string::npos) << small.err;
	EXPECT_EQ(ft::read_file(dir.path("small.img")), std::string(BLOCK_BYTES * 10, 'x'));

	auto inactive = ft::run({ft::tool("thin_trim"), "--pool-inactive", "-q", "--metadata-dev", meta(), "--data-dev",
	                         data()});
	EXPECT_EQ(inactive.status, 0) << inactive.err;
	EXPECT_EQ(inactive.err, "");

	// The reference accepts block devices only; ours also trims files.
	auto ref = ft::run({ft::reference("thin_trim"), "--metadata-dev", meta(), "--data-dev", data()});
	EXPECT_EQ(ref.status, 1);
	EXPECT_NE(ref.err.find("Data device is not a block device"), std::string::npos) << ref.err;
}

} // namespace
