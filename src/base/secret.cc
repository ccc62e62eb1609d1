// Secret: the wipe-on-destroy string for PINs and passwords.
#include "base/secret.h"

#include <openssl/crypto.h>

namespace ferrohsm {

Secret::Secret(std::string_view value) {
  value_.reserve(value.size() < 32 ? 32 : value.size());  // no reallocation (and stray copy) on assign
  value_.assign(value.data(), value.size());
}

Secret::~Secret() { wipe(); }

Secret::Secret(Secret&& other) noexcept {
  value_.reserve(other.value_.size() < 32 ? 32 : other.value_.size());
  value_.assign(other.value_);
  other.wipe();
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_.reserve(other.value_.size());
    value_.assign(other.value_);
    other.wipe();
  }
  return *this;
}

void Secret::wipe() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

}  // namespace ferrohsm
