// Behaviour every tool shares (doc/tools.md#shared-command-line-behaviour).
#include "base/version.h"
#include "functional-tests/harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace {

std::vector<std::string> all_tools() {
	auto r = ft::run({ft::tool("pdata_tools"), "--list"});
	std::vector<std::string> names;
	std::istringstream in(r.out);
	for (std::string n; std::getline(in, n);)
		names.push_back(n);
	return names;
}

TEST(Cli, ListsToolsWhenCalledWithoutOne) {
	auto r = ft::run({ft::tool("pdata_tools")});
	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.out, "");
	EXPECT_NE(r.err.find("thin_check"), std::string::npos);
	auto u = ft::run({ft::tool("pdata_tools"), "no_such_tool"});
	EXPECT_EQ(u.status, 1);
	EXPECT_NE(u.err.find("thin_dump"), std::string::npos);
}

TEST(Cli, EveryToolPrintsItsVersion) {
	auto tools = all_tools();
	ASSERT_GE(tools.size(), 3u);
	for (const auto &t : tools)
		for (const char *flag : {"-V", "--version"}) {
			auto r = ft::run({ft::tool(t), flag});
			EXPECT_EQ(r.status, 0) << t;
			EXPECT_EQ(r.out, std::string(base::VERSION) + "\n") << t;
			EXPECT_EQ(r.err, "") << t;
			// Also through the multi-call binary.
			auto m = ft::run({ft::tool("pdata_tools"), t, flag});
			EXPECT_EQ(m.out, r.out) << t;
		}
}

TEST(Cli, EveryToolPrintsUsageOnHelp) {
	for (const auto &t : all_tools())
		for (const char *flag : {"-h", "--help"}) {
			auto r = ft::run({ft::tool(t), flag});
			EXPECT_EQ(r.status, 0) << t;
			EXPECT_EQ(r.out.rfind("Usage: " + t, 0), 0u) << t << ": " << r.out;
			EXPECT_GT(std::count(r.out.begin(), r.out.end(), '\n'), 1) << t;
			EXPECT_EQ(r.err, "") << t;
		}
}

TEST(Cli, EveryToolRejectsAnUnknownOption) {
	for (const auto &t : all_tools()) {
		auto r = ft::run({ft::tool(t), "--hedgehogs-only"});
		EXPECT_EQ(r.status, 1) << t;
		EXPECT_NE(r.err.find("unrecognized option '--hedgehogs-only'"), std::string::npos)
		    << t << ": " << r.err;
		EXPECT_NE(r.err.find("Usage: " + t), std::string::npos) << t;
	}
}

} // namespace

namespace {

// Every user tool (the "commands:" part of pdata_tools' list) has a man
// page that groff formats without a warning.
TEST(Cli, EveryToolHasAManPage) {
	auto list = ft::run({ft::tool("pdata_tools")});
	std::string text = list.err;
	size_t from = text.find("commands:\n"), to = text.find("developer tools:");
	ASSERT_NE(from, std::string::npos) << text;
	std::istringstream tools(text.substr(from + 10, to - from - 10));
	int pages = 0;
	for (std::string t; tools >> t;) {
		std::string page = std::string(std::getenv("DMPD_SRC") ? std::getenv("DMPD_SRC") : ".") + "/man8/" + t + ".8";
		auto r = ft::run({"groff", "-man", "-Tutf8", "-ww", "-z", "-I", std::string(std::getenv("DMPD_SRC") ? std::getenv("DMPD_SRC") : "."), page});
		EXPECT_EQ(r.status, 0) << t << ": " << page << " " << r.err;
		EXPECT_EQ(r.err, "") << t;
		pages++;
	}
	EXPECT_GE(pages, 11);
}

} // namespace
