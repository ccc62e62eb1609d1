// Hex / DER helpers and the case bookkeeping of harness.h.
#include "harness.h"

#include "base/bytes.h"

#include <cstdio>
#include <map>
#include <stdexcept>

namespace wycheproof {

const CK_BBOOL kTrue = CK_TRUE;
const CK_BBOOL kFalse = CK_FALSE;
const CK_OBJECT_CLASS kSecretClass = CKO_SECRET_KEY;
const CK_OBJECT_CLASS kPublicClass = CKO_PUBLIC_KEY;
const CK_OBJECT_CLASS kPrivateClass = CKO_PRIVATE_KEY;

Bytes hex(const std::string& h) {
  Bytes out;
  if (!ferrohsm::from_hex(h, out)) throw std::invalid_argument("not hex: " + h);
  return out;
}

Bytes hex_field(const Json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? Bytes{} : hex(it->get<std::string>());
}

Bytes der_octet(const Bytes& raw) {
  Bytes out{0x04};
  if (raw.size() < 0x80) {
    out.push_back(static_cast<uint8_t>(raw.size()));
  } else if (raw.size() < 0x100) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(raw.size()));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(raw.size() >> 8));
    out.push_back(static_cast<uint8_t>(raw.size()));
  }
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

Bytes curve_oid(const std::string& name) {
  static const std::map<std::string, std::string> kOids = {
      {"secp256r1", "06082a8648ce3d030107"},       {"secp384r1", "06052b81040022"},
      {"secp521r1", "06052b81040023"},             {"secp256k1", "06052b8104000a"},
      {"brainpoolP256r1", "06092b2403030208010107"}, {"brainpoolP384r1", "06092b240303020801010b"},
      {"brainpoolP512r1", "06092b240303020801010d"}, {"edwards25519", "06032b6570"},
      {"edwards448", "06032b6571"},                {"curve25519", "06032b656e"},
      {"curve448", "06032b656f"},
  };
  auto it = kOids.find(name);
  return it == kOids.end() ? Bytes{} : hex(it->second);
}

std::string rv_name(CK_RV rv) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
  return buf;
}

void record(Tally& tally, const Json& group, const Json& test, const Outcome& o, const std::vector<const Limit*>& limits) {
  const std::string result = test.at("result").get<std::string>();
  const bool ok = o.rv == CKR_OK && !o.mismatch;
  const std::string id = "tcId " + std::to_string(test.at("tcId").get<int>());
  if (result == "acceptable" || (result == "valid" && ok) || (result == "invalid" && !ok)) {
    ++tally.passed;
    return;
  }
  if (result == "valid" && o.rv == CKR_MECHANISM_PARAM_INVALID) {
    for (const Limit* l : limits) {
      if (l->applies(group, test)) {
        ++tally.limited;
        return;
      }
    }
  }
  std::string why = result == "invalid" ? "invalid case accepted"
                    : o.mismatch       ? "wrong output"
                                       : o.where + " returned " + rv_name(o.rv);
  tally.failures.push_back(id + ": " + why);
}

CK_RV Session::create(std::vector<CK_ATTRIBUTE> tmpl, CK_OBJECT_HANDLE& out) const {
  CK_BBOOL no = CK_FALSE;
  tmpl.push_back(attr(CKA_TOKEN, &no, sizeof no));
  return f->C_CreateObject(h, tmpl.data(), static_cast<CK_ULONG>(tmpl.size()), &out);
}

void Session::destroy(CK_OBJECT_HANDLE o) const {
  if (o != CK_INVALID_HANDLE) f->C_DestroyObject(h, o);
}

CK_RV Session::value(CK_OBJECT_HANDLE o, Bytes& out) const {
  CK_ATTRIBUTE a{CKA_VALUE, nullptr, 0};
  CK_RV rv = f->C_GetAttributeValue(h, o, &a, 1);
  if (rv != CKR_OK) return rv;
  out.assign(a.ulValueLen, 0);
  a.pValue = out.data();
  return f->C_GetAttributeValue(h, o, &a, 1);
}

CK_RV import_secret(const Session& s, CK_KEY_TYPE kt, const Bytes& value, CK_OBJECT_HANDLE& out) {
  std::vector<CK_ATTRIBUTE> t = {
      attr(CKA_CLASS, &kSecretClass, sizeof kSecretClass), attr(CKA_KEY_TYPE, &kt, sizeof kt),
      attr(CKA_VALUE, value),
      attr(CKA_SIGN, &kTrue, 1), attr(CKA_VERIFY, &kTrue, 1), attr(CKA_ENCRYPT, &kTrue, 1),
      attr(CKA_DECRYPT, &kTrue, 1), attr(CKA_WRAP, &kTrue, 1), attr(CKA_UNWRAP, &kTrue, 1),
      attr(CKA_DERIVE, &kTrue, 1), attr(CKA_EXTRACTABLE, &kTrue, 1), attr(CKA_SENSITIVE, &kFalse, 1),
  };
  return s.create(std::move(t), out);
}

}  // namespace wycheproof
