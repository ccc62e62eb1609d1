// Per-process test token: a temp dir with the module's configuration (SoftHSMv2's
// softhsm2.conf or FerroHSM's TOML), set in the environment before the module loads,
// and tokens initialised through ferrohsm::client::Module. Each gtest case runs in its
// own process (gtest_discover_tests), so each case gets a fresh store.
#pragma once

#include <ferrohsm/client/module.h>
#include <ferrohsm/client/session.h>

#include <memory>
#include <string>

namespace fhc_test {

inline constexpr const char* kUserPin = "246810";
inline constexpr const char* kSoPin = "13579111";

// The module the test body runs against ("softhsm" or "ferrohsm"), chosen per executable.
const char* module_kind();
// Its library path.
std::string module_path();
// The fault-injecting module's path (forwards to module_path()).
std::string fault_module_path();

// Creates the store (once per process) and sets SOFTHSM2_CONF / FERROHSM_CONF and
// FERROHSM_FAULT_TARGET. Call before loading any module.
const std::string& store_dir();

// Initialises a token labelled `label` on the first free slot of the module at `load_path`.
void init_token(const std::string& load_path, const std::string& label);

// Generates an RSA-2048 or EC P-256 key pair labelled `label` on the token (logged in as user).
enum class KeyType { rsa, ec };
void generate_key(const std::string& load_path, const std::string& token_label, const std::string& label, KeyType type);

// Public key of the pair as PEM-less OpenSSL check: verifies `sig` over `data` with the
// token's public key object via a fresh session (independent of the slot server).
bool verify_with_token(const std::string& load_path, const std::string& token_label, const std::string& label,
                       CK_MECHANISM_TYPE mechanism, const ferrohsm::client::Bytes& data,
                       const ferrohsm::client::Bytes& sig);

// The fault module's control functions (dlsym on the loaded fault module).
void fault_set(const char* knob, long value);
long fault_get(const char* counter);
void fault_reset();
void fault_close_all();

}  // namespace fhc_test
