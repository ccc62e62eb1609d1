#include "server/rest/key_list.h"

#include "base/base64.h"
#include "base/bytes.h"

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace ferrohsm::server::rest {
namespace {

struct TypeRow {
  CK_KEY_TYPE type;
  const char* name;
};
constexpr TypeRow kTypes[] = {{CKK_RSA, "rsa"},
                              {CKK_EC, "ec"},
                              {CKK_EC_EDWARDS, "eddsa"},
                              {CKK_EC_MONTGOMERY, "montgomery"},
                              {CKK_AES, "aes"},
                              {CKK_GENERIC_SECRET, "generic-secret"}};

Error bad_query(const std::string& why) { return make_error(CKR_ARGUMENTS_BAD, why); }

}  // namespace

std::string key_type_name(CK_KEY_TYPE type) {
  for (const TypeRow& r : kTypes)
    if (r.type == type) return r.name;
  return "other";
}

std::optional<CK_KEY_TYPE> key_type_named(const std::string& name) {
  for (const TypeRow& r : kTypes)
    if (name == r.name) return r.type;
  return std::nullopt;
}

Result<KeyListQuery> KeyListQuery::parse(const std::map<std::string, std::string>& query) {
  KeyListQuery q;
  auto get = [&](const char* name) -> const std::string* {
    auto it = query.find(name);
    return it == query.end() ? nullptr : &it->second;
  };
  if (const std::string* t = get("type")) {
    q.type = key_type_named(*t);
    if (!q.type) return bad_query("type must be one of rsa, ec, eddsa, montgomery, aes, generic-secret");
  }
  if (const std::string* l = get("label")) q.label = *l;
  if (const std::string* u = get("usage")) q.usage = *u;
  // page_size (limit is its older name).
  const std::string* size = get("page_size");
  if (size == nullptr) size = get("limit");
  if (size != nullptr) {
    char* end = nullptr;
    unsigned long n = std::strtoul(size->c_str(), &end, 10);
    if (size->empty() || *end != '\0' || n < 1 || n > kMaxPageSize)
      return bad_query("page_size must be a number from 1 to " + std::to_string(kMaxPageSize));
    q.page_size = n;
  }
  if (const std::string* token = get("page_token")) {
    auto raw = from_base64url(*token);
    nlohmann::json j = raw ? nlohmann::json::parse(raw->begin(), raw->end(), nullptr, false) : nlohmann::json();
    if (!j.is_object() || j.value("v", 0) != 1 || !j.contains("after") || !j["after"].is_string() ||
        j.value("q", "") != q.filters())
      return bad_query("page_token is not one that this listing (with these filters) handed out");
    q.after = j["after"].get<std::string>();
  }
  return q;
}

std::string KeyListQuery::filters() const {
  return (type ? key_type_name(*type) : "") + "\n" + label + "\n" + usage;
}

std::string KeyListQuery::next_token(const std::string& last_id) const {
  const std::string text = nlohmann::json{{"v", 1}, {"after", last_id}, {"q", filters()}}.dump();
  return to_base64url(as_bytes(text));
}

}  // namespace ferrohsm::server::rest
