#include "base/output.h"

#include "base/error.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace base {

output_sink::output_sink(int fd, std::string name)
    : fd_(fd), name_(std::move(name)), buf_(1 << 20) {}

output_sink::~output_sink() {
	// Best effort: an error here cannot be reported from a destructor, so
	// callers that care call flush() themselves.
	if (!failed_) {
		try {
			flush_buffer();
		} catch (...) {
		}
	}
}

output_sink &output_sink::put_u64(uint64_t v) {
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = char('0' + v % 10);
		v /= 10;
	} while (v);
	if (size_t(n) > buf_.size() - used_)
		flush_buffer();
	while (n)
		buf_[used_++] = tmp[--n];
	return *this;
}

void output_sink::flush_buffer() {
	if (used_) {
		size_t n = used_;
		used_ = 0;
		write_all(buf_.data(), n);
	}
}

void output_sink::write_all(const char *p, size_t n) {
	while (n) {
		ssize_t w = ::write(fd_, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			failed_ = true;
			if (errno == EPIPE)
				throw broken_pipe();
			throw io_error(name_, std::string("write failed: ") + std::strerror(errno));
		}
		p += w;
		n -= size_t(w);
	}
}

} // namespace base
