// A SoftHSMv2 token for the pkcs11 provider tests: a temp SOFTHSM2_CONF whose
// tokendir is a temp dir, one initialised token, a PIN file. Made once per process
// (SoftHSMv2 reads its configuration at C_Initialize).
#pragma once

#include <memory>
#include <string>

#include <ferrohsm/cryptoki.h>

#include "support/reference.h"

namespace ferrohsm::client {
class Module;
}

namespace ferrohsm::signer::testing {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

struct SoftHsmToken {
  std::string module_path;
  std::string conf_path;
  std::string pin_file;
  CK_SLOT_ID slot = 0;
  std::shared_ptr<client::Module> module;  // keeps the library initialised
  std::string error;                       // set when the token could not be made
};

// The process-wide token (created on first call); `error` says why when unusable.
const SoftHsmToken& softhsm_token();

}  // namespace ferrohsm::signer::testing
