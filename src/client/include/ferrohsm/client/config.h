// What one configured slot is: where its module lives, which slot or token it serves,
// whether it may pool sessions, its key refs, where PINs come from and what happens
// when a login is lost.
#pragma once

#include <ferrohsm/client/result.h>
#include "base/secret.h"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ferrohsm::client {

// `token`: a PIN-protected device with one session (pool size must be 1).
// `pool`: anything else (network HSM, soft token) — may run several workers.
enum class SlotType { token, pool };
// "token" → token; any other non-empty name ("pool", "network", "soft") → pool.
Result<SlotType> parse_slot_type(std::string_view name);
const char* slot_type_name(SlotType type);

// What to do when a logged-in worker finds itself logged out (idle timeout, token
// restart, CKR_USER_NOT_LOGGED_IN): `prompt` asks the PIN chain and logs in again;
// `fail` returns ErrorKind::reauth_required until an explicit login().
enum class ReauthPolicy { prompt, fail };
Result<ReauthPolicy> parse_reauth_policy(std::string_view name);
const char* reauth_policy_name(ReauthPolicy policy);

enum class PinReason { login, reauth };
struct PinRequest {
  std::string slot_ref;
  int worker_index = 1;
  PinReason reason = PinReason::login;
};
// Returns the PIN, or nullopt to decline. Called with no lock held by other workers.
using PinCallback = std::function<std::optional<Secret>(const PinRequest&)>;

struct Backoff {
  int attempts = 4;                                    // re-initialisation tries before giving up
  std::chrono::milliseconds initial{20};               // first delay, doubled each try
  std::chrono::milliseconds max{500};                  // cap on one delay
};

struct SlotConfig {
  std::string slot_ref;                      // the logical name callers use
  std::string module_path;                   // the PKCS#11 library
  std::optional<CK_SLOT_ID> slot_id;         // either a slot id …
  std::optional<std::string> token_label;    // … or a token label (preferred: survives renumbering)
  SlotType type = SlotType::token;
  int session_pool_size = 1;                 // workers 1..N
  std::map<std::string, std::string> keys;   // logical key ref → CKA_LABEL
  PinCallback pin_callback;                  // may be empty
  ReauthPolicy reauthentication = ReauthPolicy::prompt;
  std::chrono::milliseconds idle_timeout{0};  // 0: never time out
  Backoff backoff;
  bool read_write = false;                   // sessions opened CKF_RW_SESSION
};

// Checks a configuration before any worker starts; the message says what is wrong and why.
Status validate(const SlotConfig& config);

// The CKA_LABEL for a logical key ref, from the slot's map.
Result<std::string> resolve_key_label(const SlotConfig& config, std::string_view key_ref);

}  // namespace ferrohsm::client
