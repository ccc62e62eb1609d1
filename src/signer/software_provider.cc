#include "ferrohsm/signer/software_provider.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "ferrohsm/signer/hkdf.h"
#include "ferrohsm/signer/seed_file.h"

namespace ferrohsm::signer {

struct SoftwareProvider::Entry {
  ed25519::Pkey key;
  PublicKey pub{};
  std::atomic<bool> retired{false};
};

SoftwareProvider::SoftwareProvider(const SecretBytes<32>& seed) : seed_(seed) {
  spdlog::warn("{}", kWarning);
}

Result<std::unique_ptr<SoftwareProvider>> SoftwareProvider::from_seed_file(const std::string& path) {
  auto seed = read_seed_file(path);
  if (!seed) return seed.error();
  return std::make_unique<SoftwareProvider>(*seed);
}

std::string SoftwareProvider::handle_for(const Scope& scope, const KeyId& key_id) {
  return std::string(kHandlePrefix) + scope.str() + "|" + key_id.str();
}

std::optional<std::pair<Scope, KeyId>> SoftwareProvider::parse_handle(std::string_view handle) {
  if (!handle.starts_with(kHandlePrefix)) return std::nullopt;
  handle.remove_prefix(kHandlePrefix.size());
  auto bar = handle.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  auto scope = Scope::parse(handle.substr(0, bar));
  auto key_id = KeyId::parse(handle.substr(bar + 1));
  if (!scope || !key_id) return std::nullopt;
  return std::make_pair(*scope, *key_id);
}

Result<std::shared_ptr<SoftwareProvider::Entry>> SoftwareProvider::derive(const Scope& scope,
                                                                          const KeyId& key_id) {
  auto material = hkdf_sha512_32(seed_.span(), scope.str() + "|" + key_id.str());
  if (!material) return material.error();
  auto key = ed25519::from_private_seed(material->span());
  if (!key) return key.error();
  auto pub = ed25519::public_of(*key);
  if (!pub) return pub.error();
  auto entry = std::make_shared<Entry>();
  entry->key = std::move(*key);
  entry->pub = *pub;
  // Keep the first entry if another thread derived the same handle meanwhile.
  std::unique_lock lock(mu_);
  auto [it, inserted] = keys_.emplace(handle_for(scope, key_id), entry);
  return it->second;
}

std::shared_ptr<SoftwareProvider::Entry> SoftwareProvider::find(const std::string& handle) {
  std::shared_lock lock(mu_);
  auto it = keys_.find(handle);
  return it == keys_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<SoftwareProvider::Entry>> SoftwareProvider::find_or_derive(
    const std::string& handle) {
  if (auto e = find(handle)) return e;
  auto parsed = parse_handle(handle);
  if (!parsed) return Error::key_not_found("no software key has this handle");
  return derive(parsed->first, parsed->second);
}

Result<GeneratedKey> SoftwareProvider::generate(const Context& ctx, const Scope& scope,
                                                const KeyId& key_id) {
  if (auto s = ctx.check(); !s) return s.error();
  auto handle = handle_for(scope, key_id);
  auto entry = find_or_derive(handle);
  if (!entry) return entry.error();
  if ((*entry)->retired.load()) return Error::retired("key " + handle + " was retired; pick a new key_id");
  return GeneratedKey{handle, (*entry)->pub};
}

Result<Signature> SoftwareProvider::sign(const Context& ctx, const std::string& handle_id,
                                         const Digest& digest) {
  if (auto s = ctx.check(); !s) return s.error();
  auto entry = find_or_derive(handle_id);
  if (!entry) return entry.error();
  if ((*entry)->retired.load()) return Error::retired("key " + handle_id + " is retired");
  return ed25519::sign((*entry)->key, digest);
}

Result<PublicKey> SoftwareProvider::public_key(const Context& ctx, const std::string& handle_id) {
  if (auto s = ctx.check(); !s) return s.error();
  auto entry = find_or_derive(handle_id);
  if (!entry) return entry.error();
  return (*entry)->pub;
}

Status SoftwareProvider::retire(const Context& ctx, const std::string& handle_id) {
  if (auto s = ctx.check(); !s) return s;
  auto entry = find(handle_id);
  if (!entry) return Error::key_not_found("this process never generated or used handle " + handle_id);
  entry->retired.store(true);
  return {};
}

}  // namespace ferrohsm::signer
