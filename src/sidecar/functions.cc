#include "sidecar/functions.h"

#include "wire/call.h"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace ferrohsm::sidecar {
namespace {

std::atomic<Client*> g_client{nullptr};

CK_RV not_initialized() { return CKR_CRYPTOKI_NOT_INITIALIZED; }

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

// One call of `function` through the active client. Slot-level calls that ask about
// slots and tokens are tried once more when the connection changed under them: the
// first call after a server restart finds the old connection closed, and
// CKR_DEVICE_REMOVED is no answer C_GetSlotList may give.
template <typename... C>
CK_RV call(uint32_t function, C... codecs) {
  Client* c = active();
  if (c == nullptr) return not_initialized();
  auto send = [c](wire::Call& call, uint32_t generation) { return c->send(call, generation); };
  CK_RV rv = wire::client::invoke(c->context(), function, send, codecs...);
  if (rv == CKR_DEVICE_REMOVED && asks_about_slots(function))
    rv = wire::client::invoke(c->context(), function, send, codecs...);
  return rv;
}

}  // namespace

Client* active() { return g_client.load(std::memory_order_acquire); }
void set_active(Client* c) { g_client.store(c, std::memory_order_release); }

#define FH_UNPAREN(...) __VA_ARGS__
#define FH_FN(name, params, args, codecs)                   \
  FH_IF_REMOTE(codecs)                                      \
  (CK_RV sc_##name params {                                 \
    using namespace ::ferrohsm::wire;                       \
    using namespace ::ferrohsm::wire::client;               \
    return call(kFn_##name, FH_UNPAREN codecs);             \
  })
#include "base/pkcs11_functions.inc"
#undef FH_FN
#undef FH_UNPAREN

}  // namespace ferrohsm::sidecar
