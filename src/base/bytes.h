// Byte containers. SecureBytes wipes its memory (OPENSSL_cleanse) when it shrinks,
// moves away or dies; everything that may hold key material or a PIN uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferrohsm {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
using MutableByteView = std::span<uint8_t>;

void secure_wipe(void* p, size_t n);

template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, size_t n) {
    secure_wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const { return true; }
};

using SecureBytes = std::vector<uint8_t, WipingAllocator<uint8_t>>;

inline ByteView as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
inline std::string_view as_chars(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
inline Bytes to_bytes(ByteView b) { return Bytes(b.begin(), b.end()); }
inline SecureBytes to_secure(ByteView b) { return SecureBytes(b.begin(), b.end()); }

std::string to_hex(ByteView b);
// Strict hex (upper or lower case, even length); false on bad input.
bool from_hex(std::string_view hex, Bytes& out);

}  // namespace ferrohsm
