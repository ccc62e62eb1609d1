// Slot configuration: the name tables for slot types and policies, and validation.
#include <ferrohsm/client/config.h>

namespace ferrohsm::client {
namespace {
Error config_error(const std::string& slot_ref, const std::string& what) {
  return Error{ErrorKind::config, CKR_OK, "slot '" + slot_ref + "': " + what};
}
}  // namespace

Result<SlotType> parse_slot_type(std::string_view name) {
  if (name.empty()) return Error{ErrorKind::config, CKR_OK, "slot type is empty (use 'token' or a pool type)"};
  return name == "token" ? SlotType::token : SlotType::pool;
}

const char* slot_type_name(SlotType type) { return type == SlotType::token ? "token" : "pool"; }

Result<ReauthPolicy> parse_reauth_policy(std::string_view name) {
  if (name == "prompt") return ReauthPolicy::prompt;
  if (name == "fail") return ReauthPolicy::fail;
  return Error{ErrorKind::config, CKR_OK,
               "reauthentication policy '" + std::string(name) + "' is unknown (use 'prompt' or 'fail')"};
}

const char* reauth_policy_name(ReauthPolicy policy) { return policy == ReauthPolicy::prompt ? "prompt" : "fail"; }

Status validate(const SlotConfig& c) {
  if (c.slot_ref.empty()) return config_error(c.slot_ref, "slot_ref is empty");
  if (c.module_path.empty()) return config_error(c.slot_ref, "module path is empty");
  if (c.slot_id.has_value() == c.token_label.has_value()) {
    return config_error(c.slot_ref, "give exactly one of slot id and token label");
  }
  if (c.session_pool_size < 1) {
    return config_error(c.slot_ref, "session_pool_size is " + std::to_string(c.session_pool_size) + ", must be >= 1");
  }
  if (c.type == SlotType::token && c.session_pool_size > 1) {
    return config_error(c.slot_ref,
                        "session_pool_size is " + std::to_string(c.session_pool_size) +
                            " but slot type is 'token': a PIN-protected token keeps one logged-in session and "
                            "its login state lives on worker 1, so token slots cannot pool (set "
                            "session_pool_size = 1, or use a pool slot type for a device that allows many sessions)");
  }
  if (c.idle_timeout.count() < 0) return config_error(c.slot_ref, "idle timeout is negative");
  if (c.backoff.attempts < 1) return config_error(c.slot_ref, "backoff attempts must be >= 1");
  for (const auto& [ref, label] : c.keys) {
    if (ref.empty() || label.empty()) return config_error(c.slot_ref, "a key ref or its label is empty");
  }
  return {};
}

Result<std::string> resolve_key_label(const SlotConfig& config, std::string_view key_ref) {
  auto it = config.keys.find(std::string(key_ref));
  if (it == config.keys.end()) {
    return Error{ErrorKind::key_not_found, CKR_OK,
                 "key ref '" + std::string(key_ref) + "' is not configured for slot '" + config.slot_ref + "'"};
  }
  return it->second;
}

}  // namespace ferrohsm::client
