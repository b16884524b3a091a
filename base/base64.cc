#include "base/base64.h"

namespace base {
namespace {
const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
} // namespace

std::string base64_encode(const uint8_t *d, size_t len) {
	std::string out;
	out.reserve((len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t n = uint32_t(d[i]) << 16;
		if (i + 1 < len)
			n |= uint32_t(d[i + 1]) << 8;
		if (i + 2 < len)
			n |= d[i + 2];
		out += ALPHABET[(n >> 18) & 63];
		out += ALPHABET[(n >> 12) & 63];
		out += i + 1 < len ? ALPHABET[(n >> 6) & 63] : '=';
		out += i + 2 < len ? ALPHABET[n & 63] : '=';
	}
	return out;
}

std::optional<std::vector<uint8_t>> base64_decode(const std::string &t) {
	if (t.size() % 4)
		return std::nullopt;
	std::vector<uint8_t> out;
	for (size_t i = 0; i < t.size(); i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			v[k] = t[i + k] == '=' && k >= 2 ? 0 : value_of(t[i + k]);
			if (v[k] < 0)
				return std::nullopt;
		}
		bool pad2 = t[i + 2] == '=', pad3 = t[i + 3] == '=';
		if ((pad2 && !pad3) || ((pad2 || pad3) && i + 4 != t.size()))
			return std::nullopt;
		uint32_t n = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
		out.push_back(uint8_t(n >> 16));
		if (!pad2)
			out.push_back(uint8_t(n >> 8));
		if (!pad3)
			out.push_back(uint8_t(n));
	}
	return out;
}

} // namespace base
