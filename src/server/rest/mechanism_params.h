// A request's mechanism: "ECDSA_SHA256" or "CKM_ECDSA_SHA256", and the parameters the
// body gives it ("parameters": RSA-PSS hash/mgf/salt_length, RSA-OAEP hash/mgf/label,
// AES-GCM iv/aad/tag_bits, AES-CBC(-PAD) iv), as the CK_MECHANISM the core takes.
#pragma once

#include "base/result.h"

#include <ferrohsm/cryptoki.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace ferrohsm::server::rest {

// The CK_MECHANISM and the parameter structures and bytes it points into (so it does
// not move: handed out by unique_ptr).
struct Mech {
  CK_MECHANISM m{};
  CK_RSA_PKCS_PSS_PARAMS pss{};
  CK_RSA_PKCS_OAEP_PARAMS oaep{};
  CK_GCM_PARAMS gcm{};
  Bytes iv, aad, label;
  bool iv_generated = false;  // the server chose the IV (encrypt without "iv"): answered with the result
};

// CKR_MECHANISM_INVALID for an unknown name, CKR_MECHANISM_PARAM_INVALID for parameters
// that are malformed or given to a mechanism that takes none through REST. `encrypting`:
// an AES-GCM/CBC IV may be left out (the server picks a random one).
Result<std::unique_ptr<Mech>> mechanism(const nlohmann::json& body, bool encrypting = false);

}  // namespace ferrohsm::server::rest
