#include "sidecar/functions.h"

#include "wire/call.h"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <type_traits>
#include <vector>

namespace ferrohsm::sidecar {
namespace {

std::atomic<Client*> g_client{nullptr};

CK_RV not_initialized() { return CKR_CRYPTOKI_NOT_INITIALIZED; }

// The operation a function's refused call ends (PKCS#11: any error but
// CKR_BUFFER_TOO_SMALL ends it), as C_SessionCancel names it; 0 for the others.
CK_FLAGS ends_operation(uint32_t function) {
  switch (function) {
    case kFn_C_Encrypt: case kFn_C_EncryptUpdate: return CKF_ENCRYPT;
    case kFn_C_Decrypt: case kFn_C_DecryptUpdate: return CKF_DECRYPT;
    case kFn_C_Digest: case kFn_C_DigestUpdate: return CKF_DIGEST;
    case kFn_C_Sign: case kFn_C_SignUpdate: return CKF_SIGN;
    case kFn_C_SignRecover: return CKF_SIGN_RECOVER;
    case kFn_C_Verify: case kFn_C_VerifyUpdate: case kFn_C_VerifyFinal: return CKF_VERIFY;
    case kFn_C_VerifyRecover: return CKF_VERIFY_RECOVER;
    case kFn_C_DigestEncryptUpdate: return CKF_DIGEST | CKF_ENCRYPT;
    case kFn_C_DecryptDigestUpdate: return CKF_DECRYPT | CKF_DIGEST;
    case kFn_C_SignEncryptUpdate: return CKF_SIGN | CKF_ENCRYPT;
    case kFn_C_DecryptVerifyUpdate: return CKF_DECRYPT | CKF_VERIFY;
    default: return 0;
  }
}

// The calls that only ask about slots, tokens and mechanisms: no session of the lost
// connection is involved, and asking again changes nothing on the server.
bool asks_about_slots(uint32_t function) {
  switch (function) {
    case kFn_C_GetSlotList: case kFn_C_GetSlotInfo: case kFn_C_GetTokenInfo: case kFn_C_GetMechanismList:
    case kFn_C_GetMechanismInfo:
      return true;
    default:
      return false;
  }
}

// One call of `function` through the active client. `first` is the function's first
// argument: for the operation calls, the session whose operation a refused call ends.
// Slot-level calls that ask about slots and tokens are tried once more when the
// connection changed under them: the first call after a server restart finds the old
// connection closed, and CKR_DEVICE_REMOVED is no answer C_GetSlotList may give.
template <typename First, typename... C>
CK_RV call(uint32_t function, First first, C... codecs) {
  Client* c = active();
  if (c == nullptr) return not_initialized();
  auto send = [c](wire::Call& call, uint32_t generation) { return c->send(call, generation); };
  auto refused = [&](CK_RV rv) {
    if constexpr (std::is_integral_v<First>) {
      // Refused here, the call never reached the server: end its operation there as
      // the server would have ended it.
      if (const CK_FLAGS op = ends_operation(function); op != 0) sc_C_SessionCancel(first, op);
    }
    return rv;
  };
  CK_RV rv = wire::client::invoke(c->context(), function, send, refused, codecs...);
  if (rv == CKR_DEVICE_REMOVED && asks_about_slots(function))
    rv = wire::client::invoke(c->context(), function, send, refused, codecs...);
  return rv;
}

}  // namespace

Client* active() { return g_client.load(std::memory_order_acquire); }
void set_active(Client* c) { g_client.store(c, std::memory_order_release); }

#define FH_UNPAREN(...) __VA_ARGS__
#define FH_FIRST(a, ...) a
#define FH_FN(name, params, args, codecs)                   \
  FH_IF_REMOTE(codecs)                                      \
  (CK_RV FH_SC_NAME(name) params {                          \
    using namespace ::ferrohsm::wire;                       \
    using namespace ::ferrohsm::wire::client;               \
    return call(kFn_##name, FH_FIRST args, FH_UNPAREN codecs); \
  })
#include "base/pkcs11_functions.inc"
#undef FH_FN
#undef FH_UNPAREN
#undef FH_FIRST

}  // namespace ferrohsm::sidecar
