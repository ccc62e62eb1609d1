// The PIN chain (per-call PIN → pin_callback → error).
#include <ferrohsm/client/pin_chain.h>

namespace ferrohsm::client {

Result<Secret> resolve_pin(const std::optional<Secret>& per_call, const PinCallback& callback,
                           const PinRequest& request) {
  std::string where = "slot '" + request.slot_ref + "' worker " + std::to_string(request.worker_index);
  if (per_call.has_value()) {
    if (per_call->empty()) return Error{ErrorKind::invalid_argument, CKR_OK, where + ": the PIN given with the call is empty"};
    return Secret(per_call->view());
  }
  if (!callback) {
    return Error{ErrorKind::no_pin, CKR_OK,
                 where + ": no PIN: none was given with the call and the slot has no pin_callback"};
  }
  std::optional<Secret> pin = callback(request);
  if (!pin.has_value() || pin->empty()) {
    return Error{ErrorKind::no_pin, CKR_OK, where + ": no PIN: the pin_callback declined to give one"};
  }
  return std::move(*pin);
}

}  // namespace ferrohsm::client
