// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Cloud KMS uses for
// its integrity fields (dataCrc32c, signatureCrc32c, pemCrc32c). No Debian library ships
// it for C/C++, so it is one small table here.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/bytes.h"

namespace ferrohsm::signer::cloud {

std::uint32_t crc32c(std::span<const std::uint8_t> data);
inline std::uint32_t crc32c(std::string_view data) { return crc32c(as_bytes(data)); }

}  // namespace ferrohsm::signer::cloud
