#include "base/command_line.h"

#include "base/version.h"

#include <iostream>

namespace base {

int usage_error(const tool_cli &cli, const std::string &message) {
	if (!message.empty())
		std::cerr << message << "\n";
	std::cerr << cli.usage;
	return 1;
}

std::optional<int> parse_command_line(int argc, char **argv, const tool_cli &cli,
                                      const po::options_description &options,
                                      const po::positional_options_description &positional,
                                      po::variables_map &vm) {
	po::options_description all;
	all.add_options()("help,h", "")("version,V", "");
	all.add(options);
	try {
		po::store(po::command_line_parser(argc, argv)
		              .options(all)
		              .positional(positional)
		              .style(po::command_line_style::unix_style &
		                     ~po::command_line_style::allow_guessing)
		              .run(),
		          vm);
		po::notify(vm);
	} catch (const po::unknown_option &e) {
		return usage_error(cli, cli.name + ": unrecognized option '" + e.get_option_name() + "'");
	} catch (const po::too_many_positional_options_error &) {
		return usage_error(cli, cli.name + ": too many arguments");
	} catch (const po::error &e) {
		return usage_error(cli, cli.name + ": " + e.what());
	}
	if (vm.count("help")) {
		std::cout << cli.usage;
		return 0;
	}
	if (vm.count("version")) {
		std::cout << VERSION << "\n";
		return 0;
	}
	return std::nullopt;
}

uint64_t parse_natural(const std::string &option, const std::string &text) {
	if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
		throw po::error("'" + text + "' is not a natural number (option " + option + ")");
	try {
		return std::stoull(text);
	} catch (const std::out_of_range &) {
		throw po::error("'" + text + "' is too large (option " + option + ")");
	}
}

} // namespace base
