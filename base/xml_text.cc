#include "base/xml_text.h"

#include <cstring>

namespace base {

std::string xml_escape(const std::string &s) {
	std::string r;
	for (char c : s) {
		switch (c) {
		case '&': r += "&amp;"; break;
		case '<': r += "&lt;"; break;
		case '>': r += "&gt;"; break;
		case '"': r += "&quot;"; break;
		default: r += c;
		}
	}
	return r;
}

std::string uuid_text(const uint8_t *uuid, size_t size) {
	return std::string(reinterpret_cast<const char *>(uuid), strnlen(reinterpret_cast<const char *>(uuid), size));
}

bool printable_ascii(const std::string &text) {
	for (unsigned char c : text)
		if (c < 0x20 || c > 0x7e)
			return false;
	return true;
}

} // namespace base
