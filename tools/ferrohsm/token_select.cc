#include "token_select.h"

#include "output.h"

namespace ferrohsm::cli {

std::string unpad(const CK_UTF8CHAR* field, size_t n) {
  std::string s(reinterpret_cast<const char*>(field), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Result<std::vector<TokenRef>> list_slots(App& hsm) {
  auto slots = hsm.slots();
  if (!slots) return context("list slots", slots.error());
  std::vector<TokenRef> out;
  for (CK_SLOT_ID slot : *slots) {
    auto info = hsm.token_info(slot);
    if (!info) return context("read the token info of slot " + std::to_string(slot), info.error());
    TokenRef t;
    t.slot = slot;
    t.flags = info->flags;
    t.initialized = (info->flags & CKF_TOKEN_INITIALIZED) != 0;
    t.label = unpad(info->label, sizeof info->label);
    t.serial = unpad(info->serialNumber, sizeof info->serialNumber);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::optional<Pkcs11Uri>> parse_uri_option(const TokenOptions& o) {
  if (o.uri.empty()) return std::optional<Pkcs11Uri>();
  auto u = parse_pkcs11_uri(o.uri);
  if (!u) return u.error();
  return std::optional<Pkcs11Uri>(std::move(*u));
}

Result<TokenRef> select_token(App& hsm, const TokenOptions& o, const Pkcs11Uri* uri) {
  FH_ASSIGN_OR_RETURN(std::vector<TokenRef> all, list_slots(hsm));
  return select_token(all, o, uri);
}

Result<TokenRef> select_token(const std::vector<TokenRef>& all, const TokenOptions& o, const Pkcs11Uri* uri) {
  std::optional<CK_SLOT_ID> slot = o.slot;
  std::optional<std::string> label = o.token.empty() ? std::nullopt : std::optional<std::string>(o.token);
  std::optional<std::string> serial;
  if (uri != nullptr) {
    slot = uri->slot_id;
    label = uri->token;
    serial = uri->serial;
  }
  std::vector<TokenRef> match;
  for (const TokenRef& t : all) {
    if (!t.initialized) continue;
    if (slot && t.slot != *slot) continue;
    if (label && t.label != *label) continue;
    if (serial && t.serial != *serial) continue;
    match.push_back(t);
  }
  std::string wanted = slot ? "slot " + std::to_string(*slot) : label ? "token '" + *label + "'" : "";
  if (match.empty()) {
    if (wanted.empty() && serial) wanted = "token with serial " + *serial;
    if (wanted.empty())
      return make_error(CKR_TOKEN_NOT_PRESENT, "no initialised token: create one with 'ferrohsm token init'");
    if (slot) {
      for (const TokenRef& t : all)
        if (t.slot == *slot && !t.initialized)
          return make_error(CKR_TOKEN_NOT_RECOGNIZED, "the token in slot " + std::to_string(*slot) + " is not initialised");
      return make_error(CKR_SLOT_ID_INVALID, "no slot " + std::to_string(*slot));
    }
    return make_error(CKR_TOKEN_NOT_PRESENT, "no " + wanted);
  }
  if (match.size() > 1) {
    if (wanted.empty())
      return make_error(CKR_ARGUMENTS_BAD, std::to_string(match.size()) +
                                               " tokens are initialised: choose one with --token, --slot or --uri");
    return make_error(CKR_ARGUMENTS_BAD, "several tokens match " + wanted + ": choose one with --slot");
  }
  return match.front();
}

}  // namespace ferrohsm::cli
