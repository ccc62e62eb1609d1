#include "support/test_token.h"

#include <ferrohsm/client/module.h>
#include "base/secret.h"
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ferrohsm::signer::testing {

const char* test_module_kind() { return SIGNER_TEST_MODULE_KIND; }

TestToken create_test_token(const TempDir& dir) {
  TestToken t;
  t.kind = test_module_kind();
  // FERROHSM_SIGNER_TEST_MODULE replaces the built-in path (the missing-module check uses it).
  const char* override_path = std::getenv("FERROHSM_SIGNER_TEST_MODULE");
  t.module_path = override_path != nullptr && *override_path != '\0' ? override_path : SIGNER_TEST_MODULE_PATH;
  t.conf_dir = dir.path();
  if (access(t.module_path.c_str(), R_OK) != 0) {
    t.error = t.module_path + " is not there" + (t.kind == "softhsm" ? " (Debian package softhsm2)" : "");
    return t;
  }
  std::string tokens = dir.file("tokens");
  std::filesystem::create_directories(tokens);
  std::ofstream(dir.file("softhsm2.conf")) << "directories.tokendir = " << tokens
                                           << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  // A temp store; a low PBKDF2 count keeps logins fast (FerroHSM warns about it at start).
  std::ofstream(dir.file("ferrohsm.toml")) << "[store]\npath = \"" << dir.file("ferrohsm.db")
                                           << "\"\n[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n";
  setenv("SOFTHSM2_CONF", dir.file("softhsm2.conf").c_str(), 1);
  setenv("FERROHSM_CONF", dir.file("ferrohsm.toml").c_str(), 1);
  t.pin_file = dir.file("pin");
  std::ofstream(t.pin_file) << kTokenUserPin << "\n";
  auto module = client::Module::load(t.module_path);
  if (!module) {
    t.error = "cannot load " + t.module_path + ": " + module.error().message;
    return t;
  }
  t.module = *module;
  auto slots = t.module->slots(true);
  if (!slots) {
    t.error = t.kind + " lists no slot: " + slots.error().message;
    return t;
  }
  // The first slot whose token is not initialised yet (both modules keep one such slot).
  std::optional<CK_SLOT_ID> free;
  for (CK_SLOT_ID id : *slots) {
    auto info = t.module->token_info(id);
    if (info && !(info->flags & CKF_TOKEN_INITIALIZED)) {
      free = id;
      break;
    }
  }
  if (!free) {
    t.error = t.kind + " has no free slot";
    return t;
  }
  auto init = t.module->init_token(*free, client::Secret(kTokenSoPin), "signer-tests", client::Secret(kTokenUserPin));
  if (!init) {
    t.error = "C_InitToken failed: " + init.error().message;
    return t;
  }
  // SoftHSMv2 moves an initialised token to a slot id of its own at the next
  // C_Initialize (as every other process sees it): load the library again to learn it.
  t.module.reset();
  module = client::Error{};  // drop the last reference: C_Finalize
  module = client::Module::load(t.module_path);
  if (!module) {
    t.error = "cannot load " + t.module_path + " again: " + module.error().message;
    return t;
  }
  t.module = *module;
  auto slot = t.module->find_token("signer-tests");
  if (!slot) {
    t.error = "initialised token not found: " + slot.error().message;
    return t;
  }
  t.slot = *slot;
  return t;
}

const TestToken& test_token() {
  static TempDir dir;  // lives as long as the process
  static const TestToken token = create_test_token(dir);
  return token;
}

}  // namespace ferrohsm::signer::testing
