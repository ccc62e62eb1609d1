// A PIN or password held only as long as it is needed: move-only, wiped with
// OPENSSL_cleanse when destroyed or moved from, never printed. The tree's one type
// for secret text (key bytes live in SecureBytes, base/bytes.h).
#pragma once

#include <string>
#include <string_view>

namespace ferrohsm {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view value);
  ~Secret();
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  bool empty() const { return value_.empty(); }
  std::size_t size() const { return value_.size(); }
  // The bytes, for the one C_Login (or PKCS12_parse) that uses them.
  const char* data() const { return value_.data(); }
  std::string_view view() const { return value_; }
  bool operator==(const Secret& other) const { return value_ == other.value_; }
  void wipe();

 private:
  std::string value_;
};

using Pin = Secret;

}  // namespace ferrohsm
