// The table of tools answered by pdata_tools (main.cc), one line per tool.
#pragma once

#include <span>
#include <string>

namespace dmpd {

struct tool {
	const char *name;
	int (*run)(int argc, char **argv);
	bool developer_only; // generators and damage tools for tests and benchmarks
};

std::span<const tool> all_tools();
const tool *find_tool(const std::string &name);

} // namespace dmpd
