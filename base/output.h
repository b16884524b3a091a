// Buffered text output to a file descriptor, for dumps of millions of lines.
//
// Numbers are formatted by hand into a large buffer and written in big
// chunks: iostreams cost more than the disk reads on a big dump.  A reader
// that goes away (EPIPE) raises broken_pipe, which tools turn into a quiet
// exit.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace base {

class broken_pipe : public std::runtime_error {
public:
	broken_pipe() : std::runtime_error("broken pipe") {}
};

class output_sink {
public:
	// Writes to FD (not owned); NAME is used in error messages.
	output_sink(int fd, std::string name);
	~output_sink();
	output_sink(const output_sink &) = delete;
	output_sink &operator=(const output_sink &) = delete;

	output_sink &put(std::string_view s) {
		if (s.size() > buf_.size() - used_)
			flush_buffer();
		if (s.size() > buf_.size())
			write_all(s.data(), s.size());
		else {
			s.copy(buf_.data() + used_, s.size());
			used_ += s.size();
		}
		return *this;
	}
	output_sink &put(char c) {
		if (used_ == buf_.size())
			flush_buffer();
		buf_[used_++] = c;
		return *this;
	}
	output_sink &put_u64(uint64_t v);

	// Writes out the buffer (not fsync).
	void flush() { flush_buffer(); }

private:
	void flush_buffer();
	void write_all(const char *p, size_t n);

	int fd_;
	std::string name_;
	std::vector<char> buf_;
	size_t used_ = 0;
	bool failed_ = false;
};

} // namespace base
