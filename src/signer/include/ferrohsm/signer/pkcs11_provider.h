// The PKCS#11 provider: Ed25519 keys generated on any PKCS#11 token that lists
// CKM_EDDSA, reached through ferrohsm::client (Module + Session).
//
//   CKA_LABEL  <label>:<scope>:<key_id>     on both halves of the pair
//   handle     pkcs11:<label>:<scope>:<key_id>
//
// Keys are generated on the token with CKM_EC_EDWARDS_KEY_PAIR_GEN, private half
// CKA_SENSITIVE=true, CKA_EXTRACTABLE=false; signatures are CKM_EDDSA (pure Ed25519)
// over the 64 digest bytes. retire() destroys the private half and keeps the public
// half, so a retired key still verifies and retire is idempotent.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include <ferrohsm/cryptoki.h>

#include "ferrohsm/signer/key_provider.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::client {
class Module;
class Session;
}  // namespace ferrohsm::client

namespace ferrohsm::signer {

class Pkcs11Provider final : public KeyProvider {
 public:
  static constexpr std::string_view kName = "pkcs11";
  static constexpr std::string_view kHandlePrefix = "pkcs11:";

  // Loads the module, checks CKM_EDDSA, opens a session on the slot and logs in.
  static Result<std::unique_ptr<Pkcs11Provider>> open(const Pkcs11Settings& settings);
  ~Pkcs11Provider() override;

  static std::string label_for(std::string_view label, const Scope& scope, const KeyId& key_id);
  // Empty when `mechanisms` has what the provider needs, else the problem.
  static std::string mechanism_problem(std::span<const CK_MECHANISM_TYPE> mechanisms);

  // "pkcs11:<label>:<scope>:<key_id>" for this provider's label.
  std::string handle_for(const Scope& scope, const KeyId& key_id) const {
    return std::string(kHandlePrefix) + label_for(label_, scope, key_id);
  }

  std::string_view name() const override { return kName; }
  Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) override;
  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) override;
  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override;
  Status retire(const Context& ctx, const std::string& handle_id) override;

 private:
  Pkcs11Provider(std::shared_ptr<client::Module> module, std::unique_ptr<client::Session> session, std::string label);
  // The CKA_LABEL a handle names, if it is one of this provider's handles.
  std::optional<std::string> label_of(const std::string& handle) const;
  Result<std::optional<CK_OBJECT_HANDLE>> find_locked(CK_OBJECT_CLASS cls, const std::string& label);
  Result<PublicKey> read_public_locked(CK_OBJECT_HANDLE pub);

  std::shared_ptr<client::Module> module_;
  std::mutex mu_;  // one session; calls serialise on it
  std::unique_ptr<client::Session> session_;
  std::string label_;
};

Result<std::unique_ptr<KeyProvider>> make_pkcs11_provider(const Pkcs11Settings& settings);

}  // namespace ferrohsm::signer
