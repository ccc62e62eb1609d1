// Private to the pkcs11 provider: the client layer's errors as domain errors, and the
// PIN source (file or dev-only flag) the slot servers' PIN chain calls.
#pragma once

#include <ferrohsm/client/config.h>
#include <ferrohsm/client/result.h>

#include <string_view>

#include "ferrohsm/signer/errors.h"
#include "ferrohsm/signer/provider_registry.h"

namespace ferrohsm::signer::pkcs11_detail {

// No CKR_* type crosses this line; the message names the code, never a PIN.
Error from_client(const client::Error& e, std::string_view what);

// The PIN in the file (one line; a trailing newline is ignored), wiped when it goes.
Result<client::Secret> read_pin_file(const std::string& path);

// The slot servers' pin_callback: reads the PIN file at every login (so a rotated
// secret mount is picked up), or hands out the dev-only --pkcs11-pin.
Result<client::PinCallback> pin_source(const Pkcs11Settings& settings);

}  // namespace ferrohsm::signer::pkcs11_detail
