// Text that goes into the dumps' XML attributes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace base {

// Escapes the characters XML forbids in attribute values.
std::string xml_escape(const std::string &s);

// A superblock's 16-byte, NUL-padded uuid field as the dumps print it: the
// bytes up to the first NUL.
std::string uuid_text(const uint8_t *uuid, size_t size);

// Whether TEXT is printable ASCII, which XML carries and a restore gives
// back byte for byte.  (The kernel never reads a uuid; a damaged one full
// of other bytes would make a dump no XML parser reads, so repairs drop it.)
bool printable_ascii(const std::string &text);

} // namespace base
