// Field-by-field fuzzing (xfstests' common/fuzzy is the model): every field
// of every on-disk structure (dev-tools/field_table.h) set to zeroes, ones,
// its first bit flipped, plus one, minus one and a random value, one at a
// time, with the block's checksum sealed again, on kernel-written images and
// a generated pool with a metadata snapshot.  For each case:
//   - the check detects the change, unless the kernel accepts such a value
//     (then the check passes; for many fields either may be right: a
//     different but valid-looking mapping, a count the kernel recomputes);
//   - repair exits 0 (or fails only where the reference's repair fails
//     too), and its output passes our check and the reference's;
//   - the mappings it recovers are never fewer than the reference's repair
//     recovers from the same image.
// `make test` runs every other field of four images once, the mutations
// taking turns;
// DMPD_FUZZ_FIELDS=all (make fuzz-fields) runs every case on every image
// and writes the table to DMPD_FUZZ_FIELDS_TABLE; DMPD_FUZZ_FIELDS_KIND
// keeps the images of one kind.
#include "functional-tests/harness.h"
#include "functional-tests/kernel_corpus.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace {

enum class expect { detect, pass, either };

// What the check must say of a changed field.  Where the kernel reads the
// field and refuses a wrong value, or the structures no longer agree, the
// check must detect it; where the kernel ignores the field (a uuid, a
// version it does not check, statistics), it must pass.
expect expectation(const std::string &kind, const std::string &field, const std::string &mutation) {
	auto ends = [&](const std::string &s) {
		return field.size() >= s.size() && field.compare(field.size() - s.size(), s.size(), s) == 0;
	};
	auto has = [&](const std::string &s) { return field.find(s) != std::string::npos; };
	if (ends(".uuid") || ends(".read_hits") || ends(".write_misses"))
		return expect::pass;
	// The kernel reads a held thin snapshot's copy only to release it: its
	// checksum, block number, magic and its two roots.
	if (kind == "thin" && has("snapshot-superblock."))
		return ends("_root") || ends(".blocknr") || ends(".magic") ? expect::detect : expect::pass;
	if (ends(".blocknr") || ends(".magic") || ends("header.nr_entries") || ends("header.max_entries") ||
	    ends("header.value_size") || ends(".incompat_flags") || ends(".bitmap_root") || ends(".ref_count_root"))
		return expect::detect;
	if (kind == "thin") {
		if (has("superblock.") &&
		    (ends(".flags") || ends(".version") || ends(".trans_id") || ends(".metadata_nr_blocks") ||
		     ends(".compat_flags") || ends(".metadata_block_size")))
			return expect::pass;
		if (ends("value0.transaction_id"))
			return expect::pass;
		if (ends(".data_mapping_root") || ends(".device_details_root") || ends(".data_block_size") ||
		    ends(".compat_ro_flags") || ends("value0.mapped_blocks") || ends("top-level-node.value0") ||
		    ends("ref-counts.value0") || ends("entry0.blocknr") || ends("value0.blocknr") || ends(".word0"))
			return expect::detect;
		if (ends("superblock.metadata_snap"))
			return mutation == "zeroes" ? expect::either : expect::detect;
	}
	if (kind == "cache" && (ends(".mapping_root") || ends(".data_block_size") || ends(".compat_ro_flags")))
		return expect::detect;
	if (kind == "era" && (ends(".era_array_root") || ends(".writeset_tree_root")))
		return expect::detect;
	return expect::either;
}

std::string expect_name(expect e) { return e == expect::detect ? "detect" : e == expect::pass ? "pass" : "either"; }

// A tool run under a time limit: damage must never make a tool hang
// (timeout's exit code 124 says it did).
ft::result limited(std::vector<std::string> argv) {
	argv.insert(argv.begin(), {"timeout", "120"});
	return ft::run(argv);
}

struct image {
	std::string name, path, kind;
	uint64_t mappings = 0; // before any damage
};

// Mappings a thin dump, cache dump or era dump holds.
uint64_t recovered(const std::string &kind, const std::string &xml) {
	uint64_t n = 0;
	std::istringstream in(xml);
	for (std::string l; std::getline(in, l);) {
		auto num = [&](const std::string &attr) -> uint64_t {
			auto at = l.find(" " + attr + "=\"");
			return at == std::string::npos ? 0 : std::stoull(l.substr(at + attr.size() + 3));
		};
		if (kind == "thin") {
			if (l.find("<single_mapping ") != std::string::npos)
				n++;
			else if (l.find("<range_mapping ") != std::string::npos)
				n += num("length");
		} else if (kind == "cache") {
			n += l.find("<mapping ") != std::string::npos;
		} else if (l.find("<era ") != std::string::npos && num("era") > 0)
			n++;
	}
	return n;
}

struct outcome {
	std::string image, field, mutation;
	expect expected = expect::either;
	int check = 0, ref_check = 0, repair = 0, ref_repair = 0;
	bool repaired_checks = false, ref_accepts_repaired = false;
	uint64_t ours = 0, theirs = 0;
	std::string problem; // what went wrong, "" when the case holds
};

class FieldFuzz : public ::testing::Test {
protected:
	static void SetUpTestSuite() {
		dir = new ft::scratch;
		all = std::getenv("DMPD_FUZZ_FIELDS") && std::string(std::getenv("DMPD_FUZZ_FIELDS")) == "all";
		auto kernel = [&](const std::string &fixture, const std::string &serial, const std::string &kind) {
			std::string p = dir->path(fixture + "-" + serial + ".img");
			ft::unpack(ft::kernel_disk(fixture, serial), p);
			images.push_back({fixture + "/" + serial, p, kind});
		};
		kernel("thin-discard", "meta", "thin");
		kernel("cache-v2", "meta", "cache");
		kernel("era-snap", "meta", "era");
		// A generated pool: 6 devices, snapshots, a held metadata snapshot.
		std::string gen = dir->path("generated.img");
		ft::make_zero_file(gen, 16 << 20);
		auto g = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", gen, "--devices", "6", "--mappings",
		                  "8000", "--run-length", "5", "--snapshots", "3", "--writes", "200", "--metadata-snap"});
		if (g.status != 0)
			throw std::runtime_error(g.err);
		images.push_back({"generated", gen, "thin"});
		// Device trees of three levels: over 126 * 252 = 31,752 mappings a
		// device (the generated pool above has two levels, thin-discard's
		// origin two as well).
		std::string deep = dir->path("generated-deep.img");
		ft::make_zero_file(deep, 32 << 20);
		g = ft::run({ft::tool("thin_generate_metadata"), "-q", "-o", deep, "--devices", "1", "--mappings", "40000",
		             "--run-length", "1", "--snapshots", "2", "--writes", "500"});
		if (g.status != 0)
			throw std::runtime_error(g.err);
		images.push_back({"generated-deep", deep, "thin"});
		if (all) {
			kernel("thin-basic", "meta", "thin");
			kernel("thin-many", "held", "thin");
			kernel("thin-meta-grow", "meta", "thin");
			kernel("cache-v1", "meta", "cache");
			kernel("cache-basic", "meta", "cache");
			kernel("era-basic", "meta", "era");
		}
		// DMPD_FUZZ_FIELDS_KIND=thin|cache|era: those images only (a rerun
		// of one kind after a fix).
		if (const char *kind = std::getenv("DMPD_FUZZ_FIELDS_KIND"))
			std::erase_if(images, [&](const image &i) { return i.kind != kind; });
	}
	static void TearDownTestSuite() {
		delete dir;
		images.clear();
	}

	static std::vector<std::pair<std::string, std::string>> fields(const image &img) {
		auto r = limited({ft::tool("field_fuzz"), img.path, "--list"});
		if (r.status != 0)
			throw std::runtime_error(img.name + ": " + r.err);
		std::vector<std::pair<std::string, std::string>> v;
		std::istringstream in(r.out);
		for (std::string name, block, off, width; in >> name >> block >> off >> width;)
			v.push_back({name, block});
		return v;
	}

	// Repairs IN into OUT with TOOL_DIR's tools ("" for ours); the exit code.
	static int repair(const image &img, bool reference, const std::string &in, const std::string &out) {
		auto t = [&](const std::string &name) { return reference ? ft::reference(name) : ft::tool(name); };
		ft::make_zero_file(out, 16 << 20);
		if (img.kind == "thin")
			return limited({t("thin_repair"), "-i", in, "-o", out}).status;
		if (img.kind == "cache")
			return limited({t("cache_repair"), "-i", in, "-o", out}).status;
		// era: no era_repair; what it would do is dump --repair and restore.
		auto d = limited({t("era_dump"), "--repair", in});
		if (d.status != 0 || d.out.empty())
			return d.status ? d.status : 1;
		ft::write_file(out + ".xml", d.out);
		return limited({t("era_restore"), "-i", out + ".xml", "-o", out}).status;
	}

	static std::string dump(const image &img, const std::string &path) {
		return limited({ft::tool(img.kind + "_dump"), path}).out;
	}

	static outcome run_case(const image &img, const std::string &field, const std::string &mutation, int seed) {
		outcome o;
		o.image = img.name;
		o.field = field;
		o.mutation = mutation;
		o.expected = expectation(img.kind, field, mutation);
		std::string bad = dir->path("case.img");
		ft::write_file(bad, ft::read_file(img.path));
		auto m = limited({ft::tool("field_fuzz"), bad, "--field", field, "--mutation", mutation, "--seed",
		                  std::to_string(seed)});
		if (m.status != 0) {
			o.problem = "field_fuzz failed: " + m.err;
			return o;
		}
		if (m.out.find(" unchanged") != std::string::npos) {
			o.problem = "unchanged";
			return o;
		}
		std::string before = ft::read_file(bad);
		o.check = limited({ft::tool(img.kind + "_check"), bad}).status;
		o.ref_check = limited({ft::reference(img.kind + "_check"), bad}).status;
		std::string ours = dir->path("ours.img"), theirs = dir->path("theirs.img");
		o.repair = repair(img, false, bad, ours);
		o.ref_repair = repair(img, true, bad, theirs);
		if (ft::read_file(bad) != before)
			o.problem = "the input was written";
		if (o.repair == 0) {
			auto c = limited({ft::tool(img.kind + "_check"), ours});
			o.repaired_checks = c.status == 0 && c.err.find("  ") == std::string::npos;
			o.ref_accepts_repaired = limited({ft::reference(img.kind + "_check"), ours}).status == 0;
			o.ours = recovered(img.kind, dump(img, ours));
		}
		if (o.ref_repair == 0)
			o.theirs = recovered(img.kind, dump(img, theirs));
		std::vector<std::string> wrong;
		if (o.expected == expect::detect && o.check == 0)
			wrong.push_back("not detected");
		if (o.expected == expect::pass && o.check != 0)
			wrong.push_back("detected, but the kernel accepts it");
		if (o.check == 124 || o.repair == 124)
			wrong.push_back("hung");
		if (o.check >= 128 || o.repair >= 128)
			wrong.push_back("crashed");
		if (o.repair != 0 && o.ref_repair == 0)
			wrong.push_back("repair failed where the reference's did not");
		if (o.repair == 0 && !o.repaired_checks)
			wrong.push_back("repaired metadata does not check clean");
		if (o.repair == 0 && !o.ref_accepts_repaired)
			wrong.push_back("the reference rejects the repaired metadata");
		// (A reference that follows a damaged pointer into another tree may
		// "recover" more than the image ever had: no more than that counts.)
		if (o.ours < std::min(o.theirs, img.mappings))
			wrong.push_back("recovered " + std::to_string(o.ours) + " < reference's " + std::to_string(o.theirs));
		for (const auto &w : wrong)
			o.problem += (o.problem.empty() ? "" : "; ") + w;
		return o;
	}

	static void report(const std::vector<outcome> &all_cases) {
		const char *table = std::getenv("DMPD_FUZZ_FIELDS_TABLE");
		std::ofstream f(table ? table : "/dev/null");
		std::ostream &out = table ? static_cast<std::ostream &>(f) : std::cout;
		out << "image\tfield\tmutation\texpected\tdetected\tref_detected\trepair\trecovered\tref_recovered\tverdict\n";
		size_t bad = 0, unchanged = 0;
		for (const auto &o : all_cases) {
			if (o.problem == "unchanged") {
				unchanged++;
				continue;
			}
			bad += !o.problem.empty();
			out << o.image << "\t" << o.field << "\t" << o.mutation << "\t" << expect_name(o.expected) << "\t"
			    << (o.check ? "yes" : "no") << "\t" << (o.ref_check ? "yes" : "no") << "\t" << o.repair << "\t"
			    << o.ours << "\t" << (o.ref_repair ? std::string("failed") : std::to_string(o.theirs)) << "\t"
			    << (o.problem.empty() ? "ok" : o.problem) << "\n";
		}
		out << "cases " << all_cases.size() - unchanged << ", wrong " << bad << ", unchanged (skipped) " << unchanged
		    << "\n";
		// Per image: what each repair recovered in all, over the cases
		// the reference's repair did not fail (and how many it failed).
		struct totals {
			size_t cases = 0, ref_failed = 0;
			uint64_t ours = 0, theirs = 0;
		};
		std::map<std::string, totals> by_image;
		for (const auto &o : all_cases) {
			if (o.problem == "unchanged")
				continue;
			auto &t = by_image[o.image];
			t.cases++;
			if (o.ref_repair) {
				t.ref_failed++;
				continue;
			}
			t.ours += o.ours;
			t.theirs += o.theirs;
		}
		for (const auto &[name, t] : by_image)
			out << "recovered " << name << ": " << t.cases << " cases, ours " << t.ours << ", reference "
			    << t.theirs << " (reference repair failed on " << t.ref_failed << ")\n";
	}

	static ft::scratch *dir;
	static bool all;
	static std::vector<image> images;
};

ft::scratch *FieldFuzz::dir;
bool FieldFuzz::all;
std::vector<image> FieldFuzz::images;

TEST_F(FieldFuzz, EveryFieldIsDetectedOrHarmlessAndRepairNeverDoesWorseThanTheReference) {
	std::vector<std::string> mutations{"zeroes", "ones", "flip", "plus1", "minus1", "random"};
	std::vector<outcome> cases;
	size_t turn = 0;
	for (auto &img : images) {
		img.mappings = recovered(img.kind, dump(img, img.path));
		auto fs = fields(img);
		ASSERT_GT(fs.size(), 20u) << img.name;
		for (const auto &[field, block] : fs) {
			std::vector<std::string> ms = mutations;
			if (!all) {
				// (make test: every other field, the mutations taking turns.)
				if (turn++ % 2)
					continue;
				ms = {mutations[(turn / 2) % mutations.size()]};
			}
			for (const auto &m : ms) {
				auto o = run_case(img, field, m, int(cases.size()) + 1);
				if (!o.problem.empty() && o.problem != "unchanged")
					ADD_FAILURE() << img.name << " " << field << " " << m << ": " << o.problem << " (check rc "
					              << o.check << ", reference " << o.ref_check << "; repair rc " << o.repair
					              << ", recovered " << o.ours << ", reference " << o.theirs << ")";
				cases.push_back(o);
			}
		}
	}
	report(cases);
}

} // namespace
