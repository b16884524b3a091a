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

namespace {

// "00" to "99": numbers are written two digits per division (a dump is
// mostly numbers, and a division is the costly part).
struct digit_pairs {
	char text[200];
	constexpr digit_pairs() : text() {
		for (int i = 0; i < 100; i++) {
			text[2 * i] = char('0' + i / 10);
			text[2 * i + 1] = char('0' + i % 10);
		}
	}
};
constexpr digit_pairs PAIRS;

} // namespace

output_sink &output_sink::put_u64(uint64_t v) {
	char tmp[20];
	char *end = tmp + sizeof(tmp), *p = end;
	while (v >= 100) {
		p -= 2;
		std::memcpy(p, PAIRS.text + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		std::memcpy(p, PAIRS.text + 2 * v, 2);
	} else
		*--p = char('0' + v);
	size_t n = size_t(end - p);
	if (n > buf_.size() - used_)
		flush_buffer();
	std::memcpy(buf_.data() + used_, p, n);
	used_ += n;
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
