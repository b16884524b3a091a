// A progress bar on stderr for long work on big metadata.
//
// It draws only when stderr is a terminal and the tool is not quiet, so
// scripts, LVM and tests never see it.
#pragma once

#include <cstdint>
#include <string>

namespace base {

class progress_bar {
public:
	// enabled: the tool's wish (false with -q); the bar still stays silent
	// unless stderr is a TTY.
	progress_bar(std::string title, bool enabled);
	~progress_bar();
	progress_bar(const progress_bar &) = delete;
	progress_bar &operator=(const progress_bar &) = delete;

	// done out of total units; redraws only when the percentage changes.
	void update(uint64_t done, uint64_t total);
	void finish();
	bool active() const { return active_; }

private:
	std::string title_;
	bool active_;
	int last_percent_ = -1;
};

} // namespace base
