// Unpacking a PKCS#12 (OpenSSL 3) into DER parts: its private key as PKCS#8, the key's
// certificate and the other certificates. The MAC is checked with the password first,
// so that a wrong password has its own answer. Shared by the core's import decoder
// (core/key_import.h: `ferrohsm key import`, the REST keys:import) and the client
// layer's `ferrohsm import-p12` into any PKCS#11 library.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <string_view>
#include <vector>

namespace ferrohsm {

struct Pkcs12Parts {
  SecureBytes private_key;   // PKCS#8 PrivateKeyInfo (DER); empty when the file holds none
  Bytes certificate;         // the key's certificate (DER); empty when none
  std::vector<Bytes> chain;  // the other certificates (DER)
};

// CKR_ARGUMENTS_BAD: not a PKCS#12, or a certificate that does not match the key;
// CKR_ENCRYPTED_DATA_INVALID: a wrong password (the message says "wrong password") or
// contents that do not decrypt. No message holds the password.
Result<Pkcs12Parts> unpack_pkcs12(ByteView der, std::string_view password);

}  // namespace ferrohsm
