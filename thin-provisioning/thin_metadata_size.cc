// thin_metadata_size: how much metadata a pool needs (doc/tools.md#thin_metadata_size), with
// the reference's formula, units and output forms.
#include "base/command_line.h"
#include "thin-provisioning/commands.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

namespace thin {
namespace {

const char USAGE[] =
    "Usage: thin_metadata_size [options]\n"
    "Thin Provisioning Metadata Device Size Calculator.\n"
    "\t-b  --block-size BLOCKSIZE[bskKmMgGtTpPeEzZyY]  Block size of thin provisioned devices.\n"
    "\t-s  --pool-size SIZE[bskKmMgGtTpPeEzZyY]        Size of pool device.\n"
    "\t-m  --max-thins #MAXTHINS[bskKmMgGtTpPeEzZyY]   Maximum sum of all thin devices and snapshots.\n"
    "\t-u  --unit {bskKmMgGtTpPeEzZyY}                 Output unit specifier.\n"
    "\t-n  --numeric-only [short|long]                 Output numeric value only (optionally with short/long unit identifier).\n"
    "\t-h  --help                                      This help.\n"
    "\t-V  --version                                   Print thin provisioning tools version.\n";

struct unit {
	char letter;
	const char *name;
	long double bytes;
};

// Lower case: powers of 1024; upper case: powers of 1000.
const unit UNITS[] = {
    {'b', "bytes", 1},
    {'s', "sectors", 512},
    {'k', "kibibytes", 1024.0L},
    {'K', "kilobytes", 1e3L},
    {'m', "mebibytes", 1048576.0L},
    {'M', "megabytes", 1e6L},
    {'g', "gibibytes", 1073741824.0L},
    {'G', "gigabytes", 1e9L},
    {'t', "tebibytes", 1099511627776.0L},
    {'T', "terabytes", 1e12L},
    {'p', "pebibytes", 1125899906842624.0L},
    {'P', "petabytes", 1e15L},
    {'e', "exbibytes", 1152921504606846976.0L},
    {'E', "exabytes", 1e18L},
    {'z', "zebibytes", 1180591620717411303424.0L},
    {'Z', "zettabytes", 1e21L},
    {'y', "yobibytes", 1208925819614629174706176.0L},
    {'Y', "yottabytes", 1e24L},
};

const unit *find_unit(char c) {
	for (const auto &u : UNITS)
		if (u.letter == c)
			return &u;
	return nullptr;
}

class failure : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

struct quantity {
	long double value; // in DEFAULT units unless a suffix was given
	std::string label; // as shown in the summary line
	long double bytes;
};

// "64k": a number with an optional unit letter.  Without one the value is
// in DEFAULT (sectors for sizes; plain count for max thins).
quantity parse(const std::string &s, const unit *dflt) {
	size_t i = 0;
	while (i < s.size() && std::isdigit(uint8_t(s[i])))
		i++;
	if (i == 0)
		throw failure("Invalid number!");
	long double n = std::stold(s.substr(0, i));
	if (i == s.size())
		return {n, s.substr(0, i) + (dflt ? dflt->name : ""), dflt ? n * dflt->bytes : n};
	const unit *u = i + 1 == s.size() ? find_unit(s[i]) : nullptr;
	if (!u)
		throw failure("Invalid unit specifier!");
	return {n, s.substr(0, i) + u->name, n * u->bytes};
}

std::string format_value(long double v, bool integral) {
	char buf[64];
	if (integral)
		std::snprintf(buf, sizeof buf, "%.0Lf", v);
	else if (v >= 0.01L)
		std::snprintf(buf, sizeof buf, "%.2Lf", v);
	else
		std::snprintf(buf, sizeof buf, "%.2Le", v);
	return buf;
}

} // namespace

int thin_metadata_size_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()
		("block-size,b", po::value<std::string>(), "")
		("pool-size,s", po::value<std::string>(), "")
		("max-thins,m", po::value<std::string>(), "")
		("unit,u", po::value<std::string>(), "")
		("numeric-only,n", po::value<std::string>()->implicit_value(""), "");
	po::positional_options_description pos;
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	const std::string me = "thin_metadata_size - ";
	try {
		const unit *sectors = find_unit('s');
		auto get = [&](const char *name, const unit *dflt, const char *missing) -> quantity {
			if (!vm.count(name))
				throw failure(missing);
			quantity q = parse(vm[name].as<std::string>(), dflt);
			if (q.bytes == 0)
				throw failure(missing);
			return q;
		};
		quantity block = get("block-size", sectors, "block size required!");
		quantity pool = get("pool-size", sectors, "pool size required!");
		quantity thins = get("max-thins", nullptr, "max thins required!");
		const unit *out = sectors;
		if (vm.count("unit")) {
			std::string u = vm["unit"].as<std::string>();
			out = u.size() == 1 ? find_unit(u[0]) : nullptr;
			if (!out)
				throw failure("output unit specifier invalid!");
		}
		std::optional<std::string> numeric;
		if (vm.count("numeric-only")) {
			numeric = vm["numeric-only"].as<std::string>();
			if (*numeric != "" && *numeric != "short" && *numeric != "long")
				throw failure("numeric-only argument must be short or long");
		}
		long double block_sectors = block.bytes / 512;
		uint64_t bs = uint64_t(block_sectors);
		if (bs == 0 || (long double)bs != block_sectors || (bs & (bs - 1)))
			throw failure("block size must be 2^^N");
		uint64_t nr_blocks = uint64_t(pool.bytes / 512 / block_sectors);
		uint64_t metadata_blocks = 1 + (2 * nr_blocks) / 252 + uint64_t(thins.bytes);
		long double bytes = (long double)(metadata_blocks * 8) * 512;
		long double v = bytes / out->bytes;
		bool integral = std::fmod(bytes, out->bytes) == 0;
		std::string value = format_value(v, integral);
		if (numeric) {
			std::cout << value
			          << (*numeric == "short" ? std::string(1, out->letter)
			                                  : *numeric == "long" ? out->name : "")
			          << "\n";
		} else
			std::cout << me << value << " " << out->name
			          << " estimated metadata area size for \"--block-size=" << block.label
			          << " --pool-size=" << pool.label << " --max-thins=" << thins.label << "\"\n";
	} catch (const failure &e) {
		std::cerr << me << e.what() << "\n";
		return 1;
	}
	return 0;
}

} // namespace thin
