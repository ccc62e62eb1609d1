// The PKCS#11 token the pkcs11 provider tests run on: SoftHSMv2 or FerroHSM's own
// module, chosen per test executable (SIGNER_TEST_MODULE_KIND / _PATH). A temp dir holds
// the module's configuration (SOFTHSM2_CONF's softhsm2.conf, or FERROHSM_CONF's TOML with
// a temp store), set before the module loads; one initialised token; a PIN file. Made
// once per process; gtest_discover_tests runs each test in its own process.
#pragma once

#include <memory>
#include <string>

#include <ferrohsm/cryptoki.h>

#include "support/reference.h"

namespace ferrohsm::client {
class Module;
}

namespace ferrohsm::signer::testing {

// A PIN no port number or timestamp in a log can contain by chance.
inline constexpr const char* kTokenUserPin = "t0ken-pin-7c1e";
inline constexpr const char* kTokenSoPin = "12345678";

struct TestToken {
  std::string kind;         // "softhsm" or "ferrohsm"
  std::string module_path;
  std::string conf_dir;     // the temp dir with the configuration and the store
  std::string pin_file;     // holds kTokenUserPin
  CK_SLOT_ID slot = 0;
  std::shared_ptr<client::Module> module;  // keeps the library initialised
  std::string error;                       // set when the token could not be made
};

// "softhsm" or "ferrohsm": the module this executable was built for.
const char* test_module_kind();

// Writes both modules' configuration into `dir`, points SOFTHSM2_CONF and FERROHSM_CONF
// at it (child processes inherit them), loads the module and initialises a token
// labelled "signer-tests". Reset `module` to unload the library again.
TestToken create_test_token(const TempDir& dir);

// The process-wide token (created on first call); `error` says why when unusable.
const TestToken& test_token();

}  // namespace ferrohsm::signer::testing
