// thin_check and the held metadata snapshot (tests catalogue B22-B28): -m
// checks the snapshot's trees alone; a plain check walks the live trees and
// then the snapshot's, naming damage in the latter as the snapshot's; ids
// deleted and reused, and deleted snapshots, that the snapshot still holds
// are not damage.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

namespace {

class ThinCheckSnapshot : public ::testing::Test {
protected:
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		// The metadata snapshot is taken half way through the snapshots,
		// and the writes after it give both sides blocks of their own.
		generate("held.img", {"--devices", "2", "--mappings", "3000", "--run-length", "4", "--snapshots", "4",
		                      "--writes", "300", "--metadata-snap"});
	}
	static void TearDownTestSuite() { delete dir; }

	static void generate(const std::string &name, std::vector<std::string> args) {
		ft::make_zero_file(dir->path(name), 16 << 20);
		std::vector<std::string> cmd{ft::tool("thin_generate_metadata"), "-q", "-o", dir->path(name)};
		cmd.insert(cmd.end(), args.begin(), args.end());
		auto r = ft::run(cmd);
		if (r.status != 0)
			throw std::runtime_error(r.err);
	}
	// A fresh copy of the shared image, to damage.
	static std::string copy(const std::string &name) {
		std::string p = dir->path(name);
		ft::write_file(p, ft::read_file(dir->path("held.img")));
		return p;
	}
	static std::string damage(const std::string &img, const std::string &where, const std::string &role) {
		auto r = ft::run({ft::tool("thin_generate_damage"), img, "--kind", "bad-checksum", "--target", role,
		                  "--where", where});
		EXPECT_EQ(r.status, 0) << r.err;
		return r.out;
	}
	static ft::result ours(std::vector<std::string> args) {
		args.insert(args.begin(), ft::tool("thin_check"));
		return ft::run(args);
	}
	static ft::result theirs(std::vector<std::string> args) {
		args.insert(args.begin(), ft::reference("thin_check"));
		return ft::run(args);
	}
	static ft::scratch *dir;
};

ft::scratch *ThinCheckSnapshot::dir;

// B22
TEST_F(ThinCheckSnapshot, MetadataSnapOptionChecksTheSnapshot) {
	std::string kernel = dir->path("kernel.img");
	ft::gunzip(ft::fixture("kernel/thin-basic/meta.img.gz"), kernel);
	for (const auto &img : {kernel, dir->path("held.img")}) {
		auto a = ours({"-m", img}), b = theirs({"-m", img});
		EXPECT_EQ(a.status, 0) << img << "\n" << a.err;
		EXPECT_EQ(b.status, 0) << img << "\n" << b.err;
		EXPECT_EQ(a.out, b.out);
		EXPECT_EQ(ours({img}).status, 0);
	}
}

// B23
TEST_F(ThinCheckSnapshot, MetadataSnapOptionFailsWithoutASnapshot) {
	generate("none.img", {"--devices", "1", "--mappings", "100"});
	auto a = ours({"-m", dir->path("none.img")}), b = theirs({"-m", dir->path("none.img")});
	EXPECT_EQ(a.status, 1);
	EXPECT_NE(a.err.find("No metadata snapshot found."), std::string::npos) << a.err;
	EXPECT_EQ(b.status, 1);
}

// B24, B26
TEST_F(ThinCheckSnapshot, DamageOnlyInTheSnapshotIsFoundAndNamedAsTheSnapshots) {
	std::string img = copy("snapdamage.img");
	damage(img, "snapshot", "mapping-leaf");
	auto m = ours({"-m", img});
	EXPECT_EQ(m.status, 1) << m.err;
	EXPECT_NE(m.err.find("bad checksum"), std::string::npos) << m.err;
	EXPECT_EQ(theirs({"-m", img}).status, 1);
	// A plain check walks the snapshot's trees too, as the reference's does.
	auto plain = ours({img});
	EXPECT_EQ(plain.status, 1);
	EXPECT_NE(plain.err.find("metadata snapshot: thin device"), std::string::npos) << plain.err;
	EXPECT_EQ(theirs({img}).status, 1);
}

// B25
TEST_F(ThinCheckSnapshot, MetadataSnapOptionIgnoresDamageInTheLiveTrees) {
	std::string img = copy("livedamage.img");
	damage(img, "live", "mapping-leaf");
	EXPECT_EQ(ours({"-m", img}).status, 0);
	EXPECT_EQ(theirs({"-m", img}).status, 0);
	auto plain = ours({img});
	EXPECT_EQ(plain.status, 1);
	EXPECT_EQ(plain.err.find("metadata snapshot:"), std::string::npos) << plain.err;
	EXPECT_EQ(theirs({img}).status, 1);
}

// B26: the live trees are reported first, the snapshot's after them.
TEST_F(ThinCheckSnapshot, LiveDamageIsReportedBeforeSnapshotDamage) {
	std::string img = copy("bothdamage.img");
	damage(img, "snapshot", "mapping-leaf");
	damage(img, "live", "mapping-leaf");
	auto r = ours({img});
	EXPECT_EQ(r.status, 1);
	auto live = r.err.find("\n  thin device"), snap = r.err.find("metadata snapshot: thin device");
	ASSERT_NE(live, std::string::npos) << r.err;
	ASSERT_NE(snap, std::string::npos) << r.err;
	EXPECT_LT(live, snap) << r.err;
}

// B27
TEST_F(ThinCheckSnapshot, ReusedDeviceIdsHeldByTheSnapshotCheckClean) {
	generate("reused.img", {"--devices", "3", "--mappings", "2000", "--snapshots", "2", "--writes", "50",
	                        "--metadata-snap", "--delete", "2", "--recreate"});
	std::string img = dir->path("reused.img");
	for (auto args : std::vector<std::vector<std::string>>{{img}, {"-m", img}}) {
		auto a = ours(args), b = theirs(args);
		EXPECT_EQ(a.status, 0) << a.err;
		EXPECT_EQ(b.status, 0) << b.err;
	}
	// The ids really were reused: the live device 0 differs from the
	// snapshot's device 0.
	auto live = ft::run({ft::tool("thin_dump"), "--dev-id", "0", img});
	auto held = ft::run({ft::tool("thin_dump"), "-m", "--dev-id", "0", img});
	ASSERT_EQ(live.status, 0);
	ASSERT_EQ(held.status, 0);
	EXPECT_NE(live.out.substr(live.out.find('\n')), held.out.substr(held.out.find('\n')));
}

// B28
TEST_F(ThinCheckSnapshot, DeletedSnapshotsHeldByTheSnapshotCheckClean) {
	generate("deletedsnap.img", {"--devices", "1", "--mappings", "2000", "--snapshots", "4", "--writes", "50",
	                             "--metadata-snap", "--delete-last", "3"});
	std::string img = dir->path("deletedsnap.img");
	for (auto args : std::vector<std::vector<std::string>>{{img}, {"-m", img}}) {
		auto a = ours(args), b = theirs(args);
		EXPECT_EQ(a.status, 0) << a.err;
		EXPECT_EQ(b.status, 0) << b.err;
	}
	auto live = ft::run({ft::tool("thin_ls"), "-o", "DEV", "--no-headers", img});
	auto held = ft::run({ft::tool("thin_ls"), "-m", "-o", "DEV", "--no-headers", img});
	EXPECT_EQ(live.out, "0 \n1 \n") << live.err;
	EXPECT_NE(held.out, live.out);
}

} // namespace
