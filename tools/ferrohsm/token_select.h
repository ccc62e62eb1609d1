// Finding the token a command works on: --slot, --token LABEL, or the token= /
// serial= / slot-id= of a PKCS#11 URI; with none of them, the only initialised token.
#pragma once

#include "core/app.h"
#include "core/hsm.h"
#include "options.h"
#include "base/pkcs11_uri.h"

#include <string>
#include <vector>

namespace ferrohsm::cli {

struct TokenRef {
  CK_SLOT_ID slot = 0;
  bool initialized = false;
  std::string label;
  std::string serial;
  CK_FLAGS flags = 0;
};

// Every slot (initialised tokens, then the free slot) with its token's details.
Result<std::vector<TokenRef>> list_slots(App& hsm);

// The token the options name. `uri` is the parsed --uri (nullptr when not given).
// CKR_TOKEN_NOT_PRESENT (exit 4) when none matches; CKR_ARGUMENTS_BAD when the
// choice is ambiguous.
Result<TokenRef> select_token(App& hsm, const TokenOptions& o, const Pkcs11Uri* uri);
// The same among `all` (the tokens a REST server lists).
Result<TokenRef> select_token(const std::vector<TokenRef>& all, const TokenOptions& o, const Pkcs11Uri* uri);

// Parses o.uri when given.
Result<std::optional<Pkcs11Uri>> parse_uri_option(const TokenOptions& o);

// A blank-padded PKCS#11 string field without its padding.
std::string unpad(const CK_UTF8CHAR* field, size_t n);

}  // namespace ferrohsm::cli
