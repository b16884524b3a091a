// The repair damage suite: for each kind of damage the damage tool makes on
// an image with snapshots and a metadata snapshot, thin_check finds it,
// thin_repair writes an image both checkers pass, a second repair changes
// nothing, the input is untouched, and the repaired image holds exactly the
// mappings the original held outside the damaged blocks.  The reference's
// thin_repair runs on the same cases; the recovered counts are printed
// ("RECOVERY ...") for the record.
#include "functional-tests/harness.h"

#include "persistent-data/btree_walker.h"
#include "persistent-data/block_io.h"
#include "persistent-data/space_map_reader.h"
#include "thin-provisioning/device_details.h"
#include "thin-provisioning/metadata_input.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <regex>
#include <set>

namespace {

using pdata::block_address;
using mappings = std::map<uint64_t, std::map<uint64_t, uint64_t>>; // dev -> vblock -> data block

// Collects a tree's leaf entries, leaving out the leaves in LOST: a
// damaged internal node loses nothing, its leaves are still on the device.
class collector : public pdata::btree_visitor {
public:
	collector(const std::set<block_address> &lost) : lost_(lost) {}
	void visit_leaf(const pdata::node_context &c, pdata::node_ref n) override {
		if (lost_.count(c.block))
			return;
		for (uint32_t i = 0; i < n.nr_entries(); i++)
			entries[n.key(i)] = n.value64(i);
	}
	void damage(const pdata::btree_damage &) override { damaged = true; }
	std::map<uint64_t, uint64_t> entries;
	bool damaged = false;

private:
	const std::set<block_address> &lost_;
};

// The mappings of IMAGE's live devices, as the library reads them from a
// sound image, leaving out everything held only in LOST blocks.
mappings mappings_of(const std::string &image, const std::set<block_address> &lost = {}) {
	pdata::file_block_io io(image, base::access_mode::read_only);
	pdata::block_manager bm(io);
	auto sb = thin::read_superblock(io);
	mappings out;
	// A lost top-level leaf loses no mappings: the devices' roots are found
	// among the trees in use.
	const std::set<block_address> none;
	collector details(lost), top(none);
	pdata::walk_btree(bm, sb.device_details_root, {thin::DEVICE_DETAILS_SIZE, false}, details);
	pdata::walk_btree(bm, sb.data_mapping_root, {thin::MAPPING_VALUE_SIZE, false}, top);
	// (details values are not 8 bytes; the collector only wants the keys)
	for (const auto &[dev, root] : top.entries) {
		auto &m = out[dev]; // (with or without details: repair recreates lost ones)
		collector c(lost);
		pdata::walk_btree(bm, root, {thin::MAPPING_VALUE_SIZE, false}, c);
		for (const auto &[v, bt] : c.entries)
			m[v] = thin::unpack_block_time(bt).data_block;
	}
	return out;
}

uint64_t count(const mappings &m) {
	uint64_t n = 0;
	for (const auto &[dev, v] : m)
		n += v.size();
	return n;
}

// The mappings of GOT that the original held too (the same device, block
// and data block): what a repair recovered, not what it made up.
uint64_t count_true(const mappings &got, const mappings &original) {
	uint64_t n = 0;
	for (const auto &[dev, v] : got)
		if (auto o = original.find(dev); o != original.end())
			for (const auto &[block, data] : v)
				if (auto it = o->second.find(block); it != o->second.end() && it->second == data)
					n++;
	return n;
}

// Makes IMG (8 MiB) with thin_generate_metadata ARGS, and OUT, an empty
// 8 MiB file to repair into.  Returns the generator's status.
int generate(const std::string &img, const std::string &out, std::vector<std::string> args) {
	ft::make_zero_file(img, 8 << 20);
	ft::make_zero_file(out, 8 << 20);
	args.insert(args.begin(), {ft::tool("thin_generate_metadata"), "-q", "-o", img});
	return ft::run(args).status;
}

struct repair_case {
	std::string name;
	std::vector<std::string> args;
	bool exact; // the lost mappings are exactly those in the damaged blocks
};

class ThinRepairDamage : public ::testing::TestWithParam<repair_case> {
protected:
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		ft::make_zero_file(original(), 16 << 20);
		auto r = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", original(), "--devices", "3",
		                  "--mappings", "5000", "--run-length", "6", "--snapshots", "5", "--writes", "200",
		                  "--metadata-snap"});
		if (r.status != 0)
			throw std::runtime_error(r.err);
	}
	static void TearDownTestSuite() { delete dir; }
	static std::string original() { return dir->path("original.img"); }
	static ft::scratch *dir;
};

ft::scratch *ThinRepairDamage::dir;

// Damaged blocks named by the damage tool ("damaged block N (...").
std::set<block_address> damaged_blocks(const std::string &out) {
	std::set<block_address> s;
	std::regex re("damaged block ([0-9]+)");
	for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
		s.insert(std::stoull((*it)[1]));
	// Truncation ("truncated to N blocks") loses every block from N on.
	std::smatch m;
	if (std::regex_search(out, m, std::regex("truncated to ([0-9]+) blocks")))
		for (block_address b = std::stoull(m[1]); b < (16 << 20) / 4096; b++)
			s.insert(b);
	return s;
}

TEST_P(ThinRepairDamage, RepairsToAnImageBothCheckersPass) {
	const repair_case &c = GetParam();
	std::string img = dir->path(c.name + ".img"), out = dir->path(c.name + ".out"),
	            again = dir->path(c.name + ".again"), theirs = dir->path(c.name + ".ref");
	ft::write_file(img, ft::read_file(original()));
	std::vector<std::string> cmd{ft::tool("thin_generate_damage"), img, "--kind"};
	cmd.insert(cmd.end(), c.args.begin(), c.args.end());
	auto d = ft::run(cmd);
	ASSERT_EQ(d.status, 0) << d.err;
	auto lost = damaged_blocks(d.out);
	std::string damaged_bytes = ft::read_file(img);

	auto check = ft::run({ft::tool("thin_check"), img});
	EXPECT_EQ(check.status, 1) << d.out << check.err;

	for (const auto &f : {out, again, theirs})
		ft::make_zero_file(f, 16 << 20);
	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << d.out << r.err;
	EXPECT_TRUE(ft::read_file(img) == damaged_bytes) << "thin_repair wrote to its input";
	auto ours_check = ft::run({ft::tool("thin_check"), out});
	EXPECT_EQ(ours_check.status, 0) << d.out << ours_check.err;
	auto ref_check = ft::run({ft::reference("thin_check"), out});
	EXPECT_EQ(ref_check.status, 0) << d.out << ref_check.err;

	// Idempotent: repairing the repaired image changes nothing.
	ASSERT_EQ(ft::run({ft::tool("thin_repair"), "-i", out, "-o", again}).status, 0);
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), again}).out, ft::run({ft::tool("thin_dump"), out}).out);

	auto got = mappings_of(out);
	auto expected = mappings_of(original(), c.exact ? lost : std::set<block_address>{});
	if (c.exact)
		EXPECT_TRUE(got == expected) << d.out << "recovered " << count(got) << " mappings, expected "
		                             << count(expected);
	else
		EXPECT_LE(count(got), count(mappings_of(original())));

	auto ref = ft::run({ft::reference("thin_repair"), "-i", img, "-o", theirs});
	uint64_t ref_count = 0;
	if (ref.status == 0 && ft::run({ft::reference("thin_check"), "-q", theirs}).status == 0)
		ref_count = count_true(mappings_of(theirs), mappings_of(original()));
	EXPECT_GE(count_true(got, mappings_of(original())), ref_count) << "the reference recovered more";
	std::cout << "RECOVERY " << c.name << " ours=" << count(got) << " reference=" << ref_count
	          << (ref.status ? " (reference failed)" : "") << " expected=" << count(expected)
	          << " of=" << count(mappings_of(original())) << "\n";
}

// An alias: a live device's top-level entry names another device's tree,
// whose count allows one reference.  The reference's repair makes the one
// device a copy of the other; ours keeps the tree for the device whose
// mapped_blocks fit it and rebuilds the other from its orphaned nodes, so
// the repaired pool is the original, mapping for mapping.
TEST_F(ThinRepairDamage, AnAliasedTreeGoesToItsOwnerAndTheOtherDeviceIsRebuilt) {
	std::string img = dir->path("alias.img"), out = dir->path("alias.out"), theirs = dir->path("alias.ref");
	ft::write_file(img, ft::read_file(original()));
	auto d = ft::run({ft::tool("thin_generate_damage"), img, "--kind", "double-ref", "--where", "live"});
	ASSERT_EQ(d.status, 0) << d.err;
	std::smatch m;
	ASSERT_TRUE(std::regex_search(d.out, m, std::regex("thin devices ([0-9]+) and ([0-9]+)"))) << d.out;
	uint64_t owner = std::stoull(m[1]), other = std::stoull(m[2]);
	auto before = mappings_of(original());
	ASSERT_NE(before.at(owner), before.at(other)) << "the two devices must differ for this test";

	ft::make_zero_file(out, 16 << 20);
	ft::make_zero_file(theirs, 16 << 20);
	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("kept by thin device " + std::to_string(owner)), std::string::npos) << r.err;
	EXPECT_NE(r.err.find("thin device " + std::to_string(other) + " rebuilt"), std::string::npos) << r.err;
	EXPECT_TRUE(mappings_of(out) == before) << "the repaired pool differs from the original";
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), out}).out, ft::run({ft::tool("thin_dump"), original()}).out);
	auto dump = ft::run({ft::tool("thin_dump"), "--repair", img});
	EXPECT_EQ(dump.status, 0) << dump.err;
	EXPECT_EQ(dump.out, ft::run({ft::tool("thin_dump"), original()}).out);

	ASSERT_EQ(ft::run({ft::reference("thin_repair"), "-i", img, "-o", theirs}).status, 0);
	auto ref = mappings_of(theirs);
	EXPECT_TRUE(ref.at(other) == before.at(owner))
	    << "the reference no longer copies the owner's mappings to the other device: update this test";
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ThinRepairDamage,
    ::testing::Values(
        repair_case{"ChecksumMappingLeaf", {"bad-checksum", "--target", "mapping-leaf"}, true},
        repair_case{"ZeroedMappingLeaf", {"zero-block", "--target", "mapping-leaf", "--seed", "2"}, true},
        repair_case{"ChecksumMappingInternal", {"bad-checksum", "--target", "mapping-internal"}, true},
        repair_case{"ChecksumMetadataBitmap", {"bad-checksum", "--target", "metadata-sm-bitmap"}, true},
        repair_case{"ChecksumDataBitmap", {"bad-checksum", "--target", "data-sm-bitmap"}, true},
        repair_case{"ChecksumMetadataIndex", {"bad-checksum", "--target", "metadata-sm-index"}, true},
        repair_case{"ChecksumDataIndex", {"bad-checksum", "--target", "data-sm-index"}, true},
        repair_case{"ChecksumTopLevel", {"bad-checksum", "--target", "top-level-node", "--where", "live"}, true},
        repair_case{"ZeroedTopLevel", {"zero-block", "--target", "top-level-node", "--where", "live"}, true},
        repair_case{"ChecksumDetailsNode", {"bad-checksum", "--target", "details-node"}, true},
        repair_case{"ChecksumMetadataRefCounts", {"bad-checksum", "--target", "metadata-sm-ref-counts"}, true},
        repair_case{"ChecksumDataRefCounts", {"bad-checksum", "--target", "data-sm-ref-counts"}, true},
        repair_case{"ChecksumSnapshotSuperblock", {"bad-checksum", "--target", "snapshot-superblock"}, true},
        repair_case{"KeysOutOfOrder", {"keys-out-of-order"}, true},
        repair_case{"MappingPastTheDataDevice", {"mapping-past-end"}, false},
        repair_case{"WrongMappedBlocks", {"mapped-blocks"}, true},
        repair_case{"MetadataCountTooLow", {"count-low", "--sm", "metadata"}, true},
        repair_case{"DataCountTooLow", {"count-low", "--sm", "data"}, true},
        repair_case{"DataOverflowTooLow", {"overflow-low", "--sm", "data"}, true},
        repair_case{"DoublyReferencedTree", {"double-ref"}, true},
        repair_case{"DoublyReferencedLiveTree", {"double-ref", "--where", "live"}, true},
        repair_case{"Cycle", {"cycle"}, true},
        repair_case{"ZeroSuperblock", {"zero-superblock"}, true},
        repair_case{"StaleSuperblock", {"stale-superblock"}, true},
        repair_case{"ChecksumSuperblock", {"bad-checksum", "--target", "superblock"}, true},
        repair_case{"Truncated", {"truncate", "--blocks", "200"}, true},
        // (Cut at 300, a leaf of device 0 fits keys its lost root had and
        // keys a lost leaf of device 7 had: nothing tells which, so it is
        // left out and the result is not the whole expected set.)
        repair_case{"TruncatedAmbiguously", {"truncate", "--blocks", "300"}, false},
        repair_case{"Random1", {"random", "--count", "3", "--seed", "1"}, true},
        repair_case{"Random2", {"random", "--count", "3", "--seed", "2"}, true},
        repair_case{"Random3", {"random", "--count", "5", "--seed", "3"}, true}),
    [](const auto &info) { return info.param.name; });

} // namespace

namespace {

// A lost superblock with no copy on the device: the data block size cannot
// be inferred and must be given, with the reference's message; the rest is
// recovered from the trees.
TEST(ThinRepairLostSuperblock, AsksForTheDataBlockSizeOnlyWhenNothingShowsIt) {
	ft::scratch dir;
	std::string img = dir.path("meta.img"), out = dir.path("out.img");
	ASSERT_EQ(generate(img, out, {"--devices", "2", "--mappings", "3000", "--snapshots", "2", "--data-block-size", "256"}),
	          0);
	auto before = ft::run({ft::tool("thin_dump"), img});
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "zero-superblock"}).status, 0);

	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	EXPECT_EQ(r.status, 1);
	EXPECT_NE(r.err.find("The following field needs to be provided on the command line due to corruption "
	                     "in the superblock: data block size"),
	          std::string::npos)
	    << r.err;
	EXPECT_NE(ft::run({ft::tool("thin_check"), out}).status, 0) << "a failed repair left a valid-looking image";

	r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out, "--data-block-size", "256"});
	ASSERT_EQ(r.status, 0) << r.err;
	// (Said plainly: the space map that would tell orphans from freed
	// trees went with the superblock.)
	EXPECT_NE(r.err.find("the metadata space map's root was in the lost superblock"), std::string::npos) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), out}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);
	// Every device and mapping is back; only the superblock's own fields
	// (transaction, nr_data_blocks) are inferred.
	auto after = ft::run({ft::tool("thin_dump"), out});
	EXPECT_EQ(after.out.substr(after.out.find('\n')), before.out.substr(before.out.find('\n')));

	// thin_dump --repair uses the same engine.
	auto d = ft::run({ft::tool("thin_dump"), "--repair", "--data-block-size", "256", img});
	EXPECT_EQ(d.status, 0) << d.err;
	EXPECT_EQ(d.out.substr(d.out.find('\n')), before.out.substr(before.out.find('\n')));
}

} // namespace

namespace {

// Zeroes every block IMAGE's metadata space map counts free: the copies
// of trees that transactions replaced go, so no older top level is left to
// name a device's root.
void wipe_free_blocks(const std::string &image) {
	std::set<block_address> used;
	uint64_t nr_blocks;
	{
		pdata::file_block_io io(image, base::access_mode::read_only);
		auto root = thin::read_superblock(io).metadata_sm();
		auto blocks = pdata::read_used_blocks(io, pdata::read_metadata_index(io, root));
		ASSERT_TRUE(blocks.has_value());
		used.insert(blocks->begin(), blocks->end());
		nr_blocks = io.nr_blocks();
	}
	std::string bytes = ft::read_file(image);
	for (block_address b = 0; b < nr_blocks; b++)
		if (!used.count(b))
			std::fill(bytes.begin() + b * pdata::BLOCK_SIZE, bytes.begin() + (b + 1) * pdata::BLOCK_SIZE, '\0');
	ft::write_file(image, bytes);
}

// A zeroed top level with no metadata snapshot: every device whose
// mapped_blocks match exactly one orphaned tree gets it back; two devices
// of one count (filled independently, so nothing ties either tree to
// either device) are left out and said so, never given each other's data.
// With the copies of the top level that transactions replaced still on the
// device, those name each device's root, and every device comes back.
TEST(ThinRepairLostTopLevel, DevicesThatCannotBeToldApartAreLeftOutNotSwapped) {
	ft::scratch dir;
	std::string img = dir.path("meta.img"), orig = dir.path("orig.img"), out = dir.path("out.img");
	ASSERT_EQ(generate(orig, out, {"--devices", "3", "--mappings", "2000", "--snapshots", "2"}), 0);
	ft::write_file(img, ft::read_file(orig));
	auto d = ft::run({ft::tool("thin_generate_damage"), img, "--kind", "zero-block", "--target", "top-level-node"});
	ASSERT_EQ(d.status, 0) << d.err;
	auto before = mappings_of(orig);
	ASSERT_EQ(before.at(1).size(), before.at(2).size()) << "devices 1 and 2 must have one count for this test";

	auto replaced = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(replaced.status, 0) << replaced.err;
	for (const char *dev : {"1", "2"})
		EXPECT_NE(replaced.err.find("thin device " + std::string(dev) + ": mapping root found at block"),
		          std::string::npos)
		    << replaced.err;
	EXPECT_NE(replaced.err.find("a top level the kernel replaced names for it"), std::string::npos) << replaced.err;
	EXPECT_TRUE(mappings_of(out) == before) << replaced.err;
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);

	wipe_free_blocks(img);

	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	for (const char *dev : {"1", "2"})
		EXPECT_NE(r.err.find("thin device " + std::string(dev) + ": 2 orphaned trees of its 2000 mappings could "
		                     "be its own"),
		          std::string::npos)
		    << r.err;
	auto expected = before;
	expected.erase(1);
	expected.erase(2);
	EXPECT_TRUE(mappings_of(out) == expected) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), out}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);
	auto dump = ft::run({ft::tool("thin_dump"), "--repair", img});
	EXPECT_EQ(dump.status, 0) << dump.err;
	EXPECT_EQ(dump.out, ft::run({ft::tool("thin_dump"), out}).out);
}

// Applies CHANGE to IMAGE's top-level leaf in place (its checksum is not
// resealed, so it then fails).
template <typename F> void change_top_level_leaf(const std::string &image, F change) {
	block_address leaf;
	{
		pdata::file_block_io io(image, base::access_mode::read_only);
		leaf = thin::read_superblock(io).data_mapping_root;
	}
	std::string bytes = ft::read_file(image);
	pdata::node_mut nd(reinterpret_cast<uint8_t *>(bytes.data()) + leaf * pdata::BLOCK_SIZE);
	ASSERT_TRUE(nd.is_leaf()) << "the top level must be one leaf for this test";
	change(nd);
	ft::write_file(image, bytes);
}

// Sets the top-level leaf's value for device DEV to what CHANGE makes of it.
template <typename F> void change_top_level_entry(const std::string &image, uint64_t dev, F change) {
	change_top_level_leaf(image, [&](pdata::node_mut &nd) {
		int i = nd.lower_bound(dev);
		ASSERT_TRUE(i >= 0 && nd.key(i) == dev);
		nd.set_value64(i, change(nd.value64(i)));
	});
}

block_address top_level_entry(const std::string &image, uint64_t dev) {
	pdata::file_block_io io(image, base::access_mode::read_only);
	pdata::block_manager bm(io);
	const std::set<block_address> none;
	collector top(none);
	pdata::walk_btree(bm, thin::read_superblock(io).data_mapping_root, {thin::MAPPING_VALUE_SIZE, false}, top);
	return top.entries.at(dev);
}

// A top-level leaf whose checksum fails but whose structure holds still
// names the devices' roots: where mapped_blocks cannot tell two devices'
// trees apart, its entries do - each checked against the orphaned trees, so
// an entry the damage changed names nothing and only that device is left
// out.
TEST(ThinRepairLostTopLevel, AChecksumDamagedTopLevelStillNamesTheRoots) {
	ft::scratch dir;
	std::string img = dir.path("meta.img"), orig = dir.path("orig.img"), out = dir.path("out.img");
	ASSERT_EQ(generate(orig, out, {"--devices", "3", "--mappings", "2000", "--snapshots", "2"}), 0);
	auto before = mappings_of(orig);
	ASSERT_EQ(before.at(1).size(), before.at(2).size()) << "devices 1 and 2 must have one count for this test";

	// (No older copy of the top level is left to name the roots.)
	wipe_free_blocks(orig);
	// A bit flipped away from the entries (in the checksum itself).
	ft::write_file(img, ft::read_file(orig));
	change_top_level_leaf(img, [](pdata::node_mut &nd) { nd.data_mut()[0] ^= 1; });
	ASSERT_EQ(ft::run({ft::tool("thin_check"), img}).status, 1);
	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	for (const char *dev : {"1", "2"})
		EXPECT_TRUE(std::regex_search(r.err, std::regex("thin device " + std::string(dev) +
		                                                ": mapping root found at block [0-9]+ \\(an orphaned tree "
		                                                "of its 2000 mappings the damaged top level names for it")))
		    << r.err;
	EXPECT_TRUE(mappings_of(out) == before) << r.err;
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);

	// A bit flipped in device 1's root: that entry names no orphaned tree,
	// device 2's names its own, and device 1 takes the one tree of its
	// count left over.
	ft::write_file(img, ft::read_file(orig));
	change_top_level_entry(img, 1, [](uint64_t v) { return v ^ (uint64_t(1) << 40); });
	ASSERT_EQ(ft::run({ft::tool("thin_check"), img}).status, 1);
	r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_TRUE(std::regex_search(r.err, std::regex("thin device 1: mapping root found at block [0-9]+ \\(the one "
	                                                "orphaned tree of its 2000 mappings left when the other devices "
	                                                "of that count had theirs")))
	    << r.err;
	EXPECT_TRUE(mappings_of(out) == before) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), out}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);

	// Device 1's entry changed to device 2's root: one of the two entries
	// is wrong and nothing tells which, so neither is used.
	ft::write_file(img, ft::read_file(orig));
	block_address root2 = top_level_entry(orig, 2);
	change_top_level_entry(img, 1, [&](uint64_t) { return root2; });
	r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("the damaged top level names one tree for more thin devices of 2000 mappings than lost "
	                     "it"),
	          std::string::npos)
	    << r.err;
	auto expected = before;
	expected.erase(1);
	expected.erase(2);
	EXPECT_TRUE(mappings_of(out) == expected) << r.err;
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);
}

} // namespace

namespace {

// A truncated copy of the metadata whose superblock is whole: its fields
// (the transaction id LVM checks, the data device's size) are the pool's and
// are kept, not inferred, and nothing that was before the cut is lost.
TEST(ThinRepairTruncated, KeepsTheSuperblocksFields) {
	ft::scratch dir;
	std::string img = dir.path("meta.img"), out = dir.path("out.img");
	ASSERT_EQ(generate(img, out, {"--devices", "2", "--mappings", "3000", "--snapshots", "2", "--nr-data-blocks", "100000"}),
	          0);
	auto before = ft::run({ft::tool("thin_dump"), img});
	ASSERT_NE(before.out.find("transaction=\"1\""), std::string::npos) << before.out.substr(0, 200);
	ASSERT_EQ(ft::run({ft::tool("thin_generate_damage"), img, "--kind", "truncate"}).status, 0);
	ASSERT_EQ(ft::run({ft::tool("thin_check"), img}).status, 1);

	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.err.find("inferred"), std::string::npos) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_dump"), out}).out, before.out);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);
}

} // namespace

namespace {

// The metadata snapshot's superblock is unreadable, so its trees cannot be
// walked: its older subtrees, still counted in use, would look like orphans
// of a device that lost keys.  Orphans are then not searched at all (said
// on stderr): the damaged node's mappings are lost, none is made up.
TEST(ThinRepairUnreadableSnapshot, OrphansAreNotSearchedAndNothingIsInvented) {
	ft::scratch dir;
	std::string orig = dir.path("orig.img"), img = dir.path("meta.img"), out = dir.path("out.img");
	ASSERT_EQ(generate(orig, out, {"--devices", "3", "--mappings", "5000", "--run-length", "6", "--snapshots", "5",
	                               "--writes", "200", "--metadata-snap"}),
	          0);
	ft::write_file(img, ft::read_file(orig));
	for (const char *target : {"snapshot-superblock", "mapping-internal"}) {
		auto d = ft::run({ft::tool("thin_generate_damage"), img, "--kind", "bad-checksum", "--target", target});
		ASSERT_EQ(d.status, 0) << d.err;
	}
	auto r = ft::run({ft::tool("thin_repair"), "-i", img, "-o", out});
	ASSERT_EQ(r.status, 0) << r.err;
	EXPECT_NE(r.err.find("unreadable: its trees cannot be told from orphaned ones"), std::string::npos) << r.err;
	EXPECT_EQ(ft::run({ft::tool("thin_check"), out}).status, 0);
	EXPECT_EQ(ft::run({ft::reference("thin_check"), out}).status, 0);
	auto got = mappings_of(out), original = mappings_of(orig);
	EXPECT_EQ(count_true(got, original), count(got)) << "the repair made up mappings";
	EXPECT_LT(count(got), count(original)) << "the damaged internal node lost nothing: the test damaged the wrong block";
}

} // namespace
