// Scope and KeyId: validated value types with exactly one string form each.
//
// Both are 1–64 characters of [a-z0-9._-], starting with a letter or digit. No upper
// case (so there is one spelling), no '|' or ':' (the separators of handle and label
// layouts), nothing that needs escaping in a URL path.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer {

class Scope {
 public:
  static Result<Scope> parse(std::string_view text);
  const std::string& str() const { return value_; }
  auto operator<=>(const Scope&) const = default;

 private:
  explicit Scope(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

class KeyId {
 public:
  static Result<KeyId> parse(std::string_view text);
  const std::string& str() const { return value_; }
  auto operator<=>(const KeyId&) const = default;

 private:
  explicit KeyId(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

// Shared validation: empty when `text` is a valid identifier, else the reason.
std::string identifier_problem(std::string_view what, std::string_view text);

}  // namespace ferrohsm::signer
