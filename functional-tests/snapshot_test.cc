// The dm-snapshot tools: the kernel-written store (numbers as the kernel
// reported them, export matching the snapshot's view), stores of every
// shape made by snap_restore, damage for each check, repair and export.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace {

// The Nth data chunk of a store with CHUNK_SIZE sectors (doc/snapshot-format.md#exception-areas).
uint64_t data_chunk(uint64_t chunk_size, uint64_t n) {
	uint64_t e = chunk_size * 512 / 16;
	return 1 + (n / e) * (e + 1) + 1 + n % e;
}

std::map<std::string, std::string> summary() {
	std::map<std::string, std::string> m;
	std::istringstream in(ft::read_file(ft::fixture("kernel/snap-basic/expected/summary.txt")));
	for (std::string line; std::getline(in, line);)
		if (!line.empty() && line[0] != '#') {
			auto sp = line.find(' ');
			m[line.substr(0, sp)] = line.substr(sp + 1);
		}
	return m;
}

std::string sha256(const std::string &path) { return ft::run({"sha256sum", path}).out.substr(0, 64); }

void put_le64(std::string &bytes, uint64_t at, uint64_t v) {
	for (int i = 0; i < 8; i++)
		bytes[at + i] = char((v >> (8 * i)) & 0xff);
}

class Snapshot : public ::testing::Test {
protected:
	void SetUp() override {
		ft::gunzip(ft::fixture("kernel/snap-basic/cow.img.gz"), cow());
		ft::gunzip(ft::fixture("kernel/snap-basic/origin.img.gz"), origin());
	}
	std::string cow() const { return dir.path("cow.img"); }
	std::string origin() const { return dir.path("origin.img"); }
	ft::result tool(const std::string &t, std::vector<std::string> args) {
		args.insert(args.begin(), ft::tool(t));
		return ft::run(args);
	}
	// A store of N exceptions (origin chunk i*3 -> the i-th data chunk).
	std::string make_store(const std::string &name, uint64_t chunk_size, uint64_t n, bool valid, uint64_t cow_bytes) {
		std::string xml = "<snapshot_store chunk_size=\"" + std::to_string(chunk_size) + "\" valid=\"" +
		                  (valid ? "true" : "false") + "\" version=\"1\">\n";
		for (uint64_t i = 0; i < n; i++)
			xml += "  <exception old_chunk=\"" + std::to_string(i * 3) + "\" new_chunk=\"" +
			       std::to_string(data_chunk(chunk_size, i)) + "\"/>\n";
		xml += "</snapshot_store>\n";
		ft::write_file(dir.path(name + ".xml"), xml);
		ft::make_zero_file(dir.path(name), cow_bytes);
		auto r = tool("snap_restore", {"-i", dir.path(name + ".xml"), "-o", dir.path(name)});
		EXPECT_EQ(r.status, 0) << r.err;
		return dir.path(name);
	}
	ft::scratch dir;
};

TEST_F(Snapshot, KernelStoreChecksCleanWithTheKernelsNumbers) {
	auto s = summary();
	auto r = tool("snap_check", {cow()});
	EXPECT_EQ(r.status, 0) << r.err;
	// "snapshot 7328/8192 40": allocated/total sectors, metadata sectors.
	EXPECT_NE(r.out.find("EXCEPTIONS=" + s["exceptions"] + "\n"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("METADATA_AREAS=" + s["metadata_areas"] + "\n"), std::string::npos) << r.out;
	EXPECT_NE(r.out.find("CHUNK_SIZE=" + s["chunk_size_sectors"] + "\n"), std::string::npos);
	EXPECT_EQ(s["kernel_status"], "snapshot 7328/8192 40");
	EXPECT_NE(r.out.find("ALLOCATED_SECTORS=7328\nTOTAL_SECTORS=8192\nMETADATA_SECTORS=40\n"), std::string::npos)
	    << r.out;
	auto q = tool("snap_check", {"-q", "--origin-size", "131072", "--chunk-size", "8", cow()});
	EXPECT_EQ(q.status, 0);
	EXPECT_EQ(q.out + q.err, "");
}

TEST_F(Snapshot, ExportGivesTheSnapshotsView) {
	auto s = summary();
	ASSERT_EQ(sha256(origin()), s["origin_sha256"]);
	auto r = tool("snap_export", {"--origin", origin(), "--cow", cow(), "-o", dir.path("view.img")});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(sha256(dir.path("view.img")), s["snapshot_view_sha256"]);
	EXPECT_EQ(sha256(origin()), s["origin_sha256"]) << "export wrote to the origin";
}

TEST_F(Snapshot, DumpRestoreGivesTheKernelsBytesBack) {
	auto d = tool("snap_dump", {cow()});
	ASSERT_EQ(d.status, 0) << d.err;
	ft::write_file(dir.path("dump.xml"), d.out);
	std::string copy = dir.path("copy.img");
	ft::write_file(copy, ft::read_file(cow()));
	// Scribble over the metadata areas first: restore must write them all.
	std::string bytes = ft::read_file(copy);
	for (size_t at : {4096u, 4096u * 258, 4096u * 515})
		bytes[at + 40] ^= 0x55;
	ft::write_file(copy, bytes);
	ASSERT_EQ(tool("snap_restore", {"-i", dir.path("dump.xml"), "-o", copy}).status, 0);
	EXPECT_TRUE(ft::read_file(copy) == ft::read_file(cow()));
	auto h = tool("snap_dump", {"--format", "human_readable", cow()});
	EXPECT_EQ(h.out.rfind("chunk size: 8 sectors, valid, version 1\nexceptions: 911 in 4 metadata areas\n", 0), 0u)
	    << h.out.substr(0, 200);
}

TEST_F(Snapshot, StoresOfEveryShapeCheckClean) {
	for (uint64_t cs : {8u, 16u, 128u}) {
		uint64_t e = cs * 512 / 16;
		for (uint64_t n : {uint64_t(0), uint64_t(1), e - 1, e, e + 1, 2 * e, 3 * e + 7}) {
			std::string name = "s" + std::to_string(cs) + "-" + std::to_string(n);
			std::string img = make_store(name, cs, n, true, (data_chunk(cs, n) + e + 8) * cs * 512);
			auto r = tool("snap_check", {img});
			EXPECT_EQ(r.status, 0) << name << r.err;
			EXPECT_NE(r.out.find("EXCEPTIONS=" + std::to_string(n) + "\n"), std::string::npos) << name << r.out;
			EXPECT_NE(r.out.find("METADATA_AREAS=" + std::to_string(n / e + 1) + "\n"), std::string::npos)
			    << name << r.out;
			EXPECT_EQ(tool("snap_dump", {img}).out, ft::read_file(dir.path(name + ".xml"))) << name;
		}
	}
}

TEST_F(Snapshot, InvalidatedStoresAreReportedAndExportedOnlyWhenForced) {
	std::string img = make_store("invalid", 8, 300, false, 4 << 20);
	auto r = tool("snap_check", {img});
	EXPECT_EQ(r.status, 1);
	EXPECT_NE(r.err.find("marked invalid"), std::string::npos) << r.err;
	std::string orig = dir.path("o.img");
	ft::make_zero_file(orig, 8 << 20);
	auto refused = tool("snap_export", {"--origin", orig, "--cow", img, "-o", dir.path("x.img")});
	EXPECT_EQ(refused.status, 1);
	EXPECT_NE(refused.err.find("--force-invalid"), std::string::npos) << refused.err;
	auto forced = tool("snap_export", {"--force-invalid", "--origin", orig, "--cow", img, "-o", dir.path("x.img")});
	EXPECT_EQ(forced.status, 0) << forced.err;
	EXPECT_NE(forced.err.find("not recoverable"), std::string::npos) << forced.err;
}

TEST_F(Snapshot, EachCheckFindsItsDamage) {
	// Area 0 of the kernel store is chunk 1 (bytes 4096..8191): pair k at 4096 + 16k.
	struct damage {
		const char *name;
		std::function<void(std::string &)> apply;
		std::vector<std::string> extra_args;
		const char *message;
	};
	std::vector<damage> cases = {
	    {"metadata chunk", [](std::string &b) { put_le64(b, 4096 + 16 * 5 + 8, 258); }, {}, "header or a metadata area"},
	    {"new chunk twice", [](std::string &b) { put_le64(b, 4096 + 16 * 5 + 8, 2); }, {}, "COW chunk used twice"},
	    {"old chunk twice", [](std::string &b) { put_le64(b, 4096 + 16 * 5, 0); }, {}, "origin chunk remapped twice"},
	    {"off the device", [](std::string &b) { put_le64(b, 4096 + 16 * 5 + 8, 99999); }, {}, "beyond the device"},
	    {"after the end", [](std::string &b) { put_le64(b, 4096 * 772 + 16 * 200 + 8, 5); }, {}, "follows the end"},
	    {"bad magic", [](std::string &b) { b[0] = 'X'; }, {}, "bad magic"},
	    {"unformatted", [](std::string &b) { put_le64(b, 0, 0); }, {}, "magic is 0"},
	    {"version", [](std::string &b) { b[8] = 2; }, {}, "unsupported version 2"},
	    {"chunk size", [](std::string &b) { b[12] = 12; }, {}, "not a power of two"},
	    {"expected chunk size", [](std::string &) {}, {"--chunk-size", "16"}, "expected 16"},
	    {"origin too small", [](std::string &) {}, {"--origin-size", "1024"}, "beyond the origin"},
	};
	std::string clean = ft::read_file(cow());
	for (const auto &c : cases) {
		std::string bytes = clean;
		c.apply(bytes);
		std::string img = dir.path("damaged.img");
		ft::write_file(img, bytes);
		std::vector<std::string> args = c.extra_args;
		args.push_back(img);
		auto r = tool("snap_check", args);
		EXPECT_EQ(r.status, 1) << c.name << "\n" << r.err;
		EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << "\n" << r.err;
		EXPECT_TRUE(ft::read_file(img) == bytes) << "snap_check wrote to its input";
	}
}

TEST_F(Snapshot, RepairKeepsTheGoodExceptionsWithTheirData) {
	std::string bytes = ft::read_file(cow());
	put_le64(bytes, 4096 + 16 * 5 + 8, 2); // exception 5 claims exception 0's chunk
	std::string bad = dir.path("bad.img"), fixed = dir.path("fixed.img");
	ft::write_file(bad, bytes);
	ft::make_zero_file(fixed, 4 << 20);
	auto r = tool("snap_repair", {"-i", bad, "-o", fixed});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("kept 910 of 911 exceptions"), std::string::npos) << r.err;
	EXPECT_TRUE(ft::read_file(bad) == bytes) << "snap_repair wrote to its input";
	EXPECT_EQ(tool("snap_check", {fixed}).status, 0);
	// The view through the repaired store equals the view through the
	// damaged one with the bad exception left out (as export leaves it out).
	ASSERT_EQ(tool("snap_export", {"-q", "--origin", origin(), "--cow", bad, "-o", dir.path("a.img")}).status, 0);
	ASSERT_EQ(tool("snap_export", {"-q", "--origin", origin(), "--cow", fixed, "-o", dir.path("b.img")}).status, 0);
	EXPECT_EQ(sha256(dir.path("a.img")), sha256(dir.path("b.img")));
	auto self = tool("snap_repair", {"-i", bad, "-o", bad});
	EXPECT_EQ(self.status, 1);
}

} // namespace
