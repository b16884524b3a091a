// Streaming XML input for the restore tools: elements are handed to
// a handler as they are parsed, so memory does not grow with the file.  A
// ".gz" path is decompressed on the fly.  Any problem - malformed XML, or an
// exception thrown by the handler - becomes one base::error
// "FILE:LINE:COL: what", the position being that of the element at fault
// (or of the end of the input, for what finish() finds).
//
// Most input is read by a plain scanner that takes only the regular XML
// the dump tools write (about ten times faster than expat); expat reads the
// rest, from the first byte the scanner does not take, and judges it.
//
// On two or more cores the parse and the handler run in two threads, so a
// restore costs little more than the slower of the two.  The handler sees the same
// events in the same order either way, and the same error is reported: the
// first in document order.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace base {

// Thrown by a handler to reject what the input says; the reader adds the
// position.
class xml_input_error : public std::runtime_error {
public:
	explicit xml_input_error(const std::string &what) : std::runtime_error(what) {}
};

// The attributes of one element, with checked access.  Views expat's
// (or the pipeline's) strings: valid only during the start() call.
class xml_attributes {
public:
	// ATTS: name, value, ..., nullptr.
	xml_attributes(const char *element, const char *const *atts) : element_(element), atts_(atts) {}
	const char *find(const char *name) const; // nullptr when absent
	std::string text(const char *name) const;                      // required
	uint64_t number(const char *name, uint64_t max = UINT64_MAX) const; // required natural
	std::optional<uint64_t> optional_number(const char *name, uint64_t max = UINT64_MAX) const;
	bool boolean(const char *name) const; // "true" / "false"

private:
	uint64_t convert(const char *name, const char *value, uint64_t max) const;

	const char *element_;
	const char *const *atts_;
};

class xml_handler {
public:
	virtual ~xml_handler() = default;
	virtual void start(const std::string &element, const xml_attributes &a) = 0;
	virtual void end(const std::string &element) = 0;
	// At the end of the input: complain about anything left unfinished.
	virtual void finish() = 0;
};

enum class xml_threads { automatic, one, two };

// Who reads: a plain scanner for the regular XML the dump tools write, with
// expat taking over from the first byte outside it (fast), or expat alone.
// Both give the handler the same events and report the same errors at the
// same places (tests compare them).
enum class xml_scanner { fast, expat };

// PROGRESS_LABEL: a progress bar on a TTY ("" for none).  THREADS: two
// when the machine has the cores (automatic), or as told (tests).
void read_xml(const std::string &path, xml_handler &h, const std::string &progress_label = "",
              xml_threads threads = xml_threads::automatic, xml_scanner scanner = xml_scanner::fast);

} // namespace base
