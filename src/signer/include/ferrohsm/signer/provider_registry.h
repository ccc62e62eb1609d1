// The providers this service knows by name, which of them this binary was built
// with, and the one factory that builds the selected one. Selecting a provider the
// binary lacks is an error naming the CMake option to rebuild with — never a silent
// fall-back to the software provider.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/secret.h"
#include "ferrohsm/signer/cloud/settings.h"
#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/key_provider.h"

namespace ferrohsm::signer {

struct Pkcs11Settings {
  std::string module;            // absolute path of the PKCS#11 library
  std::optional<unsigned long> slot;
  std::string pin_file;          // the secret mount (production)
  std::optional<Secret> pin;      // --pkcs11-pin: local development only
  std::string label = "ferrohsm";  // CKA_LABEL prefix: <label>:<scope>:<key_id>
  int sessions = 4;  // slot-server workers (sessions); 1 = a single-session token
};

struct ProviderSettings {
  std::string software_seed_file;
  Pkcs11Settings pkcs11;
  AwsKmsSettings aws_kms;
  GcpKmsSettings gcp_kms;
  AzureKvSettings azure_kv;
};

enum class ProviderAvailability { kCompiled, kNotCompiled, kNotBuiltYet };

struct ProviderInfo {
  std::string_view name;
  std::string_view cmake_option;  // the option that compiles it in ("" for always-on)
  ProviderAvailability availability;
  std::string_view description;
};

// Every provider name the service knows, in a fixed order.
std::span<const ProviderInfo> known_providers();
const ProviderInfo* find_provider(std::string_view name);

// Builds the selected provider. Unknown, not compiled in, or not built yet → error
// (kInvalidArgument / kNotBuilt) with an instructive message.
Result<std::unique_ptr<KeyProvider>> make_provider(std::string_view name, const ProviderSettings& settings);

// The text --list-providers prints: one line per known provider.
std::string describe_providers();

}  // namespace ferrohsm::signer
