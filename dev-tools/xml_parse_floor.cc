// xml_parse_floor: the least any XML restore can cost - expat reading the
// file as the restore tools do (1 MiB at a time into expat's own buffer),
// with element handlers that only count.  make bench sets thin_restore,
// cache_restore and era_restore beside it.
#include "base/command_line.h"
#include "base/error.h"
#include "dev-tools/commands.h"

#include <expat.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace devtools {
namespace {

const char USAGE[] = "Usage: xml_parse_floor <xml file>\n"
                     "Parses the file with expat, doing nothing per element, and prints\n"
                     "how many elements there were.\n"
                     "Options:\n"
                     "  {-h|--help}\n"
                     "  {-V|--version}\n";

void count_start(void *data, const XML_Char *, const XML_Char **) { ++*static_cast<uint64_t *>(data); }
void ignore_end(void *, const XML_Char *) {}

} // namespace

int xml_parse_floor_main(int argc, char **argv) {
	namespace po = base::po;
	base::tool_cli cli{argv[0], USAGE};
	po::options_description opts;
	opts.add_options()("input", po::value<std::string>(), "");
	po::positional_options_description pos;
	pos.add("input", 1);
	po::variables_map vm;
	if (auto rc = base::parse_command_line(argc, argv, cli, opts, pos, vm))
		return *rc;
	if (!vm.count("input"))
		return base::usage_error(cli, "No input file provided.");
	const std::string path = vm["input"].as<std::string>();
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw base::file_error(path, std::strerror(errno));
	std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> p(XML_ParserCreate(nullptr), XML_ParserFree);
	uint64_t elements = 0;
	XML_SetUserData(p.get(), &elements);
	XML_SetElementHandler(p.get(), count_start, ignore_end);
	for (;;) {
		void *buf = XML_GetBuffer(p.get(), 1 << 20);
		ssize_t n = buf ? ::read(fd, buf, 1 << 20) : -1;
		if (n < 0) {
			::close(fd);
			throw base::file_error(path, "cannot read input");
		}
		if (XML_ParseBuffer(p.get(), int(n), n == 0) != XML_STATUS_OK) {
			::close(fd);
			throw base::error(path + ":" + std::to_string(XML_GetCurrentLineNumber(p.get())) + ": " +
			                  XML_ErrorString(XML_GetErrorCode(p.get())));
		}
		if (n == 0)
			break;
	}
	::close(fd);
	std::cout << elements << "\n";
	return 0;
}

} // namespace devtools
