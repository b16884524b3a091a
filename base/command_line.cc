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

namespace {

// Whether ARG is an option that takes a value in the next argument.
bool takes_next_value(const std::string &arg, const po::options_description &all) {
	const po::option_description *o = nullptr;
	if (arg.size() > 2 && arg.compare(0, 2, "--") == 0 && arg.find('=') == std::string::npos)
		o = all.find_nothrow(arg.substr(2), false);
	else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-')
		o = all.find_nothrow(arg, false);
	return o && o->semantic()->min_tokens() > 0; // (not an optional value: "-m [block#]")
}

// ARGV without the empty arguments that are no option's value.  LVM before
// 2.03.22 passes an empty *_options setting as an argument of its own
// (`cache_repair '' -i META -o SPARE`): every tool accepts and ignores it.
std::vector<std::string> without_empty_arguments(int argc, char **argv, const po::options_description &all) {
	std::vector<std::string> args;
	for (int i = 1; i < argc; i++)
		if (*argv[i] || (i > 1 && takes_next_value(argv[i - 1], all)))
			args.push_back(argv[i]);
	return args;
}

} // namespace

std::optional<int> parse_command_line(int argc, char **argv, const tool_cli &cli,
                                      const po::options_description &options,
                                      const po::positional_options_description &positional,
                                      po::variables_map &vm) {
	po::options_description all;
	all.add_options()("help,h", "")("version,V", "");
	all.add(options);
	try {
		po::store(po::command_line_parser(without_empty_arguments(argc, argv, all))
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

uint64_t natural_option(const po::variables_map &vm, const std::string &name, uint64_t dflt) {
	return vm.count(name) ? parse_natural("--" + name, vm[name].as<std::string>()) : dflt;
}

} // namespace base
