// The PKCS#11 provider: Ed25519 keys generated on any PKCS#11 token that lists
// CKM_EDDSA, reached through the slot servers of ferrohsm::client (Registry): a pool of
// sessions, the PIN chain (PIN file or the dev-only PIN) and the recovery ladder
// (re-login after CKR_USER_NOT_LOGGED_IN, reopened sessions, re-initialisation).
//
//   CKA_LABEL  <label>:<scope>:<key_id>     on both halves of the pair (also CKA_ID)
//   handle     pkcs11:<label>:<scope>:<key_id>
//
// Keys are generated on the token with CKM_EC_EDWARDS_KEY_PAIR_GEN, private half
// CKA_SENSITIVE=true, CKA_EXTRACTABLE=false; signatures are CKM_EDDSA (pure Ed25519)
// over the 64 digest bytes. retire() destroys the private half and keeps the public
// half, so a retired key still verifies and retire is idempotent.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include <ferrohsm/client/result.h>
#include <ferrohsm/cryptoki.h>

#include "ferrohsm/signer/key_provider.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::client {
class Registry;
class Session;
}  // namespace ferrohsm::client

namespace ferrohsm::signer {

class Pkcs11Provider final : public KeyProvider {
 public:
  static constexpr std::string_view kName = "pkcs11";
  static constexpr std::string_view kHandlePrefix = "pkcs11:";
  static constexpr std::string_view kSlotRef = "signer";  // the one slot the provider's registry serves

  // Checks the wiring and the PIN file, loads the module, checks CKM_EDDSA, starts the
  // slot servers (settings.sessions workers) and logs in once, so a wrong PIN fails here.
  static Result<std::unique_ptr<Pkcs11Provider>> open(const Pkcs11Settings& settings);
  ~Pkcs11Provider() override;

  static std::string label_for(std::string_view label, const Scope& scope, const KeyId& key_id);
  // Empty when `mechanisms` has what the provider needs, else the problem.
  static std::string mechanism_problem(std::span<const CK_MECHANISM_TYPE> mechanisms);

  // "pkcs11:<label>:<scope>:<key_id>" for this provider's label.
  std::string handle_for(const Scope& scope, const KeyId& key_id) const {
    return std::string(kHandlePrefix) + label_for(label_, scope, key_id);
  }
  // The slot servers (tests look at their telemetry and workers).
  client::Registry& registry() { return *registry_; }

  std::string_view name() const override { return kName; }
  Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) override;
  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) override;
  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override;
  Status retire(const Context& ctx, const std::string& handle_id) override;

 private:
  // What one slot-server call does: it returns a client error for the ladder to handle
  // (after which it runs again) or leaves a domain verdict (key_retired …) in `verdict`.
  using Op = std::function<client::Status(client::Session&, std::optional<Error>& verdict)>;

  Pkcs11Provider(std::unique_ptr<client::Registry> registry, std::string label);
  // The CKA_LABEL a handle names, if it is one of this provider's handles.
  std::optional<std::string> label_of(const std::string& handle) const;
  // Runs `op` on a worker's logged-in session through the registry (ladder applied).
  Status run(const Context& ctx, std::string_view operation, const Op& op);

  std::unique_ptr<client::Registry> registry_;
  std::string label_;
  std::mutex mutate_mu_;  // generate and retire one at a time: no two pairs under one label
};

Result<std::unique_ptr<KeyProvider>> make_pkcs11_provider(const Pkcs11Settings& settings);

}  // namespace ferrohsm::signer
