// Errors that carry their context.
//
// Only conditions that stop the current operation are exceptions: an I/O
// failure, a bad command line, a missing file.  Damage found while walking
// metadata is *data* (see persistent-data/btree_walker.h) and is reported to the
// caller, never thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace base {

class error : public std::runtime_error {
public:
	explicit error(const std::string &what) : std::runtime_error(what) {}
};

// A failure tied to a file, and optionally to one block of it.
class file_error : public error {
public:
	file_error(std::string path, std::string what, std::optional<uint64_t> block = {})
	    : error(compose(path, what, block)), path_(std::move(path)), block_(block) {}

	const std::string &path() const { return path_; }
	std::optional<uint64_t> block() const { return block_; }

private:
	static std::string compose(const std::string &path, const std::string &what,
	                           std::optional<uint64_t> block) {
		std::string s = path.empty() ? std::string() : path + ": ";
		if (block)
			s += "block " + std::to_string(*block) + ": ";
		return s + what;
	}

	std::string path_;
	std::optional<uint64_t> block_;
};

// An I/O system call failed (errno text included).
class io_error : public file_error {
public:
	using file_error::file_error;
};

} // namespace base
