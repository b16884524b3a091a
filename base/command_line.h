// Command-line handling shared by every tool (doc/tools.md#shared-command-line-behaviour):
//   -h/--help     usage on stdout, exit 0
//   -V/--version  the bare version on stdout, exit 0
//   a bad option  "TOOL: unrecognized option '--x'" and the usage on stderr, exit 1
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <vector>

namespace base {

namespace po = boost::program_options;

struct tool_cli {
	std::string name;  // argv[0] as the user typed it, for messages
	std::string usage; // the full usage text, ending in a newline
};

// Parses ARGV against OPTIONS (which must not declare -h/-V: they are added
// here) and positional arguments into VM.  Returns an exit code when the tool
// must stop now (help, version, bad command line), nothing otherwise.
std::optional<int> parse_command_line(int argc, char **argv, const tool_cli &cli,
                                      const po::options_description &options,
                                      const po::positional_options_description &positional,
                                      po::variables_map &vm);

// "MESSAGE" + usage on stderr; returns 1 (the exit code).
int usage_error(const tool_cli &cli, const std::string &message);

// Parses a decimal natural number; throws po::error naming OPTION otherwise.
uint64_t parse_natural(const std::string &option, const std::string &text);

// Option --NAME as a natural number, DFLT when it was not given; throws
// po::error naming it when it is not one.
uint64_t natural_option(const po::variables_map &vm, const std::string &name, uint64_t dflt);

} // namespace base
