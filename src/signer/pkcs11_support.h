// Private to the pkcs11 provider: the client layer's errors as domain errors, and the
// PIN source (file or dev-only flag) the slot servers' PIN chain calls. The PIN file is
// read by base/pin_source.h's read_pin_file (its first line, into a wiped Secret).
#pragma once

#include <ferrohsm/client/config.h>
#include <ferrohsm/client/result.h>

#include <string_view>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::signer::pkcs11_detail {

// No CKR_* type crosses this line; the message names the code, never a PIN.
Error from_client(const client::Error& e, std::string_view what);

// The slot servers' pin_callback: reads the PIN file at every login (so a rotated
// secret mount is picked up), or hands out the dev-only --pkcs11-pin.
Result<client::PinCallback> pin_source(const Pkcs11Settings& settings);

}  // namespace ferrohsm::signer::pkcs11_detail
