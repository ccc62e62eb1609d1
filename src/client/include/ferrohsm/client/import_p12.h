// Provisioning: import the private key (RSA or EC) and certificate of a PKCS#12 file
// into a token with C_CreateObject. This is a provisioning tool, not a runtime API:
// the key passes through this process's memory (wiped afterwards).
//
// `ferrohsm import-p12 --module LIB (--slot ID | --token LABEL) --p12 FILE
//     --key-label L [--cert-label C] [--id HEX] [--pin-file F] [--password-file F]`
// The user PIN comes from --pin-file, else $FERROHSM_PIN, else a no-echo prompt; the
// PKCS#12 password from --password-file, else a no-echo prompt.
#pragma once

#include <ferrohsm/client/result.h>
#include "base/secret.h"
#include <ferrohsm/client/session.h>

#include <string>

namespace ferrohsm::client {

enum class P12KeyType { rsa, ec };

// What a PKCS#12 holds, as the attribute bytes C_CreateObject takes. Secret parts are
// wiped when the object goes.
struct P12Contents {
  P12KeyType key_type = P12KeyType::rsa;
  Bytes modulus, public_exponent, private_exponent, prime1, prime2, exponent1, exponent2, coefficient;  // RSA
  Bytes ec_params, ec_point, ec_value;                                                                  // EC
  Bytes cert_der, subject_der, issuer_der, serial_der;
  P12Contents() = default;
  P12Contents(P12Contents&&) = default;
  P12Contents& operator=(P12Contents&&) = default;
  ~P12Contents();
};

// Errors: io (unreadable file), crypto with "wrong password" for a bad MAC, invalid_argument
// for a key type other than RSA/EC or a certificate that does not match the key.
Result<P12Contents> read_p12(const std::string& path, const Secret& password);

struct ImportRequest {
  std::string key_label;
  std::string cert_label;  // empty: the key label
  Bytes id;                // empty: no CKA_ID
};

// Creates the private key (sensitive, unextractable), its public key and the certificate on
// the logged-in read-write session. A label already in use is refused before anything is
// created; a failure part-way destroys what was created, leaving the token unchanged.
Status import_p12(Session& session, const P12Contents& contents, const ImportRequest& request);

}  // namespace ferrohsm::client
