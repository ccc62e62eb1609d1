// The software provider (dev-only): Ed25519 keys derived from one 32-byte seed.
//
// key(scope, key_id) = Ed25519 private seed HKDF-SHA512(key = seed, info = scope "|" key_id)
// handle            = "software:" scope "|" key_id
//
// A handle this instance has not generated is parsed and derived on demand by sign()
// and public_key(), so every process with the same seed signs identically. retire()
// is strict: a handle this instance has never generated nor derived is kKeyNotFound
// even when it parses.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "ferrohsm/signer/ed25519.h"
#include "ferrohsm/signer/key_provider.h"
#include "ferrohsm/signer/secret_bytes.h"

namespace ferrohsm::signer {

class SoftwareProvider final : public KeyProvider {
 public:
  static constexpr std::string_view kName = "software";
  static constexpr std::string_view kHandlePrefix = "software:";
  // The one warning line the constructor logs (contains "dev-only").
  static constexpr std::string_view kWarning =
      "software key provider is dev-only: every key derives from one seed file and no "
      "custodian protects it; never run it in production";

  explicit SoftwareProvider(const SecretBytes<32>& seed);
  static Result<std::unique_ptr<SoftwareProvider>> from_seed_file(const std::string& path);

  static std::string handle_for(const Scope& scope, const KeyId& key_id);
  static std::optional<std::pair<Scope, KeyId>> parse_handle(std::string_view handle);

  std::string_view name() const override { return kName; }
  bool dev_only() const override { return true; }
  Result<GeneratedKey> generate(const Context& ctx, const Scope& scope, const KeyId& key_id) override;
  Result<Signature> sign(const Context& ctx, const std::string& handle_id, const Digest& digest) override;
  Result<PublicKey> public_key(const Context& ctx, const std::string& handle_id) override;
  Status retire(const Context& ctx, const std::string& handle_id) override;

 private:
  struct Entry;
  Result<std::shared_ptr<Entry>> derive(const Scope& scope, const KeyId& key_id);
  std::shared_ptr<Entry> find(const std::string& handle);
  Result<std::shared_ptr<Entry>> find_or_derive(const std::string& handle);

  SecretBytes<32> seed_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> keys_;
};

}  // namespace ferrohsm::signer
