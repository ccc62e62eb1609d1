// Base64 and base64url (no padding): the encodings of the HTTP APIs (the signer's, the
// server's REST API) and of the cloud services. Hex is base/bytes.h's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferrohsm {

std::string to_base64(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);
std::string to_base64url(std::span<const std::uint8_t> bytes);
// Unpadded (or padded) base64url; nothing for anything else.
std::optional<std::vector<std::uint8_t>> from_base64url(std::string_view text);

}  // namespace ferrohsm
