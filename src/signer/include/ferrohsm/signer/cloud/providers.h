// The cloud KMS adapters behind the KeyProvider port (docs/SIGNER.md). Each is compiled
// only with its CMake option (FERROHSM_SIGNER_AWS_KMS, _GCP_KMS, _AZURE_KV); the
// registry (provider_registry.cc) calls these factories and refuses a provider whose
// option was off.
#pragma once

#include <memory>
#include <string_view>

#include "ferrohsm/signer/cloud/settings.h"
#include "ferrohsm/signer/key_provider.h"

namespace ferrohsm::signer {

// aws-kms: ECC_NIST_EDWARDS25519 keys, Sign(RAW, ED25519_SHA_512), ScheduleKeyDeletion.
// Handle: the key ARN. Alias alias/<prefix>/<scope>/<key_id> finds a key again.
Result<std::unique_ptr<KeyProvider>> make_aws_kms_provider(const AwsKmsSettings& settings);

// gcp-kms: EC_SIGN_ED25519 crypto keys in one key ring, asymmetricSign with CRC32C,
// destroy of the version. Handle: the full crypto key version name.
Result<std::unique_ptr<KeyProvider>> make_gcp_kms_provider(const GcpKmsSettings& settings);

// azure-kv: Key Vault offers no Ed25519 keys, so generate() is refused (kNotSupported)
// with kAzureNoEd25519, and so are foreign keys' public_key/sign/retire.
Result<std::unique_ptr<KeyProvider>> make_azure_kv_provider(const AzureKvSettings& settings);

inline constexpr std::string_view kAzureNoEd25519 =
    "Azure Key Vault does not offer Ed25519 keys (its asymmetric key types are RSA and EC on P-256, P-256K, "
    "P-384 and P-521), and every ferrohsm-signer key is Ed25519; azure-kv cannot hold a signer key until Key "
    "Vault adds Ed25519 (docs/SIGNER.md)";

}  // namespace ferrohsm::signer
