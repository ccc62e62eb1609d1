// Reading keys and certificates to import: a PKCS#8 private key (also the traditional
// RSA/EC forms), a SubjectPublicKeyInfo public key, an X.509 certificate (PEM or DER),
// or a PKCS#12 file, into the PKCS#11 objects to create. The objects carry their class,
// key type and material only: the caller adds storage (CKA_TOKEN, label, id) and usages.
// Shared by `ferrohsm key import` and the REST API's keys:import.
#pragma once

#include "core/attributes.h"

#include <string>
#include <string_view>
#include <vector>

namespace ferrohsm {

struct ImportedObjects {
  std::string kind;              // "private key (rsa)", "public key (ec)", "certificate", "pkcs12 (ec)"
  std::vector<AttrMap> objects;  // private key first, then its public key, then certificates; or one object
  Bytes default_id;              // SHA-1 of the SubjectPublicKeyInfo: key and certificate match
};

// CKR_ARGUMENTS_BAD with a clear reason for unreadable input, unknown formats,
// encrypted keys and unsupported key types; CKR_CURVE_NOT_SUPPORTED for other curves.
// `name` (a file name, or "data") is used in messages.
Result<ImportedObjects> decode_import(ByteView data, const std::string& name);
// The same from a file (at most 1 MiB).
Result<ImportedObjects> read_import_file(const std::string& path);

// A PKCS#12 (DER): its private key, the public key, the key's certificate and the other
// certificates (the chain; each already carries CKA_ID, the SHA-1 of its own key).
// A wrong password is CKR_ENCRYPTED_DATA_INVALID, and the password is in no message.
Result<ImportedObjects> decode_pkcs12(ByteView der, std::string_view password, const std::string& name);

}  // namespace ferrohsm
