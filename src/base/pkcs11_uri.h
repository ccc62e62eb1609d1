// PKCS#11 URIs (RFC 7512): parsing the path attributes FerroHSM selects by (token,
// manufacturer, model, serial, object, id, type, slot-id; the library and slot
// descriptions are accepted and noted), formatting an object's URI (the CLI's
// `key list`), and the token selector a URI, a label or a serial number makes (a
// [[bridge]] picks its token with one).
#pragma once

#include "base/bytes.h"
#include "base/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferrohsm {

struct Pkcs11Uri {
  std::optional<std::string> token;  // CK_TOKEN_INFO label
  std::optional<std::string> manufacturer;
  std::optional<std::string> model;
  std::optional<std::string> serial;  // token serial number
  std::optional<std::string> object;  // CKA_LABEL
  std::optional<Bytes> id;            // CKA_ID
  std::optional<CK_OBJECT_CLASS> type;
  std::optional<CK_SLOT_ID> slot_id;
  // The names of the other attributes it holds — slot-description, library-version …,
  // and query attributes (module-name …) — which select nothing here.
  std::vector<std::string> other;
};

// CKR_ARGUMENTS_BAD with a message naming the problem: wrong scheme, bad
// percent-encoding, an unknown or repeated attribute, a bad type or slot-id, or a
// PIN in the URI (pin-value and pin-source are refused: PINs never travel in a URI).
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

// Which token: every field that is set must equal the token's (CK_TOKEN_INFO's
// blank-padded fields compared without their padding).
struct TokenSelector {
  std::optional<std::string> label, serial, manufacturer, model;

  bool empty() const { return !label && !serial && !manufacturer && !model; }
  bool matches(const CK_TOKEN_INFO& info) const;
  // "token \"x\"", "serial \"1234\"", … for messages.
  std::string describe() const;
};

// The selector of a URI that names token attributes only (token, manufacturer, model,
// serial), at least one of them, each no longer than its CK_TOKEN_INFO field. Anything
// else — an object, slot or library attribute, a query — is CKR_ARGUMENTS_BAD naming it.
Result<TokenSelector> token_selector_from_uri(std::string_view uri);
// CKR_ARGUMENTS_BAD when `value` is empty or longer than the CK_TOKEN_INFO field of
// `what` ("token" 32 bytes, "manufacturer" 32, "model" 16, "serial" 16).
Status check_token_field(std::string_view what, std::string_view value);

}  // namespace ferrohsm
