// The recovery ladder table: return code → step.
#include <ferrohsm/client/recovery.h>

#include <array>

namespace ferrohsm::client {
namespace {

constexpr std::array<LadderRung, 12> kLadder = {{
    {CKR_SESSION_HANDLE_INVALID, RecoveryStep::reopen_session, "the module no longer knows the session"},
    {CKR_SESSION_CLOSED, RecoveryStep::reopen_session, "the session was closed under us"},
    {CKR_OPERATION_ACTIVE, RecoveryStep::reopen_session, "the module left an operation active on our session"},
    {CKR_USER_NOT_LOGGED_IN, RecoveryStep::reauthenticate, "the token logged out (timeout, restart, other app)"},
    {CKR_DEVICE_REMOVED, RecoveryStep::reinitialize, "the token was removed"},
    {CKR_TOKEN_NOT_PRESENT, RecoveryStep::reinitialize, "the token is not in its slot"},
    {CKR_DEVICE_ERROR, RecoveryStep::reinitialize, "the device failed"},
    {CKR_KEY_HANDLE_INVALID, RecoveryStep::refind_key, "a cached key handle went stale"},
    {CKR_OBJECT_HANDLE_INVALID, RecoveryStep::refind_key, "a cached object handle went stale"},
    {CKR_PIN_INCORRECT, RecoveryStep::report_pin, "wrong PIN: reported, only this slot sees it"},
    {CKR_PIN_LOCKED, RecoveryStep::report_pin, "PIN locked: reported, only this slot sees it"},
    {CKR_PIN_LEN_RANGE, RecoveryStep::report_pin, "PIN length out of range: reported"},
}};

constexpr std::array<std::pair<RecoveryStep, const char*>, 6> kStepNames = {{
    {RecoveryStep::none, "none"},
    {RecoveryStep::reopen_session, "reopen_session"},
    {RecoveryStep::reauthenticate, "reauthenticate"},
    {RecoveryStep::reinitialize, "reinitialize"},
    {RecoveryStep::refind_key, "refind_key"},
    {RecoveryStep::report_pin, "report_pin"},
}};

}  // namespace

std::span<const LadderRung> recovery_ladder() { return kLadder; }

RecoveryStep recovery_step(CK_RV rv) {
  for (const auto& rung : kLadder) {
    if (rung.rv == rv) return rung.step;
  }
  return RecoveryStep::none;
}

const char* recovery_step_name(RecoveryStep step) {
  for (const auto& [s, name] : kStepNames) {
    if (s == step) return name;
  }
  return "unknown";
}

}  // namespace ferrohsm::client
