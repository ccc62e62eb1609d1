// GET /v1/tokens/{token}/keys: its query (filters type, label, usage; page_size; the
// page_token continuation) and the page token. Keys are listed in the order of their
// id; a page token names the last id of the page before and the filters it was made
// for, so paging sees every key that exists from the first page to the last exactly
// once, whatever is made or deleted meanwhile. A token is opaque to the caller (base64url
// of a small JSON object); one that does not decode, or was made for other filters, is
// CKR_ARGUMENTS_BAD (400).
#pragma once

#include "base/result.h"

#include <ferrohsm/cryptoki.h>

#include <map>
#include <optional>
#include <string>

namespace ferrohsm::server::rest {

inline constexpr size_t kDefaultPageSize = 100;
inline constexpr size_t kMaxPageSize = 1000;

struct KeyListQuery {
  std::optional<CK_KEY_TYPE> type;  // type=rsa|ec|eddsa|montgomery|aes|generic-secret
  std::string label;                // label=… (exact)
  std::string usage;                // usage=sign|verify|encrypt|decrypt|wrap|unwrap|derive
  size_t page_size = kDefaultPageSize;
  std::string after;                // from page_token: list ids greater than this

  static Result<KeyListQuery> parse(const std::map<std::string, std::string>& query);
  // The page token that continues after `last_id` with these filters.
  std::string next_token(const std::string& last_id) const;

 private:
  std::string filters() const;  // what a token is bound to
};

// A key type's name in the API ("ec"), and back; "other" / nullopt for the rest.
std::string key_type_name(CK_KEY_TYPE type);
std::optional<CK_KEY_TYPE> key_type_named(const std::string& name);

}  // namespace ferrohsm::server::rest
