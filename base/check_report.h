// How a checker reports: stage headers and indented problems on stderr in
// the reference's layout, nothing at all in quiet mode, and a tally of fatal
// and non-fatal problems from which the exit code follows.
#pragma once

#include <iostream>
#include <string>

namespace base {

class check_report {
public:
	explicit check_report(bool quiet) : quiet_(quiet) {}

	void stage(const std::string &title) {
		if (!quiet_)
			std::cerr << title << "\n";
	}
	// A problem under the current stage (indented by two), with optional
	// detail lines (indented by four).
	void fatal(const std::string &what, const std::string &detail = "") {
		fatal_++;
		print(what, detail);
	}
	void non_fatal(const std::string &what, const std::string &detail = "") {
		non_fatal_++;
		print(what, detail);
	}
	// A problem counted but not printed (past a per-kind line limit).
	void count_fatal() { fatal_++; }
	void count_non_fatal() { non_fatal_++; }
	void info(const std::string &line) {
		if (!quiet_)
			std::cerr << "  " << line << "\n";
	}

	unsigned fatal_count() const { return fatal_; }
	unsigned non_fatal_count() const { return non_fatal_; }
	bool quiet() const { return quiet_; }

private:
	void print(const std::string &what, const std::string &detail) {
		if (quiet_)
			return;
		std::cerr << "  " << what << "\n";
		if (!detail.empty())
			std::cerr << "    " << detail << "\n";
	}

	bool quiet_;
	unsigned fatal_ = 0, non_fatal_ = 0;
};

} // namespace base
