// Streaming XML input for the restore tools (expat): elements are handed to
// a handler as they are parsed, so memory does not grow with the file.  A
// ".gz" path is decompressed on the fly.  Any problem - malformed XML, or an
// xml_input_error thrown by the handler - becomes one base::error
// "FILE:LINE:COL: what".
#pragma once

#include <cstdint>
#include <map>
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

// The attributes of one element, with checked access.
class xml_attributes {
public:
	xml_attributes(const char *element, const char **atts);
	const std::string *find(const char *name) const;
	std::string text(const char *name) const;                      // required
	uint64_t number(const char *name, uint64_t max = UINT64_MAX) const; // required natural
	std::optional<uint64_t> optional_number(const char *name, uint64_t max = UINT64_MAX) const;
	bool boolean(const char *name) const; // "true" / "false"

private:
	std::string element_;
	std::map<std::string, std::string> values_;
};

class xml_handler {
public:
	virtual ~xml_handler() = default;
	virtual void start(const std::string &element, const xml_attributes &a) = 0;
	virtual void end(const std::string &element) = 0;
	// At the end of the input: complain about anything left unfinished.
	virtual void finish() = 0;
};

// PROGRESS_LABEL: a progress bar on a TTY ("" for none).
void read_xml(const std::string &path, xml_handler &h, const std::string &progress_label = "");

} // namespace base
