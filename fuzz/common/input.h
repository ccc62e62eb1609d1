// How a harness reads the fuzzer's bytes, and how the seed writer produces them: one
// encoding, read by Reader and written by Writer, so that seeds stay valid inputs.
//   u8     one byte
//   ulong  eight bytes, little-endian (a CK_ULONG)
//   blob   a two-byte little-endian header h, then h bytes when h < 0x8000; with the
//          top bit set the blob is a NULL pointer that states the length h & 0x7fff
// Past the end every read yields zeros (an empty blob), so every input decodes.
//
// Arena holds what the decoded call points at, each piece in its own allocation of
// exactly the stated length, so that AddressSanitizer reports a read one byte past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

namespace ferrohsm::fuzz {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  bool empty() const { return p_ == end_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

  uint8_t u8() { return empty() ? 0 : *p_++; }
  uint64_t ulong() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  uint16_t u16() {
    uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  // The next `n` bytes (fewer at the end of the input).
  const uint8_t* take(size_t& n) {
    if (n > left()) n = left();
    const uint8_t* at = p_;
    p_ += n;
    return at;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

class Writer {
 public:
  Writer& u8(uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  Writer& ulong(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Writer& u16(uint16_t v) { return u8(static_cast<uint8_t>(v)).u8(static_cast<uint8_t>(v >> 8)); }
  Writer& raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
    return *this;
  }
  Writer& blob(const std::vector<uint8_t>& b) { return u16(static_cast<uint16_t>(b.size())).raw(b.data(), b.size()); }
  Writer& null_blob(uint16_t stated_len) { return u16(static_cast<uint16_t>(0x8000 | stated_len)); }
  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  std::vector<uint8_t> out_;
};

class Arena {
 public:
  // `n` bytes, zeroed; a zero-length piece is still a distinct pointer (nothing may be read through it).
  uint8_t* alloc(size_t n) {
    pieces_.emplace_back(new uint8_t[n]());
    return pieces_.back().get();
  }
  uint8_t* copy(const uint8_t* p, size_t n) {
    uint8_t* q = alloc(n);
    if (n != 0) std::memcpy(q, p, n);
    return q;
  }
  template <typename T>
  T* array(size_t n) {
    static_assert(std::is_trivial_v<T>);
    return reinterpret_cast<T*>(alloc(n * sizeof(T)));
  }
  // A blob from the input: its pointer (NULL for a NULL blob) and stated length.
  void* blob(Reader& r, unsigned long& len) {
    const uint16_t h = r.u16();
    if (h & 0x8000) {
      len = h & 0x7fff;
      return nullptr;
    }
    size_t n = h;
    const uint8_t* p = r.take(n);
    len = n;
    return copy(p, n);
  }
  void clear() { pieces_.clear(); }

 private:
  std::vector<std::unique_ptr<uint8_t[]>> pieces_;
};

}  // namespace ferrohsm::fuzz
