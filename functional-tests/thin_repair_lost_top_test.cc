// thin_repair when the top level of the mapping tree is lost: the
// superblock's data_mapping_root past the end, at a space-map bitmap, at a
// leaf of the details tree, the top-level node itself zeroed, or marked
// internal.  Each
// device's mapping tree is found however deep it is, among the trees the
// space map still counts, and never from a copy a transaction replaced.
//
// The pools: device trees of two levels (6 devices of distinct counts),
// of three (over 126 * 252 = 31,752 mappings a device: more than two levels
// hold), six devices of one count (only the top levels the kernel replaced
// tell their trees apart, and the last by elimination), and the
// kernel-written thin-meta-grow fixture (two devices of 300 mappings; its
// stale top levels name every device, so only one in use may be taken).
// Every mapping comes back to its own device, the output passes our and the
// reference's thin_check, the input is not written, and the reference's
// repair never recovers more.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

struct pool_shape {
	const char *name;
	std::vector<std::string> generate; // thin_generate_metadata's options; empty: FIXTURE
	const char *fixture;
	uint64_t size;
	uint64_t min_mappings_per_device; // proves the depth
};

std::ostream &operator<<(std::ostream &o, const pool_shape &s) { return o << s.name; }

const pool_shape SHAPES[] = {
    {"two_levels",
     {"--devices", "2", "--mappings", "8000", "--run-length", "1", "--snapshots", "4", "--writes", "300", "--seed", "3"},
     nullptr,
     16 << 20,
     127},
    {"three_levels",
     {"--devices", "1", "--mappings", "40000", "--run-length", "1", "--snapshots", "2", "--writes", "500", "--seed",
      "3"},
     nullptr,
     32 << 20,
     31753},
    {"one_count",
     {"--devices", "6", "--mappings", "8539", "--run-length", "4", "--seed", "7"},
     nullptr,
     16 << 20,
     127},
    {"kernel_meta_grow", {}, "thin-meta-grow/meta.img.bz2", 0, 127},
};

// The mappings of each device in a dump, as their XML lines.
std::map<std::string, std::vector<std::string>> devices_of(const std::string &xml) {
	std::map<std::string, std::vector<std::string>> out;
	std::istringstream in(xml);
	std::vector<std::string> *cur = nullptr;
	for (std::string l; std::getline(in, l);) {
		if (auto at = l.find("<device dev_id=\""); at != std::string::npos)
			cur = &out[l.substr(at + 16, l.find('"', at + 16) - at - 16)];
		else if (cur && l.find("_mapping ") != std::string::npos)
			cur->push_back(l);
	}
	return out;
}

uint64_t mappings_in(const std::vector<std::string> &lines) {
	uint64_t n = 0;
	for (const auto &l : lines) {
		auto at = l.find(" length=\"");
		n += at == std::string::npos ? 1 : std::stoull(l.substr(at + 9));
	}
	return n;
}

uint64_t mappings_in(const std::map<std::string, std::vector<std::string>> &devs) {
	uint64_t n = 0;
	for (const auto &[d, lines] : devs)
		n += mappings_in(lines);
	return n;
}

class ThinRepairLostTop : public ::testing::TestWithParam<pool_shape> {
protected:
	void SetUp() override {
		const auto &s = GetParam();
		if (s.fixture) {
			ft::unpack(ft::fixture("kernel/" + std::string(s.fixture)), pool());
		} else {
			ft::make_zero_file(pool(), s.size);
			std::vector<std::string> cmd{ft::tool("thin_generate_metadata"), "-q", "-o", pool()};
			cmd.insert(cmd.end(), s.generate.begin(), s.generate.end());
			auto g = ft::run(cmd);
			ASSERT_EQ(g.status, 0) << g.err;
		}
		auto d = ft::run({ft::tool("thin_dump"), pool()});
		ASSERT_EQ(d.status, 0) << d.err;
		original = devices_of(d.out);
		ASSERT_FALSE(original.empty());
		for (const auto &[dev, lines] : original)
			if (dev != "1" || !s.fixture) { // (the fixture's device 1 is small; the others are deep)
				EXPECT_GE(mappings_in(lines), s.min_mappings_per_device) << "device " << dev;
			}
	}
	std::string pool() { return dir.path("pool.img"); }

	// The first block of structure KIND ("thin.top-level-node", ...).
	uint64_t block_of(const std::string &kind) {
		auto l = ft::run({ft::tool("field_fuzz"), pool(), "--list"});
		std::istringstream in(l.out);
		for (std::string n, b, o, w; in >> n >> b >> o >> w;)
			if (n.rfind(kind + ".", 0) == 0)
				return std::stoull(b);
		ADD_FAILURE() << "no " << kind << " in " << pool();
		return 0;
	}

	// Repairs IMG with ours and the reference's and judges both.
	void expect_every_mapping_back(const std::string &img, const std::string &what) {
		SCOPED_TRACE(what);
		std::string before = ft::sha256_hex(ft::read_file(img));
		uint64_t size = ft::read_file(img).size();
		std::string ours = dir.path("ours.img"), theirs = dir.path("theirs.img");
		ft::make_zero_file(ours, size);
		ft::make_zero_file(theirs, size);
		auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", ours});
		repair_err = r.err;
		ASSERT_EQ(r.status, 0) << r.err;
		EXPECT_EQ(ft::sha256_hex(ft::read_file(img)), before) << "the input was written";
		auto d = ft::run({ft::tool("thin_dump"), ours});
		ASSERT_EQ(d.status, 0) << d.err;
		auto repaired = devices_of(d.out);
		EXPECT_EQ(repaired, original) << r.err;
		EXPECT_EQ(ft::run({ft::tool("thin_check"), ours}).status, 0);
		EXPECT_EQ(ft::run({ft::reference("thin_check"), ours}).status, 0);
		auto t = ft::run({ft::reference("thin_repair"), "-i", img, "-o", theirs});
		if (t.status == 0) {
			auto td = ft::run({ft::tool("thin_dump"), theirs});
			EXPECT_GE(mappings_in(repaired), mappings_in(devices_of(td.out)));
		}
	}

	std::string damaged_copy() {
		std::string img = dir.path("damaged.img");
		ft::write_file(img, ft::read_file(pool()));
		return img;
	}
	std::string with_mapping_root(uint64_t root) {
		std::string img = damaged_copy();
		auto f = ft::run({ft::tool("field_fuzz"), img, "--field", "thin.superblock.data_mapping_root", "--set",
		                  std::to_string(root)});
		EXPECT_EQ(f.status, 0) << f.err;
		return img;
	}

	ft::scratch dir;
	std::map<std::string, std::vector<std::string>> original;
	std::string repair_err; // what our last repair said
};

TEST_P(ThinRepairLostTop, RootPastTheEnd) { expect_every_mapping_back(with_mapping_root(1 << 30), "past the end"); }

TEST_P(ThinRepairLostTop, RootAtASpaceMapBitmap) {
	expect_every_mapping_back(with_mapping_root(block_of("thin.metadata-sm-bitmap")), "at a bitmap");
}

TEST_P(ThinRepairLostTop, RootAtADetailsLeaf) {
	expect_every_mapping_back(with_mapping_root(block_of("thin.details-node")), "at a details leaf");
}

TEST_P(ThinRepairLostTop, TopLevelZeroed) {
	uint64_t top = block_of("thin.top-level-node");
	std::string img = damaged_copy();
	std::string bytes = ft::read_file(img);
	std::fill(bytes.begin() + top * 4096, bytes.begin() + (top + 1) * 4096, '\0');
	ft::write_file(img, bytes);
	expect_every_mapping_back(img, "top level zeroed");
}

// The top level's flags say "internal" (the field fuzz's flags minus1 on the
// generated three-level pool: walked as it said, the devices' own mappings
// were taken for 40,974 device roots past the device and two devices' trees
// were lost, where the reference kept them).
TEST_P(ThinRepairLostTop, TopLevelMarkedInternal) {
	std::string img = damaged_copy();
	auto f = ft::run({ft::tool("field_fuzz"), img, "--field", "thin.top-level-node.header.flags", "--set", "1"});
	ASSERT_EQ(f.status, 0) << f.err;
	expect_every_mapping_back(img, "top level marked internal");
	// What it says is what it did: the node read as a leaf, and no word of
	// the walk that read it as internal (keys "lost", trees "left out").
	EXPECT_NE(repair_err.find("read as a leaf"), std::string::npos) << repair_err;
	EXPECT_EQ(repair_err.find(" lost"), std::string::npos) << repair_err;
	EXPECT_EQ(repair_err.find("left out"), std::string::npos) << repair_err;
	EXPECT_EQ(repair_err.find("orphaned"), std::string::npos) << repair_err;
}

INSTANTIATE_TEST_SUITE_P(Shapes, ThinRepairLostTop, ::testing::ValuesIn(SHAPES),
                         [](const auto &info) { return std::string(info.param.name); });

} // namespace
