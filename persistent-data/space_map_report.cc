#include "persistent-data/space_map_report.h"

namespace pdata {

bool report_space_map_comparison(base::check_report &report, sm_comparison &cmp,
                                 std::vector<sm_count_mismatch> &leaks) {
	auto found = cmp.finish();
	for (const auto &p : found.problems)
		report.fatal(p.text);
	const std::string &which = cmp.which();
	const size_t cap = base::check_report::MAX_LINES;
	size_t under_lines = 0, leak_lines = 0;
	for (const auto &m : found.mismatches) {
		std::string line = which + " block " + std::to_string(m.block) + ": stored count " +
		                   std::to_string(m.stored) + ", referenced " + std::to_string(m.expected) + " times";
		if (m.stored < m.expected) {
			if (under_lines++ < cap)
				report.fatal(line + " \u2014 a decrement would drop below zero");
			else
				report.count_fatal();
		} else {
			leaks.push_back(m);
			if (leak_lines++ < cap)
				report.non_fatal(line + " (leaked)");
			else
				report.count_non_fatal();
		}
	}
	if (under_lines > cap)
		report.info("... " + std::to_string(under_lines - cap) + " more " + which +
		            " blocks stored below their references");
	if (leak_lines > cap)
		report.info("... " + std::to_string(leak_lines - cap) + " more leaked " + which + " blocks");
	return found.problems.empty();
}

} // namespace pdata
