// The mechanism parameters the sign/verify/encrypt/decrypt commands fill in themselves,
// the same way in both backends: RSA-PSS takes its hash, MGF and salt from the
// mechanism's name (SHA256_RSA_PKCS_PSS: SHA-256, MGF1-SHA256, 32 bytes); RSA-OAEP is
// SHA-256 with MGF1-SHA256; AES-GCM (12-byte IV, 128-bit tag) and AES-CBC(-PAD) (16-byte
// IV) carry their IV in front of the ciphertext.
#pragma once

#include "backend.h"

#include <optional>
#include <string>

namespace ferrohsm::cli {

struct PssParams {
  CK_MECHANISM_TYPE hash;
  CK_RSA_PKCS_MGF_TYPE mgf;
  CK_ULONG salt;
  const char* hash_name;  // "SHA256", as the REST API names it
  const char* mgf_name;   // "MGF1_SHA256"
};

// The PSS parameters of SHA*_RSA_PKCS_PSS; nullopt for any other mechanism.
std::optional<PssParams> pss_params(CK_MECHANISM_TYPE m);

// --mechanism NAME: a known PKCS#11 mechanism the commands can parameterise.
// CKR_MECHANISM_INVALID for an unknown name or one whose parameters the tool cannot
// choose (RSA_PKCS_PSS alone: name the hash, e.g. SHA256_RSA_PKCS_PSS).
Result<CK_MECHANISM_TYPE> cli_mechanism(const std::string& name);

}  // namespace ferrohsm::cli
