#include "tool_registry.h"

#include "caching/commands.h"
#include "dev-tools/commands.h"
#include "era/commands.h"
#include "snapshot/commands.h"
#include "thin-provisioning/commands.h"

namespace dmpd {
namespace {

const tool TOOLS[] = {
#define DMPD_TOOL(name, dev) {#name, name##_main, dev},
#include "tools.def"
#undef DMPD_TOOL
};

} // namespace

std::span<const tool> all_tools() { return TOOLS; }

const tool *find_tool(const std::string &name) {
	for (const auto &t : TOOLS)
		if (name == t.name)
			return &t;
	return nullptr;
}

} // namespace dmpd
