// pdata_tools: one binary, many tools.  The tool is chosen by the name the
// binary was called by (a symlink such as thin_check), or by the first
// argument (`pdata_tools thin_check ...`).
#include "tool_registry.h"

#include <cstring>
#include <exception>
#include <iostream>
#include <signal.h>
#include <string>

namespace {

std::string basename_of(const char *path) {
	const char *slash = std::strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int list_tools(std::ostream &out) {
	out << "Usage: <command> <args>\ncommands:\n";
	for (const auto &t : dmpd::all_tools())
		if (!t.developer_only)
			out << "  " << t.name << "\n";
	out << "developer tools:\n";
	for (const auto &t : dmpd::all_tools())
		if (t.developer_only)
			out << "  " << t.name << "\n";
	return 1;
}

} // namespace

int main(int argc, char **argv) {
	// A closed pipe must end a dump quietly: writes then fail with EPIPE,
	// which the output layer turns into a clean exit, instead of a signal.
	::signal(SIGPIPE, SIG_IGN);

	std::string name = argc > 0 ? basename_of(argv[0]) : "pdata_tools";
	if (name == "pdata_tools") {
		if (argc < 2)
			return list_tools(std::cerr);
		if (std::string(argv[1]) == "--list") {
			// For the Makefile and packaging: every tool name, one a line.
			for (const auto &t : dmpd::all_tools())
				std::cout << t.name << "\n";
			return 0;
		}
		argc--;
		argv++;
		name = basename_of(argv[0]);
	}

	const dmpd::tool *t = dmpd::find_tool(name);
	if (!t) {
		std::cerr << "Unknown command '" << name << "'\n";
		return list_tools(std::cerr);
	}
	try {
		return t->run(argc, argv);
	} catch (const std::bad_alloc &) {
		std::cerr << name << ": out of memory\n";
	} catch (const std::exception &e) {
		std::cerr << e.what() << "\n";
	}
	return 1;
}
