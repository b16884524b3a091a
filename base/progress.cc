#include "base/progress.h"

#include <cstdio>
#include <unistd.h>

namespace base {

progress_bar::progress_bar(std::string title, bool enabled)
    : title_(std::move(title)), active_(enabled && ::isatty(STDERR_FILENO)) {}

progress_bar::~progress_bar() { finish(); }

void progress_bar::update(uint64_t done, uint64_t total) {
	if (!active_ || total == 0)
		return;
	int percent = int(done >= total ? 100 : done * 100 / total);
	if (percent == last_percent_)
		return;
	last_percent_ = percent;
	constexpr int width = 50;
	int filled = percent * width / 100;
	std::fprintf(stderr, "\r%s [", title_.c_str());
	for (int i = 0; i < width; i++)
		std::fputc(i < filled ? '=' : (i == filled ? '>' : ' '), stderr);
	std::fprintf(stderr, "] %3d%%", percent);
	std::fflush(stderr);
}

void progress_bar::finish() {
	if (!active_)
		return;
	if (last_percent_ >= 0)
		std::fputs("\n", stderr);
	active_ = false;
}

} // namespace base
