// The recovery ladder: which step a slot server takes for each return code. The table
// in recovery.cc is the one place this mapping lives; docs/CLIENT.md prints it.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <span>

namespace ferrohsm::client {

enum class RecoveryStep {
  none,            // not a recoverable condition: report the error
  reopen_session,  // the session is gone: close it, open a new one, retry
  reauthenticate,  // the login is gone: apply the reauthentication policy, retry
  reinitialize,    // the device is gone: close, re-initialise with bounded backoff, retry
  refind_key,      // a cached object handle went stale: drop the cache, find again, retry
  report_pin,      // a PIN was refused: report it, touch nothing else (no retry, other slots unaffected)
};

struct LadderRung {
  CK_RV rv;
  RecoveryStep step;
  const char* why;
};

std::span<const LadderRung> recovery_ladder();
RecoveryStep recovery_step(CK_RV rv);
const char* recovery_step_name(RecoveryStep step);

// How many ladder steps one call may take before it reports the last error. Sessions
// of one pool share the token's login, so under frequent forced logouts a call can
// lose its fresh login to another worker's fault more than once: the budget allows
// for that and still ends a call that cannot make progress.
inline constexpr int kMaxRecoveriesPerCall = 8;

}  // namespace ferrohsm::client
