// Every tool on every pool the kernel wrote (fixtures/kernel/, made by
// functional-tests/kernel-scenarios/): a healthy kernel pool must pass our
// checks as it passes the reference's, our dumps and reports must be the
// reference's word for word (where the reference is known wrong, the test
// says so and compares with what the kernel recorded instead), what we dump
// must restore to metadata that checks clean and dumps back the same, and
// the devices our dump describes must hold exactly the data the kernel's
// own view of them hashed to.
#include "functional-tests/harness.h"
#include "functional-tests/kernel_corpus.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <fcntl.h>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using ft::kernel_image;
using ft::kernel_manifest;

std::vector<std::string> lines_of(const std::string &text) {
	std::vector<std::string> v;
	std::istringstream in(text);
	for (std::string l; std::getline(in, l);)
		v.push_back(l);
	return v;
}

// The value of attribute NAME in one line of XML, or nullopt.  (The
// reference's era_invalidate writes `end = "N"`, spaces and all.)
std::optional<std::string> attr(const std::string &line, const std::string &name) {
	for (const std::string &key : {" " + name + "=\"", " " + name + " = \""}) {
		auto at = line.find(key);
		if (at == std::string::npos)
			continue;
		at += key.size();
		return line.substr(at, line.find('"', at) - at);
	}
	return std::nullopt;
}

uint64_t num_attr(const std::string &line, const std::string &name) {
	auto v = attr(line, name);
	if (!v)
		throw std::runtime_error("no " + name + " in: " + line);
	return std::stoull(*v);
}

// XML with every NAME="..." attribute set to VALUE.
std::string with_attr(const std::string &xml, const std::string &name, const std::string &value) {
	std::string out, key = " " + name + "=\"";
	size_t from = 0;
	for (size_t at; (at = xml.find(key, from)) != std::string::npos;) {
		size_t end = xml.find('"', at + key.size());
		out += xml.substr(from, at - from) + key + value + "\"";
		from = end + 1;
	}
	return out + xml.substr(from);
}

uint64_t file_size(const std::string &path) {
	struct stat st;
	if (stat(path.c_str(), &st) != 0)
		throw std::runtime_error("cannot stat " + path);
	return uint64_t(st.st_size);
}

// Reads blocks of a data image.
class data_image {
public:
	explicit data_image(const std::string &path) : fd_(open(path.c_str(), O_RDONLY)) {
		if (fd_ < 0)
			throw std::runtime_error("cannot open " + path);
	}
	~data_image() { close(fd_); }
	data_image(const data_image &) = delete;
	data_image &operator=(const data_image &) = delete;
	// Block B of SIZE bytes appended to OUT (zeros past the image's end).
	void append_block(uint64_t b, size_t size, std::string &out) const {
		size_t at = out.size();
		out.resize(at + size, '\0');
		ssize_t got = pread(fd_, out.data() + at, size, off_t(b * size));
		if (got < 0)
			throw std::runtime_error("data image read failed");
	}

private:
	int fd_;
};

// Our TOOL and the reference's on the same arguments: both succeed, with
// the same output.
void expect_same_as_reference(const std::string &tool, const std::vector<std::string> &args,
                              const std::string &what) {
	std::vector<std::string> ours{ft::tool(tool)}, theirs{ft::reference(tool)};
	ours.insert(ours.end(), args.begin(), args.end());
	theirs.insert(theirs.end(), args.begin(), args.end());
	auto a = ft::run(ours), b = ft::run(theirs);
	EXPECT_EQ(a.status, 0) << what << ": " << tool << "\n" << a.err;
	EXPECT_EQ(a.status, b.status) << what << ": " << tool << "\nours: " << a.err << "\ntheirs: " << b.err;
	EXPECT_TRUE(a.out == b.out) << what << ": " << tool << " outputs differ (first 1500 bytes)\nours:\n"
	                            << a.out.substr(0, 1500) << "\ntheirs:\n"
	                            << b.out.substr(0, 1500);
}

} // namespace

namespace ft {
// (gtest names a failing case's parameter with this.)
void PrintTo(const kernel_image &i, std::ostream *os) { *os << i.name(); }
} // namespace ft

namespace {

class KernelCorpus : public ::testing::TestWithParam<kernel_image> {
protected:
	void SetUp() override {
		image_ = GetParam();
		meta_ = dir_.path("meta.img");
		ft::unpack(ft::kernel_disk(image_.fixture, image_.serial), meta_);
		manifest_.emplace(image_);
	}
	const kernel_manifest &manifest() const { return *manifest_; }
	bool snapshot_held() const { return manifest().has("metadata_snap_state"); }
	std::string what() const { return image_.name(); }
	std::string unpack_disk(const std::string &serial) {
		std::string p = dir_.path(serial + ".data");
		ft::unpack(ft::kernel_disk(image_.fixture, serial), p);
		return p;
	}
	// A fresh zeroed file the size of the kernel's metadata device.
	std::string blank(const std::string &name) {
		std::string p = dir_.path(name);
		ft::make_zero_file(p, file_size(meta_));
		return p;
	}

	kernel_image image_;
	ft::scratch dir_;
	std::string meta_;
	std::optional<kernel_manifest> manifest_;
};

// ---- thin pools -------------------------------------------------------

class ThinCorpus : public KernelCorpus {
protected:
	ft::result ours(std::vector<std::string> args, const std::string &tool = "thin_dump") {
		args.insert(args.begin(), ft::tool(tool));
		return ft::run(args);
	}
	std::string dump(bool snap) {
		auto r = ours(snap ? std::vector<std::string>{"-m", meta_} : std::vector<std::string>{meta_});
		EXPECT_EQ(r.status, 0) << what() << ": " << r.err;
		return r.out;
	}

	// The content of every device of XML (a dump), block by block from the
	// data image, and its hash; compared with the kernel's STATE hashes of
	// the devices IDS (the kernel hashed each device at its table's size).
	void expect_rmap_is_the_dumps();

	// The hash of a device of BYTES whose blocks MAP gives (zeroes where
	// unmapped).  The images of one fixture share their data, and most of
	// their devices' mappings (thin-many's three images hold the same live
	// devices): a device mapped as one already hashed is not hashed again.
	std::string content_hash(const std::map<uint64_t, uint64_t> &map, uint64_t bytes, uint64_t block_bytes,
	                         const data_image &data) {
		static std::map<std::string, std::string> known;
		std::string key = image_.fixture + " " + std::to_string(bytes);
		for (const auto &[v, d] : map)
			key += " " + std::to_string(v) + ":" + std::to_string(d);
		if (auto it = known.find(key); it != known.end())
			return it->second;
		std::string content;
		content.reserve(bytes);
		for (uint64_t b = 0; b * block_bytes < bytes; b++) {
			auto it = map.find(b);
			if (it == map.end())
				content.resize(content.size() + block_bytes, '\0');
			else
				data.append_block(it->second, block_bytes, content);
		}
		content.resize(bytes);
		return known[key] = ft::sha256_hex(content);
	}
	void expect_devices_hold(const std::string &xml, const std::string &state, const std::vector<uint64_t> &ids,
	                         const data_image &data) {
		auto lines = lines_of(xml);
		uint64_t block_bytes = num_attr(lines.at(0), "data_block_size") * 512;
		std::map<uint64_t, std::map<uint64_t, uint64_t>> maps; // dev -> virtual -> data
		std::map<uint64_t, uint64_t> *cur = nullptr;
		for (const auto &l : lines) {
			if (l.find("<device ") != std::string::npos)
				cur = &maps[num_attr(l, "dev_id")];
			else if (l.find("<single_mapping ") != std::string::npos)
				(*cur)[num_attr(l, "origin_block")] = num_attr(l, "data_block");
			else if (l.find("<range_mapping ") != std::string::npos) {
				uint64_t o = num_attr(l, "origin_begin"), d = num_attr(l, "data_begin"), n = num_attr(l, "length");
				for (uint64_t i = 0; i < n; i++)
					(*cur)[o + i] = d + i;
			}
		}
		ASSERT_FALSE(ids.empty()) << what() << ": the manifest lists no devices for state " << state;
		std::set<uint64_t> expected_ids(ids.begin(), ids.end()), dumped;
		for (const auto &[dev, m] : maps)
			dumped.insert(dev);
		// (A held snapshot may keep a device whose data the kernel has
		// since discarded: the manifest names it metadata_snap_data_lost.)
		for (uint64_t dev : manifest().ids("metadata_snap_data_lost"))
			if (state == manifest().word("metadata_snap_state"))
				expected_ids.insert(dev);
		EXPECT_EQ(dumped, expected_ids) << what() << ": devices in the dump vs the kernel's, state " << state;
		for (uint64_t dev : ids) {
			if (!maps.count(dev))
				continue; // (reported above)
			std::string label = state + ":thin" + std::to_string(dev);
			std::string want = manifest().sha256(label);
			ASSERT_NE(want, "") << what() << ": no hash " << label;
			uint64_t bytes = manifest().thin_sectors().at(dev) * 512;
			EXPECT_EQ(content_hash(maps[dev], bytes, block_bytes, data), want)
			    << what() << ": thin " << dev << " in state " << state;
		}
	}
};

// "data B..E -> thin(D) V..W" lines as (data block, device, virtual block).
std::set<std::tuple<uint64_t, uint64_t, uint64_t>> rmap_triples(const std::string &text) {
	std::set<std::tuple<uint64_t, uint64_t, uint64_t>> t;
	for (const auto &l : lines_of(text)) {
		unsigned long long b, e, d, v, w;
		if (sscanf(l.c_str(), "data %llu..%llu -> thin(%llu) %llu..%llu", &b, &e, &d, &v, &w) != 5)
			throw std::runtime_error("not an rmap line: " + l);
		for (uint64_t i = 0; i < e - b; i++)
			t.insert({b + i, d, v + i});
	}
	return t;
}

// thin_rmap over the whole data device names every (device, block) our dump
// maps to each data block, and nothing else.  The reference's answer is a
// part of it: 0.9.0 visits a leaf that several devices share once, for the
// first device that reaches it, so a snapshot that shares its origin's
// leaves is missing from its reverse map.
void ThinCorpus::expect_rmap_is_the_dumps() {
	std::string xml = dump(false);
	std::string nr = *attr(lines_of(xml).at(0), "nr_data_blocks");
	std::set<std::tuple<uint64_t, uint64_t, uint64_t>> truth;
	uint64_t dev = 0;
	for (const auto &l : lines_of(xml)) {
		if (l.find("<device ") != std::string::npos)
			dev = num_attr(l, "dev_id");
		else if (l.find("<single_mapping ") != std::string::npos)
			truth.insert({num_attr(l, "data_block"), dev, num_attr(l, "origin_block")});
		else if (l.find("<range_mapping ") != std::string::npos)
			for (uint64_t i = 0; i < num_attr(l, "length"); i++)
				truth.insert({num_attr(l, "data_begin") + i, dev, num_attr(l, "origin_begin") + i});
	}
	auto a = ours({"--region", "0.." + nr, meta_}, "thin_rmap");
	auto b = ft::run({ft::reference("thin_rmap"), "--region", "0.." + nr, meta_});
	ASSERT_EQ(a.status, 0) << what() << ": " << a.err;
	ASSERT_EQ(b.status, 0) << what() << ": " << b.err;
	auto got = rmap_triples(a.out), theirs = rmap_triples(b.out);
	EXPECT_TRUE(got == truth) << what() << ": the reverse map is not the dump's (" << got.size() << " against "
	                          << truth.size() << " mapped blocks)";
	EXPECT_TRUE(std::includes(got.begin(), got.end(), theirs.begin(), theirs.end()))
	    << what() << ": the reference names mappings we do not";
}

TEST_P(ThinCorpus, CheckPassesAsTheReferences) {
	std::vector<std::vector<std::string>> modes{{}, {"-q"}, {"--skip-mappings"}, {"--super-block-only"}};
	if (snapshot_held())
		modes.push_back({"-m"});
	for (auto args : modes) {
		args.push_back(meta_);
		auto a = ours(args, "thin_check");
		std::vector<std::string> ref{ft::reference("thin_check")};
		ref.insert(ref.end(), args.begin(), args.end());
		auto b = ft::run(ref);
		EXPECT_EQ(a.status, 0) << what() << " " << args[0] << ": " << a.out << a.err;
		EXPECT_EQ(b.status, 0) << what() << " " << args[0] << ": the reference fails: " << b.err;
	}
	// As LVM runs it at activation: silent, and nothing to clear or mend.
	std::string before = ft::read_file(meta_);
	auto q = ours({"-q", "--clear-needs-check-flag", meta_}, "thin_check");
	EXPECT_EQ(q.status, 0) << what() << ": " << q.err;
	EXPECT_EQ(q.out + q.err, "") << what();
	EXPECT_TRUE(ft::read_file(meta_) == before) << what() << ": a clean check wrote the metadata";
}

TEST_P(ThinCorpus, DumpIsTheReferences) {
	expect_same_as_reference("thin_dump", {meta_}, what());
	expect_same_as_reference("thin_dump", {"--format", "human_readable", meta_}, what());
	if (!snapshot_held())
		return;
	// The reference prints nr_data_blocks="0" for the held snapshot (the
	// kernel zeroes the space-map roots of the snapshot's superblock copy);
	// ours carries the live value, which a restore needs.
	auto a = ours({"-m", meta_});
	auto b = ft::run({ft::reference("thin_dump"), "-m", meta_});
	ASSERT_EQ(a.status, 0) << what() << ": " << a.err;
	ASSERT_EQ(b.status, 0) << what() << ": " << b.err;
	std::string live_size = *attr(lines_of(dump(false)).at(0), "nr_data_blocks");
	EXPECT_EQ(*attr(lines_of(a.out).at(0), "nr_data_blocks"), live_size) << what();
	EXPECT_EQ(*attr(lines_of(b.out).at(0), "nr_data_blocks"), "0") << what() << ": the reference's bug is mended?";
	EXPECT_TRUE(with_attr(a.out, "nr_data_blocks", "0") == b.out) << what() << ": -m dumps differ apart from "
	                                                                            "nr_data_blocks";
}

TEST_P(ThinCorpus, LsRmapAndDeltaAreTheReferences) {
	std::string all = "DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS,MAPPED_SECTORS,EXCLUSIVE_SECTORS,"
	                  "SHARED_SECTORS,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES,MAPPED,EXCLUSIVE,SHARED,"
	                  "TRANSACTION,CREATE_TIME,SNAP_TIME";
	expect_same_as_reference("thin_ls", {meta_}, what());
	expect_same_as_reference("thin_ls", {"--no-headers", "-o", all, meta_}, what());
	if (snapshot_held())
		expect_same_as_reference("thin_ls", {"-m", "-o", all, meta_}, what());
	expect_rmap_is_the_dumps();
	// Between each snapshot and its origin for the first, middle and last
	// snapshots taken (chains included), and two unrelated devices.
	const auto &snaps = manifest().snapshots();
	std::vector<uint64_t> live = manifest().ids("live_thins");
	std::set<uint64_t> alive(live.begin(), live.end());
	std::vector<std::pair<uint64_t, uint64_t>> pairs;
	for (size_t i : {size_t(0), snaps.size() / 2, snaps.size() - 1})
		if (i < snaps.size() && alive.count(snaps[i].first) && alive.count(snaps[i].second))
			pairs.push_back({snaps[i].second, snaps[i].first});
	if (live.size() >= 2)
		pairs.push_back({live.front(), live.back()});
	ASSERT_FALSE(pairs.empty()) << what();
	for (const auto &[a, b] : pairs) {
		std::vector<std::string> args{"--snap1", std::to_string(a), "--snap2", std::to_string(b)};
		for (bool verbose : {false, true}) {
			auto v = args;
			if (verbose)
				v.push_back("--verbose");
			v.push_back(meta_);
			expect_same_as_reference("thin_delta", v, what() + " " + std::to_string(a) + ".." + std::to_string(b));
		}
	}
}

TEST_P(ThinCorpus, DevicesHoldTheDataTheKernelHashed) {
	data_image data(unpack_disk("data"));
	expect_devices_hold(dump(false), manifest().word("final_state"), manifest().ids("live_thins"), data);
	if (snapshot_held())
		expect_devices_hold(dump(true), manifest().word("metadata_snap_state"), manifest().ids("metadata_snap_thins"),
		                    data);
}

TEST_P(ThinCorpus, RestoredDumpChecksCleanAndDumpsBackTheSame) {
	std::vector<bool> which{false};
	if (snapshot_held())
		which.push_back(true);
	for (bool snap : which) {
		std::string xml = dump(snap), in = dir_.path("in.xml"), out = blank("restored.img");
		ft::write_file(in, xml);
		auto r = ours({"-i", in, "-o", out}, "thin_restore");
		ASSERT_EQ(r.status, 0) << what() << ": " << r.err;
		auto c = ours({out}, "thin_check");
		EXPECT_EQ(c.status, 0) << what() << (snap ? " -m" : "") << ": " << c.out << c.err;
		auto rc = ft::run({ft::reference("thin_check"), out});
		EXPECT_EQ(rc.status, 0) << what() << (snap ? " -m" : "") << ": the reference rejects ours: " << rc.err;
		EXPECT_TRUE(ours({out}).out == xml) << what() << (snap ? " -m" : "") << ": restored image dumps differently";
		EXPECT_TRUE(ft::run({ft::reference("thin_dump"), out}).out == xml)
		    << what() << (snap ? " -m" : "") << ": the reference dumps our restored image differently";
	}
}

std::vector<kernel_image> of_kind(const std::string &kind) {
	std::vector<kernel_image> v;
	for (const auto &i : ft::kernel_corpus())
		if (i.kind == kind)
			v.push_back(i);
	return v;
}

std::string image_name(const ::testing::TestParamInfo<kernel_image> &info) {
	std::string n = info.param.fixture + "_" + info.param.serial;
	std::replace(n.begin(), n.end(), '-', '_');
	return n;
}

INSTANTIATE_TEST_SUITE_P(Kernel, ThinCorpus, ::testing::ValuesIn(of_kind("thin")), image_name);

// ---- dm-cache ---------------------------------------------------------

class CacheCorpus : public KernelCorpus {
protected:
	// The kernel's last status of the cache: "0 LEN cache MBS USED/TOTAL
	// CBS USED/TOTAL RH RM WH WM DEMOTIONS PROMOTIONS DIRTY ...", taken after
	// the hash of the whole device ("hashed"; reading it promotes blocks),
	// or, in cache-basic, before it ("final": the image holds more).
	std::vector<std::string> last_status() const {
		auto s = manifest().status("hashed", "cache");
		if (s.empty())
			s = manifest().status("final", "cache");
		if (s.size() < 14)
			throw std::runtime_error(what() + ": no final cache status");
		return s;
	}
	bool status_after_hash() const { return !manifest().status("hashed", "cache").empty(); }
	uint64_t kernel_dirty() const { return std::stoull(last_status()[13]); }
	uint64_t kernel_used() const {
		auto s = last_status();
		return std::stoull(s[6].substr(0, s[6].find('/')));
	}
	bool format_2() const {
		auto f = manifest().words("feature_args");
		return f && std::find(f->begin(), f->end(), "metadata2") != f->end();
	}
	std::string dump() {
		auto r = ft::run({ft::tool("cache_dump"), meta_});
		EXPECT_EQ(r.status, 0) << what() << ": " << r.err;
		return r.out;
	}
};

TEST_P(CacheCorpus, CheckPassesAsTheReferences) {
	for (std::vector<std::string> args : {std::vector<std::string>{}, {"-q"}, {"--skip-mappings"}, {"--skip-hints"},
	                                      {"--skip-discards"}, {"--super-block-only"}}) {
		args.push_back(meta_);
		std::vector<std::string> a{ft::tool("cache_check")}, b{ft::reference("cache_check")};
		a.insert(a.end(), args.begin(), args.end());
		b.insert(b.end(), args.begin(), args.end());
		auto ra = ft::run(a), rb = ft::run(b);
		EXPECT_EQ(ra.status, 0) << what() << " " << args[0] << ": " << ra.out << ra.err;
		EXPECT_EQ(rb.status, 0) << what() << " " << args[0] << ": the reference fails: " << rb.err;
	}
}

TEST_P(CacheCorpus, DumpIsTheReferencesAndTheKernelsDirtyCount) {
	std::string ours = dump();
	auto theirs = ft::run({ft::reference("cache_dump"), meta_});
	ASSERT_EQ(theirs.status, 0) << theirs.err;
	uint64_t mappings = 0, dirty = 0;
	for (const auto &l : lines_of(ours))
		if (l.find("<mapping ") != std::string::npos) {
			mappings++;
			dirty += *attr(l, "dirty") == "true";
		}
	if (status_after_hash())
		EXPECT_EQ(mappings, kernel_used()) << what() << ": mappings vs the kernel's used blocks";
	else
		EXPECT_GE(mappings, kernel_used()) << what() << ": mappings vs the kernel's used blocks";
	EXPECT_EQ(dirty, kernel_dirty()) << what() << ": dirty mappings vs the kernel's dirty count";
	EXPECT_GT(dirty, 0u) << what() << ": the scenario meant to leave dirty blocks";
	if (format_2()) {
		// 0.9.0 ignores the format-2 dirty bitset and calls every block
		// clean: the kernel's count above is the truth; the rest must agree.
		EXPECT_EQ(theirs.out.find("dirty=\"true\""), std::string::npos) << what() << ": the reference's bug is mended?";
		EXPECT_TRUE(with_attr(ours, "dirty", "false") == theirs.out) << what() << ": dumps differ beyond the dirty flags";
	} else
		EXPECT_TRUE(ours == theirs.out) << what() << ": dumps differ";
}

TEST_P(CacheCorpus, DirtyBlocksAreWhereTheKernelsViewDiffersFromTheOrigin) {
	// The kernel hashed the cache device (its view: the origin, with dirty
	// blocks read from the cache device).  The origin image plus the dirty
	// blocks our dump names must give that hash.
	std::string want = manifest().sha256("final:cache");
	ASSERT_NE(want, "") << what();
	std::string origin = ft::read_file(unpack_disk("origin"));
	data_image cdev(unpack_disk("cdev"));
	auto lines = lines_of(dump());
	size_t block_bytes = size_t(num_attr(lines.at(0), "block_size")) * 512;
	for (const auto &l : lines)
		if (l.find("<mapping ") != std::string::npos && *attr(l, "dirty") == "true") {
			std::string b;
			cdev.append_block(num_attr(l, "cache_block"), block_bytes, b);
			origin.replace(size_t(num_attr(l, "origin_block")) * block_bytes, block_bytes, b);
		}
	EXPECT_EQ(ft::sha256_hex(origin), want) << what();
}

TEST_P(CacheCorpus, RestoredDumpChecksCleanAndDumpsBackTheSame) {
	std::string xml = dump(), in = dir_.path("in.xml"), out = blank("restored.img");
	ft::write_file(in, xml);
	std::vector<std::string> restore{ft::tool("cache_restore"), "-i", in, "-o", out};
	if (!format_2())
		restore.insert(restore.end(), {"--metadata-version", "1"});
	auto r = ft::run(restore);
	ASSERT_EQ(r.status, 0) << what() << ": " << r.err;
	auto c = ft::run({ft::tool("cache_check"), out});
	EXPECT_EQ(c.status, 0) << what() << ": " << c.out << c.err;
	auto rc = ft::run({ft::reference("cache_check"), out});
	EXPECT_EQ(rc.status, 0) << what() << ": the reference rejects ours: " << rc.err;
	EXPECT_TRUE(ft::run({ft::tool("cache_dump"), out}).out == xml) << what() << ": restored image dumps differently";
}

INSTANTIATE_TEST_SUITE_P(Kernel, CacheCorpus, ::testing::ValuesIn(of_kind("cache")), image_name);

// ---- dm-era -----------------------------------------------------------

class EraCorpus : public KernelCorpus {
protected:
	uint64_t current_era() const {
		auto s = manifest().status("final", "era");
		return std::stoull(s.at(5)); // "0 LEN era MBS USED/TOTAL ERA ROOT"
	}
};

TEST_P(EraCorpus, CheckAndDumpsAreTheReferences) {
	expect_same_as_reference("era_check", {meta_}, what());
	expect_same_as_reference("era_dump", {meta_}, what());
	// (--logical differs by design: ours takes a block's newest era, the
	// reference its oldest; era_test.cc covers it.)
	for (uint64_t e = 0; e <= current_era() + 1; e++)
		expect_same_as_reference("era_invalidate", {"--written-since", std::to_string(e), meta_},
		                         what() + " since " + std::to_string(e));
	if (manifest().has("metadata_snap_state")) {
		EXPECT_NE(manifest().status("final", "era").at(6), "-") << what() << ": the kernel held no metadata snapshot";
	}
}

// The blocks era_invalidate says were written since each era.
std::set<uint64_t> written_since(const std::vector<std::string> &args) {
	auto r = ft::run(args);
	if (r.status != 0)
		throw std::runtime_error(args[0] + " failed: " + r.err);
	std::set<uint64_t> got;
	for (const auto &l : lines_of(r.out)) {
		if (l.find("<block ") != std::string::npos)
			got.insert(num_attr(l, "block"));
		else if (l.find("<range ") != std::string::npos)
			for (uint64_t b = num_attr(l, "begin"); b < num_attr(l, "end"); b++)
				got.insert(b);
	}
	return got;
}

TEST_P(EraCorpus, WrittenBlocksAreTheKernelsWrites) {
	// The blocks the scenario wrote (its "cmd dmh write /dev/mapper/era SEED
	// OFF LEN [STRIDE COUNT]" lines), each in the era the kernel had reached,
	// against era_invalidate's answer for every era.  A checkpoint starts a
	// new era, and so does taking a metadata snapshot (the kernel's status
	// lines show it); the snapshot holds the writes made before it.
	uint64_t block_bytes = std::stoull(manifest().word("era_block_sectors")) * 512;
	uint64_t era = std::stoull(manifest().status("start", "era").at(5));
	std::map<uint64_t, uint64_t> newest, at_snapshot; // block -> era of its last write
	std::optional<uint64_t> snapshot_era;
	std::istringstream in(ft::read_file(ft::fixture("kernel/" + image_.fixture + "/manifest.txt")));
	for (std::string line; std::getline(in, line);) {
		std::istringstream w(line);
		std::vector<std::string> v;
		for (std::string s; w >> s;)
			v.push_back(s);
		if (v.size() == 6 && v[1] == "dmsetup" && v[2] == "message" && v[3] == "era") {
			if (v[5] == "take_metadata_snap") {
				at_snapshot = newest;
				snapshot_era = ++era;
			} else if (v[5] == "checkpoint")
				era++;
		}
		if (v.size() < 7 || v[1] != "dmh" || v[2] != "write" || v[3] != "/dev/mapper/era")
			continue;
		auto bytes = [](const std::string &s) {
			uint64_t n = std::stoull(s);
			char unit = s.back();
			return unit == 'k' ? n << 10 : unit == 'm' ? n << 20 : n;
		};
		uint64_t off = bytes(v[5]), len = bytes(v[6]);
		uint64_t stride = v.size() >= 9 ? bytes(v[7]) : 0, count = v.size() >= 9 ? bytes(v[8]) : 1;
		for (uint64_t i = 0; i < count; i++)
			for (uint64_t b = (off + i * stride) / block_bytes; b * block_bytes < off + i * stride + len; b++)
				newest[b] = era;
	}
	ASSERT_EQ(era, current_era()) << what() << ": eras counted vs the kernel's";
	ASSERT_EQ(snapshot_era.has_value(), manifest().has("metadata_snap_state")) << what();
	auto expected = [](const std::map<uint64_t, uint64_t> &writes, uint64_t since) {
		std::set<uint64_t> s;
		for (const auto &[b, e] : writes)
			if (e >= since)
				s.insert(b);
		return s;
	};
	for (uint64_t since = 1; since <= current_era(); since++)
		EXPECT_EQ(written_since({ft::tool("era_invalidate"), "--written-since", std::to_string(since), meta_}),
		          expected(newest, since))
		    << what() << ": written since era " << since;
	if (!snapshot_era)
		return;
	// The reference's --metadata-snapshot reads the live trees all the same
	// (its answer is the live one); ours reads the snapshot's.
	for (uint64_t since = 1; since <= *snapshot_era; since++) {
		std::vector<std::string> args{"--metadata-snapshot", "--written-since", std::to_string(since), meta_};
		std::vector<std::string> a{ft::tool("era_invalidate")}, b{ft::reference("era_invalidate")};
		a.insert(a.end(), args.begin(), args.end());
		b.insert(b.end(), args.begin(), args.end());
		EXPECT_EQ(written_since(a), expected(at_snapshot, since)) << what() << ": snapshot, since era " << since;
		EXPECT_EQ(written_since(b), expected(newest, since)) << what() << ": the reference's -m is mended?";
	}
}

TEST_P(EraCorpus, RestoredDumpChecksCleanAndDumpsBackTheSame) {
	auto d = ft::run({ft::tool("era_dump"), meta_});
	ASSERT_EQ(d.status, 0) << d.err;
	std::string in = dir_.path("in.xml"), out = blank("restored.img");
	ft::write_file(in, d.out);
	auto r = ft::run({ft::tool("era_restore"), "-i", in, "-o", out});
	ASSERT_EQ(r.status, 0) << what() << ": " << r.err;
	auto c = ft::run({ft::tool("era_check"), out});
	EXPECT_EQ(c.status, 0) << what() << ": " << c.out << c.err;
	auto rc = ft::run({ft::reference("era_check"), out});
	EXPECT_EQ(rc.status, 0) << what() << ": the reference rejects ours: " << rc.err;
	EXPECT_TRUE(ft::run({ft::tool("era_dump"), out}).out == d.out) << what() << ": restored image dumps differently";
}

INSTANTIATE_TEST_SUITE_P(Kernel, EraCorpus, ::testing::ValuesIn(of_kind("era")), image_name);

// Every metadata image the fixtures hold is in the corpus the tests above
// walk (a new fixture cannot be left out by mistake).
TEST(KernelCorpusList, NamesEveryKernelImage) {
	std::set<std::string> listed, found;
	for (const auto &i : ft::kernel_corpus())
		listed.insert(i.name());
	for (const auto &i : ft::kernel_images_on_disk())
		found.insert(i.name());
	EXPECT_EQ(listed, found);
}

} // namespace
