// Framing of the sidecar protocol: each message is a 4-byte big-endian length, then
// that many bytes of an encoded protobuf message (ferrohsm_wire.proto). The only
// hand-written part of the wire format.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace ferrohsm::wire {

inline constexpr size_t kFrameHeader = 4;
// The default largest frame either side accepts (configurable: [limits] max_message).
inline constexpr uint64_t kDefaultMaxMessage = 16u << 20;

inline constexpr uint32_t kProtocolMajor = 1;
inline constexpr uint32_t kProtocolMinor = 0;
inline constexpr const char* kMagic = "ferrohsm";

inline std::array<uint8_t, kFrameHeader> frame_header(uint32_t length) {
  return {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16), static_cast<uint8_t>(length >> 8),
          static_cast<uint8_t>(length)};
}

inline uint32_t frame_length(const uint8_t* header) {
  return static_cast<uint32_t>(header[0]) << 24 | static_cast<uint32_t>(header[1]) << 16 |
         static_cast<uint32_t>(header[2]) << 8 | static_cast<uint32_t>(header[3]);
}

}  // namespace ferrohsm::wire
