#include "support/softhsm_token.h"

#include <ferrohsm/client/module.h>
#include <ferrohsm/client/secret.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ferrohsm::signer::testing {

namespace {
SoftHsmToken make_token() {
  static TempDir dir;  // lives as long as the process
  SoftHsmToken t;
  t.module_path = kSoftHsmModule;
  if (access(kSoftHsmModule, R_OK) != 0) {
    t.error = std::string(kSoftHsmModule) + " is not installed (Debian package softhsm2)";
    return t;
  }
  std::string tokens = dir.file("tokens");
  std::filesystem::create_directories(tokens);
  t.conf_path = dir.file("softhsm2.conf");
  std::ofstream(t.conf_path) << "directories.tokendir = " << tokens << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  setenv("SOFTHSM2_CONF", t.conf_path.c_str(), 1);
  t.pin_file = dir.file("pin");
  std::ofstream(t.pin_file) << "4321\n";
  auto module = client::Module::load(kSoftHsmModule);
  if (!module) {
    t.error = "cannot load SoftHSMv2: " + module.error().message;
    return t;
  }
  t.module = *module;
  auto slots = t.module->slots(false);
  if (!slots || slots->empty()) {
    t.error = "SoftHSMv2 lists no slot";
    return t;
  }
  auto init = t.module->init_token(slots->front(), client::Secret("12345678"), "signer-tests", client::Secret("4321"));
  if (!init) {
    t.error = "C_InitToken failed: " + init.error().message;
    return t;
  }
  auto slot = t.module->find_token("signer-tests");
  if (!slot) {
    t.error = "initialised token not found";
    return t;
  }
  t.slot = *slot;
  return t;
}
}  // namespace

const SoftHsmToken& softhsm_token() {
  static const SoftHsmToken token = make_token();
  return token;
}

}  // namespace ferrohsm::signer::testing
