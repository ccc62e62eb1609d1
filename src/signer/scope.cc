#include "ferrohsm/signer/scope.h"

namespace ferrohsm::signer {

namespace {
constexpr std::size_t kMaxLength = 64;
bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool allowed(char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; }
}  // namespace

std::string identifier_problem(std::string_view what, std::string_view text) {
  if (text.empty()) return std::string(what) + " is empty";
  if (text.size() > kMaxLength)
    return std::string(what) + " is longer than " + std::to_string(kMaxLength) + " characters";
  if (!alnum(text.front()))
    return std::string(what) + " must start with a lower-case letter or a digit";
  for (char c : text)
    if (!allowed(c))
      return std::string(what) + " may contain only a-z, 0-9, '.', '_' and '-'";
  return {};
}

Result<Scope> Scope::parse(std::string_view text) {
  if (auto p = identifier_problem("scope", text); !p.empty()) return Error::invalid(p);
  return Scope(std::string(text));
}

Result<KeyId> KeyId::parse(std::string_view text) {
  if (auto p = identifier_problem("key_id", text); !p.empty()) return Error::invalid(p);
  return KeyId(std::string(text));
}

}  // namespace ferrohsm::signer
