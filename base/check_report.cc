#include "base/check_report.h"

namespace base {

void check_report::add(kind k, const std::string &text, const std::string &detail) {
	lines_.push_back({k, text, detail});
	if (!out_)
		return;
	switch (k) {
	case kind::stage: *out_ << text << "\n"; break;
	case kind::info: *out_ << "  " << text << "\n"; break;
	case kind::fatal:
	case kind::non_fatal:
		*out_ << "  " << text << "\n";
		if (!detail.empty())
			*out_ << "    " << detail << "\n";
		break;
	}
}

void check_report::stage(const std::string &title) { add(kind::stage, title, ""); }

void check_report::fatal(const std::string &what, const std::string &detail) {
	fatal_++;
	add(kind::fatal, what, detail);
}

void check_report::non_fatal(const std::string &what, const std::string &detail) {
	non_fatal_++;
	add(kind::non_fatal, what, detail);
}

void check_report::info(const std::string &text) { add(kind::info, text, ""); }

std::vector<std::string> check_report::problems(kind k) const {
	std::vector<std::string> out;
	for (const auto &l : lines_)
		if (l.what == k)
			out.push_back(l.text);
	return out;
}

std::string range_text(uint64_t begin, uint64_t end) {
	return "[" + std::to_string(begin) + ", " + (end == UINT64_MAX ? std::string("-") : std::to_string(end)) + ")";
}

} // namespace base
