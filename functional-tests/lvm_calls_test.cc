// The tools as LVM calls them.  LVM before 2.03.22 passes an empty
// *_options setting as an argument of its own: `cache_repair '' -i META -o
// SPARE` (seen from lvconvert --repair of a cache pool in LVM 2.03.16).
// Every tool LVM can call takes it and does exactly what it does without it;
// an empty value of an option is still that option's value.
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

namespace {

class LvmCalls : public ::testing::Test {
protected:
	void SetUp() override {
		ft::gunzip(ft::fixture("kernel/thin-basic/meta.img.gz"), thin());
		ft::gunzip(ft::fixture("kernel/cache-basic/meta.img.gz"), cache());
	}
	std::string thin() const { return dir.path("thin.img"); }
	std::string cache() const { return dir.path("cache.img"); }
	std::string blank(const std::string &name) const {
		ft::make_zero_file(dir.path(name), 8 << 20);
		return dir.path(name);
	}
	static ft::result run(const std::string &tool, std::vector<std::string> args) {
		args.insert(args.begin(), ft::tool(tool));
		return ft::run(args);
	}
	// TOOL with ARGS (options, then the input), and with an empty argument
	// first, last and just before the input: the same status and output.
	void expect_empty_arguments_ignored(const std::string &tool, const std::vector<std::string> &args,
	                                    int want_status = 0) {
		auto plain = run(tool, args);
		EXPECT_EQ(plain.status, want_status) << tool << ": " << plain.err;
		std::vector<std::vector<std::string>> variants;
		auto first = args;
		first.insert(first.begin(), "");
		variants.push_back(first);
		auto last = args;
		last.push_back("");
		variants.push_back(last);
		auto middle = args;
		middle.insert(middle.end() - 1, "");
		variants.push_back(middle);
		for (const auto &v : variants) {
			auto r = run(tool, v);
			EXPECT_EQ(r.status, plain.status) << tool << ": " << r.err;
			EXPECT_EQ(r.out, plain.out) << tool;
			EXPECT_EQ(r.err, plain.err) << tool;
		}
	}
	ft::scratch dir;
};

TEST_F(LvmCalls, CheckersTakeTheEmptyArgument) {
	expect_empty_arguments_ignored("thin_check", {"-q", thin()});
	expect_empty_arguments_ignored("thin_check", {"-q", "--clear-needs-check-flag", thin()});
	expect_empty_arguments_ignored("thin_check", {"-q", "--skip-mappings", thin()});
	expect_empty_arguments_ignored("cache_check", {"-q", cache()});
	expect_empty_arguments_ignored("cache_check", {"-q", "--clear-needs-check-flag", cache()});
}

TEST_F(LvmCalls, DumpsTakeTheEmptyArgument) {
	expect_empty_arguments_ignored("thin_dump", {"--format", "xml", thin()});
	expect_empty_arguments_ignored("thin_dump", {"-m", thin()});
	expect_empty_arguments_ignored("cache_dump", {cache()});
}

TEST_F(LvmCalls, RepairAndRestoreTakeTheEmptyArgument) {
	auto xml = run("thin_dump", {thin()});
	ft::write_file(dir.path("thin.xml"), xml.out);
	auto cxml = run("cache_dump", {cache()});
	ft::write_file(dir.path("cache.xml"), cxml.out);
	for (std::string tool : {"thin_repair", "thin_restore", "cache_repair", "cache_restore"}) {
		bool cache_tool = tool.rfind("cache_", 0) == 0;
		std::string in = tool.find("repair") != std::string::npos ? (cache_tool ? cache() : thin())
		                                                          : dir.path(cache_tool ? "cache.xml" : "thin.xml");
		// (As LVM runs them: the empty argument first.)
		for (bool empty : {false, true}) {
			std::string out = blank(tool + (empty ? "-empty.img" : ".img"));
			std::vector<std::string> args{"-i", in, "-o", out};
			if (empty)
				args.insert(args.begin(), "");
			auto r = run(tool, args);
			EXPECT_EQ(r.status, 0) << tool << (empty ? " ''" : "") << ": " << r.err;
			auto d = run(cache_tool ? "cache_dump" : "thin_dump", {out});
			EXPECT_EQ(d.out, cache_tool ? cxml.out : xml.out) << tool << (empty ? " ''" : "");
		}
	}
}

TEST_F(LvmCalls, AnEmptyOptionValueIsStillAValue) {
	// -o '' names no file: an error, not "-o takes the next argument".
	auto r = run("thin_dump", {"-o", "", thin()});
	EXPECT_NE(r.status, 0);
	EXPECT_EQ(r.out, "");
	auto rest = run("thin_restore", {"-i", "", "-o", blank("x.img")});
	EXPECT_NE(rest.status, 0);
	// And a second input file is still too many arguments.
	auto two = run("thin_check", {thin(), thin()});
	EXPECT_EQ(two.status, 1);
	EXPECT_NE(two.err.find("too many arguments"), std::string::npos) << two.err;
	auto stray = run("thin_repair", {"-i", thin(), "-o", blank("y.img"), "extra"});
	EXPECT_EQ(stray.status, 1);
	EXPECT_NE(stray.err.find("too many arguments"), std::string::npos) << stray.err;
}

} // namespace
