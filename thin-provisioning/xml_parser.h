// Reads thin_dump's XML (doc/xml.md#thin-xml) and replays it as emitter events.
//
// Streaming (expat): memory does not grow with the file.  Accepts what the
// reference writes and LVM sends, plus the newer line's <def>/<ref>
// elements for shared mapping groups.  Any error - malformed XML, an unknown
// element, a missing or non-numeric attribute, or a semantic error raised by
// the emitter (input_error) - becomes one base::error "FILE:LINE:COL: what".
#pragma once

#include "thin-provisioning/emitter.h"

#include <stdexcept>
#include <string>

namespace thin {

// Thrown by an emitter to reject what the input says; the parser adds the
// position.
class input_error : public std::runtime_error {
public:
	explicit input_error(const std::string &what) : std::runtime_error(what) {}
};

// Parses PATH (gzip-compressed when it ends in ".gz").  PROGRESS: show a
// progress bar on a TTY.
void parse_thin_xml(const std::string &path, emitter &out, bool progress);

} // namespace thin
