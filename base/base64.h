// Base64 (RFC 4648, with padding): cache hints are base64 in the XML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace base {

std::string base64_encode(const uint8_t *data, size_t len);
// Nullopt for text that is not padded base64.
std::optional<std::vector<uint8_t>> base64_decode(const std::string &text);

} // namespace base
