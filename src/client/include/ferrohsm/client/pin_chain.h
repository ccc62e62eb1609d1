// The PIN chain: the PIN given with the call, else the slot's pin_callback, else an
// error. The returned Secret is used for one C_Login and wiped when it goes out of
// scope; nothing is kept on the server.
#pragma once

#include <ferrohsm/client/config.h>

#include <optional>

namespace ferrohsm::client {

Result<Secret> resolve_pin(const std::optional<Secret>& per_call, const PinCallback& callback,
                           const PinRequest& request);

}  // namespace ferrohsm::client
