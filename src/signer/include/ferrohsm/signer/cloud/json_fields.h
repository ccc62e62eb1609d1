// Fields of a service's JSON answer, read without throwing: a field that is missing or of
// another type reads as empty, so a malformed answer becomes a clear error, never an
// exception in the signing path.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ferrohsm::signer::cloud {

inline const nlohmann::json& member(const nlohmann::json& j, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() ? kEmpty : *it;
}

inline std::string text(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

inline bool flag(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json& v = member(j, key);
  return v.is_boolean() && v.get<bool>();
}

}  // namespace ferrohsm::signer::cloud
