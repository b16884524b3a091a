// The kernel-written pool in fixtures/kernel/thin-basic: devices, snapshots
// of snapshots, a deleted device, discards and a held metadata snapshot.
// Our tools must read it exactly as the reference does.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

namespace {

class ThinKernelFixture : public ::testing::Test {
protected:
	void SetUp() override { ft::gunzip(ft::fixture("kernel/thin-basic/meta.img.gz"), meta()); }
	std::string meta() const { return dir.path("meta.img"); }
	std::string expected(const std::string &name) const {
		return ft::read_file(ft::fixture("kernel/thin-basic/expected/" + name));
	}
	ft::scratch dir;
};

TEST_F(ThinKernelFixture, DumpEqualsTheExpectedXml) {
	auto r = ft::run({ft::tool("thin_dump"), meta()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.err, "");
	EXPECT_EQ(r.out, expected("thin_dump.xml"));
}

TEST_F(ThinKernelFixture, HumanReadableDumpEqualsTheExpectedText) {
	auto r = ft::run({ft::tool("thin_dump"), "--format", "human_readable", meta()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out, expected("thin_dump.human"));
}

TEST_F(ThinKernelFixture, MetadataSnapshotDumpCarriesTheLiveDataSize) {
	auto r = ft::run({ft::tool("thin_dump"), "-m", meta()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out, expected("thin_dump-m.xml"));
}

TEST_F(ThinKernelFixture, DumpToAFileEqualsDumpToStdout) {
	auto r = ft::run({ft::tool("thin_dump"), "-o", dir.path("out.xml"), meta()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(ft::read_file(dir.path("out.xml")), expected("thin_dump.xml"));
}

TEST_F(ThinKernelFixture, CheckPassesWithTheReferenceInfoLines) {
	auto r = ft::run({ft::tool("thin_check"), meta()});
	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out, expected("thin_check.stdout"));
	auto q = ft::run({ft::tool("thin_check"), "-q", meta()});
	EXPECT_EQ(q.status, 0);
	EXPECT_EQ(q.out + q.err, "");
	auto m = ft::run({ft::tool("thin_check"), "-m", meta()});
	EXPECT_EQ(m.status, 0) << m.err;
}

TEST_F(ThinKernelFixture, RestoringTheDumpGivesTheSameDumpAgain) {
	for (const char *which : {"thin_dump.xml", "thin_dump-m.xml"}) {
		ft::write_file(dir.path("in.xml"), expected(which));
		ft::make_zero_file(dir.path("new.img"), 8 << 20);
		auto r = ft::run({ft::tool("thin_restore"), "-i", dir.path("in.xml"), "-o",
		                  dir.path("new.img")});
		ASSERT_EQ(r.status, 0) << r.err;
		EXPECT_EQ(r.out, "");
		auto d = ft::run({ft::tool("thin_dump"), dir.path("new.img")});
		EXPECT_EQ(d.out, expected(which)) << which;
		auto ours = ft::run({ft::tool("thin_check"), dir.path("new.img")});
		EXPECT_EQ(ours.status, 0) << ours.err;
		auto theirs = ft::run({ft::reference("thin_check"), dir.path("new.img")});
		EXPECT_EQ(theirs.status, 0) << theirs.err;
		auto ref_dump = ft::run({ft::reference("thin_dump"), dir.path("new.img")});
		EXPECT_EQ(ref_dump.out, expected(which)) << which;
	}
}

TEST_F(ThinKernelFixture, ReadingNeverWritesTheInput) {
	std::string before = ft::read_file(meta());
	ft::run({ft::tool("thin_dump"), meta()});
	ft::run({ft::tool("thin_dump"), "-m", meta()});
	ft::run({ft::tool("thin_check"), meta()});
	EXPECT_TRUE(before == ft::read_file(meta()));
}

} // namespace
