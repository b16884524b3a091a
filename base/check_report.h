// How every checker (thin, cache, era) reports: stage headers and indented
// problems in the reference's layout, written to the stream the caller
// gives (none: quiet), and kept as data - each line with its kind - so a
// test can read what was found without parsing text.  The tally of fatal
// and non-fatal problems is what the tool's exit code follows from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace base {

class check_report {
public:
	// Lines of one kind of problem printed before the rest are only counted.
	static constexpr size_t MAX_LINES = 100;

	enum class kind { stage, fatal, non_fatal, info };
	struct line {
		kind what;
		std::string text, detail;
	};

	// OUT: where the report is written as it is made; nullptr for quiet.
	explicit check_report(std::ostream *out) : out_(out) {}

	void stage(const std::string &title);
	// A problem under the current stage (indented by two), with optional
	// detail lines (indented by four).
	void fatal(const std::string &what, const std::string &detail = "");
	void non_fatal(const std::string &what, const std::string &detail = "");
	// A problem counted but not printed (past a per-kind line limit).
	void count_fatal() { fatal_++; }
	void count_non_fatal() { non_fatal_++; }
	void info(const std::string &text);

	unsigned fatal_count() const { return fatal_; }
	unsigned non_fatal_count() const { return non_fatal_; }
	bool quiet() const { return !out_; }
	const std::vector<line> &lines() const { return lines_; }
	// The text of every fatal (or non-fatal) problem, in order.
	std::vector<std::string> problems(kind k) const;

private:
	void add(kind k, const std::string &text, const std::string &detail);

	std::ostream *out_;
	unsigned fatal_ = 0, non_fatal_ = 0;
	std::vector<line> lines_;
};

// A half-open range of keys, the one way every checker prints it:
// "[begin, end)", "[begin, -)" when it runs to the end (END == UINT64_MAX).
std::string range_text(uint64_t begin, uint64_t end);

} // namespace base
