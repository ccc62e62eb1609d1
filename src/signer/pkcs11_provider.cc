// The pkcs11 provider's four operations, each one slot-server call (see pkcs11_provider.h).
// Start-up (PIN source, mechanism check, slot servers) is in pkcs11_open.cc.
#include "ferrohsm/signer/pkcs11_provider.h"

#include <ferrohsm/client/names.h>
#include <ferrohsm/client/registry.h>
#include <ferrohsm/client/session.h>

#include <algorithm>
#include <vector>

#include "pkcs11_support.h"

namespace ferrohsm::signer {

namespace {
// DER of the Ed25519 curve OID 1.3.101.112 (RFC 8410), for CKA_EC_PARAMS.
constexpr CK_BYTE kEd25519Params[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const void* value, std::size_t size) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(size)};
}

using Found = std::optional<CK_OBJECT_HANDLE>;

client::Result<Found> find_one(client::Session& session, CK_OBJECT_CLASS cls, const std::string& label) {
  CK_ATTRIBUTE templ[] = {attr(CKA_CLASS, &cls, sizeof cls), attr(CKA_LABEL, label.data(), label.size())};
  FH_ASSIGN_OR_RETURN(auto found, session.find(templ, 2));
  if (found.empty()) return Found{};
  return Found(found.front());
}

// A private key is invisible while the token is logged out, and in a pool another
// session may log the token out and in around a search. So a missing private key is
// looked for again (bounded) while the token says "logged in", and is reported to the
// ladder as CKR_USER_NOT_LOGGED_IN (→ log in again, run again) when it says it is not.
client::Result<Found> find_private(client::Session& session, const std::string& label) {
  for (int look = 0; look < 3; ++look) {
    FH_ASSIGN_OR_RETURN(Found priv, find_one(session, CKO_PRIVATE_KEY, label));
    if (priv) return priv;
    FH_ASSIGN_OR_RETURN(bool logged_in, session.logged_in());
    if (!logged_in) return client::pkcs11_error(CKR_USER_NOT_LOGGED_IN, "C_FindObjects (private key)");
  }
  return Found{};
}

client::Result<PublicKey> read_public(client::Session& session, CK_OBJECT_HANDLE pub, std::optional<Error>& verdict) {
  FH_ASSIGN_OR_RETURN(auto b, session.attribute(pub, CKA_EC_POINT));
  // DER OCTET STRING (04 20 ‖ key) per PKCS#11 3.0, or the raw 32 bytes some tokens give.
  PublicKey out{};
  if (b.size() == 34 && b[0] == 0x04 && b[1] == 0x20) std::copy(b.begin() + 2, b.end(), out.begin());
  else if (b.size() == 32) std::copy(b.begin(), b.end(), out.begin());
  else verdict = Error::unavailable("the token returned an Ed25519 public key in an unknown encoding");
  return out;
}
}  // namespace

std::string Pkcs11Provider::label_for(std::string_view label, const Scope& scope, const KeyId& key_id) {
  return std::string(label) + ":" + scope.str() + ":" + key_id.str();
}

std::optional<std::string> Pkcs11Provider::label_of(const std::string& handle) const {
  std::string_view h = handle;
  if (!h.starts_with(kHandlePrefix)) return std::nullopt;
  h.remove_prefix(kHandlePrefix.size());
  if (!h.starts_with(label_) || h.size() <= label_.size() || h[label_.size()] != ':') return std::nullopt;
  std::string_view rest = h.substr(label_.size() + 1);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto scope = Scope::parse(rest.substr(0, colon));
  auto key_id = KeyId::parse(rest.substr(colon + 1));
  if (!scope || !key_id) return std::nullopt;
  return label_for(label_, *scope, *key_id);
}

Status Pkcs11Provider::run(const Context& ctx, std::string_view operation, const Op& op) {
  if (auto s = ctx.check(); !s) return s;
  std::optional<Error> verdict;
  client::Status s = registry_->run(kSlotRef, operation, [&](client::Session& session) {
    verdict.reset();  // a run the ladder repeats starts afresh
    return op(session, verdict);
  });
  if (!s) return pkcs11_detail::from_client(s.error(), operation);
  if (verdict) return *verdict;
  return {};
}

Result<GeneratedKey> Pkcs11Provider::generate(const Context& ctx, const Scope& scope, const KeyId& key_id) {
  std::string label = label_for(label_, scope, key_id);
  std::string handle = std::string(kHandlePrefix) + label;
  PublicKey key{};
  std::lock_guard lock(mutate_mu_);
  auto s = run(ctx, "CKM_EC_EDWARDS_KEY_PAIR_GEN",
               [&](client::Session& session, std::optional<Error>& verdict) -> client::Status {
    // Find first: a repeated run (or a second generate) finds the pair made before.
    FH_ASSIGN_OR_RETURN(Found pub, find_one(session, CKO_PUBLIC_KEY, label));
    if (pub) {
      FH_ASSIGN_OR_RETURN(Found priv, find_private(session, label));
      if (!priv) {
        verdict = Error::retired("key " + handle + " was retired; pick a new key_id");
        return {};
      }
      FH_ASSIGN_OR_RETURN(key, read_public(session, *pub, verdict));
      return {};
    }
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_KEY_TYPE type = CKK_EC_EDWARDS;
    CK_ATTRIBUTE pub_t[] = {
        attr(CKA_TOKEN, &yes, sizeof yes),        attr(CKA_KEY_TYPE, &type, sizeof type),
        attr(CKA_VERIFY, &yes, sizeof yes),       attr(CKA_LABEL, label.data(), label.size()),
        attr(CKA_ID, label.data(), label.size()), attr(CKA_EC_PARAMS, kEd25519Params, sizeof kEd25519Params),
    };
    CK_ATTRIBUTE priv_t[] = {
        attr(CKA_TOKEN, &yes, sizeof yes),           attr(CKA_KEY_TYPE, &type, sizeof type),
        attr(CKA_PRIVATE, &yes, sizeof yes),         attr(CKA_SENSITIVE, &yes, sizeof yes),
        attr(CKA_EXTRACTABLE, &no, sizeof no),       attr(CKA_SIGN, &yes, sizeof yes),
        attr(CKA_LABEL, label.data(), label.size()), attr(CKA_ID, label.data(), label.size()),
    };
    auto pair = session.generate_key_pair(client::Mechanism{CKM_EC_EDWARDS_KEY_PAIR_GEN, {}}, pub_t, priv_t);
    // SoftHSMv2 answers CKR_GENERAL_ERROR, and now and then CKR_TEMPLATE_INCONSISTENT, to
    // a key generation that races signatures and generations on other sessions of a pool
    // (this template never changes, and the same call succeeds again): try again (bounded;
    // the search above keeps it idempotent).
    auto spurious = [](CK_RV rv) { return rv == CKR_GENERAL_ERROR || rv == CKR_TEMPLATE_INCONSISTENT; };
    for (int again = 0; again < 4 && !pair && spurious(pair.rv()); ++again)
      pair = session.generate_key_pair(client::Mechanism{CKM_EC_EDWARDS_KEY_PAIR_GEN, {}}, pub_t, priv_t);
    if (!pair) return pair.error();
    FH_ASSIGN_OR_RETURN(key, read_public(session, pair->first, verdict));
    return {};
  });
  if (!s) return s.error();
  return GeneratedKey{handle, key};
}

Result<Signature> Pkcs11Provider::sign(const Context& ctx, const std::string& handle_id, const Digest& digest) {
  auto label = label_of(handle_id);
  if (!label) return Error::key_not_found("not a pkcs11 handle of label '" + label_ + "'");
  Signature out{};
  auto s = run(ctx, "CKM_EDDSA", [&](client::Session& session, std::optional<Error>& verdict) -> client::Status {
    FH_ASSIGN_OR_RETURN(Found priv, find_private(session, *label));
    if (!priv) {
      FH_ASSIGN_OR_RETURN(Found pub, find_one(session, CKO_PUBLIC_KEY, *label));
      if (pub) verdict = Error::retired("key " + handle_id + " is retired");
      else verdict = Error::key_not_found("no key labelled " + *label + " on the token");
      return {};
    }
    FH_ASSIGN_OR_RETURN(auto sig, session.sign(client::Mechanism{CKM_EDDSA, {}}, *priv, digest));
    if (sig.size() != out.size()) {
      verdict = Error::unavailable("the token returned a signature of the wrong length");
      return {};
    }
    std::copy(sig.begin(), sig.end(), out.begin());
    return {};
  });
  if (!s) return s.error();
  return out;
}

Result<PublicKey> Pkcs11Provider::public_key(const Context& ctx, const std::string& handle_id) {
  auto label = label_of(handle_id);
  if (!label) return Error::key_not_found("not a pkcs11 handle of label '" + label_ + "'");
  PublicKey key{};
  auto s = run(ctx, "public_key", [&](client::Session& session, std::optional<Error>& verdict) -> client::Status {
    FH_ASSIGN_OR_RETURN(Found pub, find_one(session, CKO_PUBLIC_KEY, *label));
    if (!pub) {
      verdict = Error::key_not_found("no key labelled " + *label + " on the token");
      return {};
    }
    FH_ASSIGN_OR_RETURN(key, read_public(session, *pub, verdict));
    return {};
  });
  if (!s) return s.error();
  return key;
}

Status Pkcs11Provider::retire(const Context& ctx, const std::string& handle_id) {
  auto label = label_of(handle_id);
  if (!label) return Error::key_not_found("not a pkcs11 handle of label '" + label_ + "'");
  std::lock_guard lock(mutate_mu_);
  return run(ctx, "retire", [&](client::Session& session, std::optional<Error>& verdict) -> client::Status {
    FH_ASSIGN_OR_RETURN(Found priv, find_private(session, *label));
    if (priv) return session.destroy_object(*priv);  // a repeated run finds it gone: fine
    FH_ASSIGN_OR_RETURN(Found pub, find_one(session, CKO_PUBLIC_KEY, *label));
    if (!pub) verdict = Error::key_not_found("no key labelled " + *label + " on the token");
    return {};
  });
}

}  // namespace ferrohsm::signer
