// Fixed-size secret bytes (a seed, a derived key), wiped on destruction with base's
// secure_wipe. Never printed. base/bytes.h's SecureBytes is the growable kind; the
// signer's secrets have a size known at compile time, which std::span<…, N> checks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"

namespace ferrohsm::signer {

template <std::size_t N>
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::span<const std::uint8_t, N> bytes) {
    for (std::size_t i = 0; i < N; ++i) data_[i] = bytes[i];
  }
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  ~SecretBytes() { secure_wipe(data_.data(), N); }

  std::span<const std::uint8_t, N> span() const { return std::span<const std::uint8_t, N>(data_); }
  std::span<std::uint8_t, N> mutable_span() { return std::span<std::uint8_t, N>(data_); }

 private:
  std::array<std::uint8_t, N> data_{};
};

}  // namespace ferrohsm::signer
