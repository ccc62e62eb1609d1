// The control surface of the fault-injecting PKCS#11 module (test code only). The module
// forwards every call to a real module (FERROHSM_FAULT_TARGET, default SoftHSMv2) and
// injects faults when a knob is set. Tests find these functions with dlsym.
//
// Knobs (ferrohsm_fault_set):
//   close_session_every N  every Nth C_SignInit closes the real session, returns CKR_SESSION_CLOSED
//   logout_every N         every Nth C_SignInit logs the token out, returns CKR_USER_NOT_LOGGED_IN
//   refuse_logins N        the next N C_Login calls return CKR_PIN_INCORRECT (not forwarded)
//   device_fail_calls N    the next N calls of C_OpenSession/C_GetTokenInfo/C_SignInit/C_VerifyInit/
//                          C_Login/C_GetSessionInfo return device_fail_rv
//   device_fail_rv RV      CKR_DEVICE_REMOVED (default), CKR_TOKEN_NOT_PRESENT or CKR_DEVICE_ERROR
//   slow_sign_ms MS        C_Sign sleeps first
//   max_sessions N         C_OpenSession returns CKR_SESSION_COUNT when N sessions are open (0: no limit)
// Counters (ferrohsm_fault_get): sign_inits, signs, find_inits, logins, logouts, opens,
//   open_sessions, faults (injected so far).
#pragma once

extern "C" {
typedef void (*ferrohsm_fault_set_fn)(const char* knob, long value);
typedef long (*ferrohsm_fault_get_fn)(const char* counter);
typedef void (*ferrohsm_fault_reset_fn)(void);
// Closes every real session on every slot now (the token "restarts": sessions and login gone).
typedef void (*ferrohsm_fault_close_all_fn)(void);
}
