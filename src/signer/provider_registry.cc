#include "ferrohsm/signer/provider_registry.h"

#include "ferrohsm/signer/software_provider.h"

#ifndef FERROHSM_SIGNER_WITH_PKCS11
#define FERROHSM_SIGNER_WITH_PKCS11 0
#endif
#ifndef FERROHSM_SIGNER_WITH_AWS_KMS
#define FERROHSM_SIGNER_WITH_AWS_KMS 0
#endif
#ifndef FERROHSM_SIGNER_WITH_GCP_KMS
#define FERROHSM_SIGNER_WITH_GCP_KMS 0
#endif
#ifndef FERROHSM_SIGNER_WITH_AZURE_KV
#define FERROHSM_SIGNER_WITH_AZURE_KV 0
#endif

#if FERROHSM_SIGNER_WITH_PKCS11
#include "ferrohsm/signer/pkcs11_provider.h"
#endif
#if FERROHSM_SIGNER_WITH_AWS_KMS || FERROHSM_SIGNER_WITH_GCP_KMS || FERROHSM_SIGNER_WITH_AZURE_KV
#include "ferrohsm/signer/cloud/providers.h"
#endif

namespace ferrohsm::signer {

namespace {
constexpr ProviderAvailability compiled_if(bool on) {
  return on ? ProviderAvailability::kCompiled : ProviderAvailability::kNotCompiled;
}

// One table: name → build option → availability.
constexpr ProviderInfo kProviders[] = {
    {"software", "", ProviderAvailability::kCompiled,
     "dev-only: Ed25519 keys derived by HKDF-SHA512 from one seed file"},
    {"pkcs11", "FERROHSM_SIGNER_PKCS11",
     FERROHSM_SIGNER_WITH_PKCS11 ? ProviderAvailability::kCompiled : ProviderAvailability::kNotBuiltYet,
     "Ed25519 keys on any PKCS#11 token listing CKM_EDDSA (FerroHSM, SoftHSMv2, vendor HSMs)"},
    {"aws-kms", "FERROHSM_SIGNER_AWS_KMS", compiled_if(FERROHSM_SIGNER_WITH_AWS_KMS),
     "AWS KMS: Ed25519 keys (ECC_NIST_EDWARDS25519), Sign ED25519_SHA_512, retire = ScheduleKeyDeletion; "
     "handle = key ARN"},
    {"gcp-kms", "FERROHSM_SIGNER_GCP_KMS", compiled_if(FERROHSM_SIGNER_WITH_GCP_KMS),
     "Google Cloud KMS: Ed25519 keys (EC_SIGN_ED25519), asymmetricSign with CRC32C checks, retire = destroy; "
     "handle = key version name"},
    {"azure-kv", "FERROHSM_SIGNER_AZURE_KV", compiled_if(FERROHSM_SIGNER_WITH_AZURE_KV),
     "Azure Key Vault: Key Vault offers no Ed25519 keys, so it cannot generate or sign with a signer key "
     "(refused with a message naming that limit)"},
};

std::string names_list() {
  std::string out;
  for (const auto& p : kProviders) {
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}
}  // namespace

std::span<const ProviderInfo> known_providers() { return kProviders; }

const ProviderInfo* find_provider(std::string_view name) {
  for (const auto& p : kProviders)
    if (p.name == name) return &p;
  return nullptr;
}

Result<std::unique_ptr<KeyProvider>> make_provider(std::string_view name,
                                                   const ProviderSettings& settings) {
  const ProviderInfo* info = find_provider(name);
  if (info == nullptr)
    return Error::invalid("unknown key provider '" + std::string(name) + "'; known providers: " + names_list());
  switch (info->availability) {
    case ProviderAvailability::kNotCompiled:
      return Error{ErrorKind::kNotBuilt,
                   "key provider '" + std::string(name) + "' is not compiled into this binary; rebuild with -D" +
                       std::string(info->cmake_option) + "=ON (no fall-back to another provider)"};
    case ProviderAvailability::kNotBuiltYet:
      return Error{ErrorKind::kNotBuilt,
                   "key provider '" + std::string(name) +
                       "' is not built yet in this version of ferrohsm-signer (it needs ferrohsm::client); "
                       "no fall-back to another provider"};
    case ProviderAvailability::kCompiled:
      break;
  }
  if (name == "software") {
    auto p = SoftwareProvider::from_seed_file(settings.software_seed_file);
    if (!p) return p.error();
    return std::unique_ptr<KeyProvider>(std::move(*p));
  }
#if FERROHSM_SIGNER_WITH_PKCS11
  if (name == "pkcs11") return make_pkcs11_provider(settings.pkcs11);
#endif
#if FERROHSM_SIGNER_WITH_AWS_KMS
  if (name == "aws-kms") return make_aws_kms_provider(settings.aws_kms);
#endif
#if FERROHSM_SIGNER_WITH_GCP_KMS
  if (name == "gcp-kms") return make_gcp_kms_provider(settings.gcp_kms);
#endif
#if FERROHSM_SIGNER_WITH_AZURE_KV
  if (name == "azure-kv") return make_azure_kv_provider(settings.azure_kv);
#endif
  return Error{ErrorKind::kNotBuilt, "key provider '" + std::string(name) + "' has no adapter in this binary"};
}

std::string describe_providers() {
  std::string out;
  for (const auto& p : kProviders) {
    out += std::string(p.name);
    out.append(p.name.size() < 10 ? 10 - p.name.size() : 1, ' ');
    switch (p.availability) {
      case ProviderAvailability::kCompiled: out += "available        "; break;
      case ProviderAvailability::kNotCompiled:
        out += "not compiled in  (rebuild with -D" + std::string(p.cmake_option) + "=ON) ";
        break;
      case ProviderAvailability::kNotBuiltYet: out += "not built yet    "; break;
    }
    out += std::string(p.description) + "\n";
  }
  return out;
}

}  // namespace ferrohsm::signer
