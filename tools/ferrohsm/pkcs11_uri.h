// PKCS#11 URIs (RFC 7512): parsing the path attributes the tool selects by
// (token, object, id, type, serial, slot-id, and the descriptive ones it accepts and
// ignores), and formatting an object's URI for `key list`.
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <optional>
#include <string>
#include <string_view>

namespace ferrohsm::cli {

struct Pkcs11Uri {
  std::optional<std::string> token;   // CKA token label
  std::optional<std::string> object;  // CKA_LABEL
  std::optional<Bytes> id;            // CKA_ID
  std::optional<CK_OBJECT_CLASS> type;
  std::optional<std::string> serial;  // token serial number
  std::optional<CK_SLOT_ID> slot_id;
};

// CKR_ARGUMENTS_BAD with a message naming the problem: wrong scheme, bad
// percent-encoding, an unknown or repeated attribute, a bad type or slot-id, or a
// PIN in the URI (pin-value is refused: PINs never travel on the command line).
Result<Pkcs11Uri> parse_pkcs11_uri(std::string_view uri);

// Percent-encodes every byte outside RFC 7512's pk11-pchar (unreserved and
// ":[]@!$'()*+,=").
std::string uri_encode(ByteView value);
// Decodes %XX escapes; false on a malformed escape.
bool uri_decode(std::string_view in, Bytes& out);

// "private", "public", "secret-key", "cert", "data" (RFC 7512's type values).
std::optional<CK_OBJECT_CLASS> class_from_uri_type(std::string_view type);
const char* uri_type_of(CK_OBJECT_CLASS cls);  // nullptr for a class with no URI type

// pkcs11:token=<label>;object=<label>;id=%01%02;type=private (empty parts left out).
std::string format_object_uri(std::string_view token, std::string_view object, ByteView id, CK_OBJECT_CLASS cls);

}  // namespace ferrohsm::cli
