// thin_generate_big (make bench-big's generator) on a small shape: the pool
// it writes passes our and the reference's thin_check, live and through its
// held metadata snapshot; its devices are the chains asked for, with
// three-level mapping trees that share subtrees (far fewer blocks than one
// copy of every tree); the same seed gives the same bytes.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace {

const std::vector<std::string> SHAPE = {"--mappings", "70000", "--writes", "20", "--chain-length", "5",
                                        "--snapshots", "12", "--seed", "7"};

std::string generate(ft::scratch &dir, const std::string &name) {
	std::string img = dir.path(name);
	ft::make_zero_file(img, 64 << 20);
	std::vector<std::string> cmd{ft::tool("thin_generate_big"), "-q", "-o", img};
	cmd.insert(cmd.end(), SHAPE.begin(), SHAPE.end());
	auto r = ft::run(cmd);
	EXPECT_EQ(r.status, 0) << r.err;
	return img;
}

TEST(ThinGenerateBig, WritesAPoolBothCheckersPassWithSharedThreeLevelTrees) {
	ft::scratch dir;
	std::string img = generate(dir, "big.img");
	auto ours = ft::run({ft::tool("thin_check"), img});
	EXPECT_EQ(ours.status, 0) << ours.err;
	auto theirs = ft::run({ft::reference("thin_check"), img});
	EXPECT_EQ(theirs.status, 0) << theirs.err;
	auto snap = ft::run({ft::tool("thin_check"), "-m", img});
	EXPECT_EQ(snap.status, 0) << snap.err;

	// 13 devices were made; the last snapshot was deleted after the
	// metadata snapshot was taken, which still holds it.
	auto ls = ft::run({ft::tool("thin_ls"), "--no-headers", "-o", "DEV,MAPPED_BLOCKS", img});
	ASSERT_EQ(ls.status, 0) << ls.err;
	std::istringstream in(ls.out);
	size_t devices = 0;
	for (uint64_t dev, mapped; in >> dev >> mapped; devices++)
		EXPECT_GE(mapped, 70000u) << "device " << dev << ": over 252 * 252 mappings need three levels";
	EXPECT_EQ(devices, 12u);
	auto held = ft::run({ft::tool("thin_dump"), "-m", img});
	ASSERT_EQ(held.status, 0) << held.err;
	size_t held_devices = 0;
	for (size_t at = 0; (at = held.out.find("<device ", at)) != std::string::npos; at++)
		held_devices++;
	EXPECT_EQ(held_devices, 13u);

	// Shared: one copy of every tree would take 13 * 70000 / 252 leaves at
	// the fullest.
	auto floor = ft::run({ft::tool("thin_read_floor"), "--count", img});
	ASSERT_EQ(floor.status, 0) << floor.err;
	EXPECT_LT(std::stoull(floor.out), 13u * 70000 / 252 / 3);

	// Deterministic from the seed.
	std::string again = generate(dir, "again.img");
	EXPECT_EQ(ft::sha256_hex(ft::read_file(img)), ft::sha256_hex(ft::read_file(again)));
}

TEST(ThinGenerateBig, ABadShapeIsRefused) {
	ft::scratch dir;
	std::string img = dir.path("x.img");
	ft::make_zero_file(img, 1 << 20);
	auto r = ft::run({ft::tool("thin_generate_big"), "-o", img, "--writes", "lots"});
	EXPECT_NE(r.status, 0);
	EXPECT_NE(r.err.find("--writes"), std::string::npos) << r.err;
	auto none = ft::run({ft::tool("thin_generate_big")});
	EXPECT_NE(none.status, 0);
	// More snapshots than the file holds: one line naming the file.
	auto full = ft::run({ft::tool("thin_generate_big"), "-q", "-o", img, "--mappings", "20000", "--snapshots", "200"});
	EXPECT_EQ(full.status, 1);
	EXPECT_EQ(full.err.rfind("thin_generate_big: " + img + ": ", 0), 0u) << full.err;
	EXPECT_EQ(std::count(full.err.begin(), full.err.end(), '\n'), 1) << full.err;
}

} // namespace
