// What the key commands share: a logged-in user session on the chosen token, object
// search, and the attributes every created object carries.
#pragma once

#include "context.h"
#include "token_select.h"

#include <memory>
#include <vector>

namespace ferrohsm::cli {

struct KeyTarget {
  TokenRef token;
  std::optional<Pkcs11Uri> uri;
  std::unique_ptr<SessionGuard> session;
  CK_SESSION_HANDLE handle() const { return session->handle(); }
};

// Picks the token, obtains the user PIN and logs in. `what` prefixes errors.
Result<KeyTarget> user_session(Context& ctx, const TokenOptions& tok, const PinFiles& pins, bool rw,
                               const std::string& what);

// Every visible object matching `tmpl` (an empty template matches all).
Result<std::vector<ObjectPtr>> find_objects(App& hsm, CK_SESSION_HANDLE h, const AttrMap& tmpl);

// --id HEX: CKR_ARGUMENTS_BAD on odd length or a non-hex digit.
Result<Bytes> parse_id(const std::string& hex);

// CKA_TOKEN true, CKA_LABEL, and CKA_ID when `id` is not empty.
void set_storage(AttrMap& a, const std::string& label, ByteView id);

// What each half of a key pair may do: verify (and, for RSA, encrypt) with the
// public key; sign (and, for RSA, decrypt) with the private key, which is private,
// sensitive and unextractable.
void set_public_usage(AttrMap& pub, CK_KEY_TYPE kt);
void set_private_usage(AttrMap& priv, CK_KEY_TYPE kt);

// {"class", "label", "id", "uri"} of an object just created.
nlohmann::json object_summary(const TokenRef& t, CK_OBJECT_CLASS cls, const std::string& label, ByteView id);

// Key size in bits as `key list` shows it (0 when it has none).
CK_ULONG key_bits(const AttrMap& a);

}  // namespace ferrohsm::cli
