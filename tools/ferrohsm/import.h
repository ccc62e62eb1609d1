// Reading a file for `key import`: a PKCS#8 private key (also the traditional RSA/EC
// forms), a SubjectPublicKeyInfo public key, or an X.509 certificate, in PEM or DER,
// into the PKCS#11 objects to create (without label and id, which the command adds).
#pragma once

#include "core/attributes.h"

#include <string>
#include <vector>

namespace ferrohsm::cli {

struct ImportedObjects {
  std::string kind;             // "private key (rsa)", "public key (ec)", "certificate"
  std::vector<AttrMap> objects;  // private key first, then its public key; or one object
  Bytes default_id;              // SHA-1 of the SubjectPublicKeyInfo: key and certificate match
};

// CKR_ARGUMENTS_BAD with a clear reason for unreadable files, unknown formats,
// encrypted keys and unsupported key types or curves.
Result<ImportedObjects> read_import_file(const std::string& path);
// The same from the file's bytes; `name` is used in messages.
Result<ImportedObjects> decode_import(ByteView data, const std::string& name);

}  // namespace ferrohsm::cli
