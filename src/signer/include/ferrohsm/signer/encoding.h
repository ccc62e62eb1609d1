// Base64 and base64url (no padding), the encodings of the HTTP API and the cloud
// services. Hex is base/bytes.h's (to_hex, from_hex).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferrohsm::signer {

std::string to_base64(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);
std::string to_base64url(std::span<const std::uint8_t> bytes);

}  // namespace ferrohsm::signer
