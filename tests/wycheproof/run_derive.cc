// Files that need C_DeriveKey, C_GenerateKey (PBKDF2) or C_WrapKey / C_UnwrapKey:
// ECDH (uncompressed-point peers), X25519 / X448, HKDF, PBKDF2, AES-KW and AES-KWP.
// The derived secret is read back as the CKA_VALUE of a non-sensitive,
// extractable generic secret key.
#include "harness.h"

namespace wycheproof {
namespace {

const CK_KEY_TYPE kGeneric = CKK_GENERIC_SECRET;

// Template of a derived / unwrapped / generated key (`len` 0: no CKA_VALUE_LEN).
struct OutTemplate {
  CK_ULONG len = 0;
  std::vector<CK_ATTRIBUTE> attrs;
  explicit OutTemplate(CK_ULONG value_len) : len(value_len) {
    attrs = {attr(CKA_CLASS, &kSecretClass, sizeof kSecretClass), attr(CKA_KEY_TYPE, &kGeneric, sizeof kGeneric),
             attr(CKA_TOKEN, &kFalse, 1), attr(CKA_SENSITIVE, &kFalse, 1), attr(CKA_EXTRACTABLE, &kTrue, 1)};
    if (len != 0) attrs.push_back(attr(CKA_VALUE_LEN, &len, sizeof len));
  }
  CK_ATTRIBUTE* data() { return attrs.data(); }
  CK_ULONG size() const { return static_cast<CK_ULONG>(attrs.size()); }
};

// Reads the new key's value, compares it with `want` and destroys the key.
Outcome check_value(const Session& s, CK_OBJECT_HANDLE k, const Bytes& want, const char* where) {
  Bytes got;
  CK_RV rv = s.value(k, got);
  s.destroy(k);
  if (rv != CKR_OK) return {rv, false, "C_GetAttributeValue"};
  return {CKR_OK, got != want, where};
}

Outcome derive(const Session& s, CK_MECHANISM& m, CK_OBJECT_HANDLE base, CK_ULONG len, const Bytes& want) {
  OutTemplate tmpl(len);
  CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
  CK_RV rv = s.f->C_DeriveKey(s.h, &m, base, tmpl.data(), tmpl.size(), &k);
  if (rv != CKR_OK) return {rv, false, "C_DeriveKey"};
  return check_value(s, k, want, "C_DeriveKey");
}

CK_RV import_private(const Session& s, CK_KEY_TYPE kt, const std::string& curve, const Bytes& value, CK_OBJECT_HANDLE& out) {
  Bytes params = curve_oid(curve);
  std::vector<CK_ATTRIBUTE> t = {attr(CKA_CLASS, &kPrivateClass, sizeof kPrivateClass), attr(CKA_KEY_TYPE, &kt, sizeof kt),
                                 attr(CKA_EC_PARAMS, params), attr(CKA_VALUE, value), attr(CKA_DERIVE, &kTrue, 1)};
  return s.create(std::move(t), out);
}

Tally run_agreement(const Session& s, const Json& file, const std::vector<const Limit*>& limits, CK_KEY_TYPE kt) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    for (const Json& t : g.at("tests")) {
      CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
      CK_RV rv = import_private(s, kt, g.at("curve"), hex_field(t, "private"), key);
      Outcome o{rv, false, "C_CreateObject"};
      if (rv == CKR_OK) {
        Bytes pub = hex_field(t, "public");
        CK_ECDH1_DERIVE_PARAMS p{CKD_NULL, 0, nullptr, static_cast<CK_ULONG>(pub.size()), pub.empty() ? nullptr : pub.data()};
        CK_MECHANISM m{CKM_ECDH1_DERIVE, &p, sizeof p};
        o = derive(s, m, key, 0, hex_field(t, "shared"));
      }
      s.destroy(key);
      record(tally, g, t, o, limits);
    }
  }
  return tally;
}

// A count that Wycheproof writes as a number or a decimal string.
CK_ULONG as_ulong(const Json& v) { return v.is_string() ? std::stoul(v.get<std::string>()) : v.get<CK_ULONG>(); }

CK_MECHANISM_TYPE hkdf_hash(const std::string& alg) {
  return alg == "HKDF-SHA-1" ? CKM_SHA_1 : alg == "HKDF-SHA-256" ? CKM_SHA256 : alg == "HKDF-SHA-384" ? CKM_SHA384
         : alg == "HKDF-SHA-512" ? CKM_SHA512 : 0;
}

}  // namespace

Tally run_ecdh(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  return run_agreement(s, file, limits, CKK_EC);
}
Tally run_xdh(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  return run_agreement(s, file, limits, CKK_EC_MONTGOMERY);
}

Tally run_hkdf(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  const CK_MECHANISM_TYPE hash = hkdf_hash(file.at("algorithm"));
  for (const Json& g : file.at("testGroups")) {
    for (const Json& t : g.at("tests")) {
      CK_OBJECT_HANDLE ikm = CK_INVALID_HANDLE;
      CK_RV rv = import_secret(s, CKK_GENERIC_SECRET, hex_field(t, "ikm"), ikm);
      Outcome o{rv, false, "C_CreateObject"};
      if (rv == CKR_OK) {
        Bytes salt = hex_field(t, "salt"), info = hex_field(t, "info");
        CK_HKDF_PARAMS p{CK_TRUE, CK_TRUE, hash, salt.empty() ? CKF_HKDF_SALT_NULL : CKF_HKDF_SALT_DATA,
                         salt.empty() ? nullptr : salt.data(), salt.size(), CK_INVALID_HANDLE,
                         info.empty() ? nullptr : info.data(), info.size()};
        CK_MECHANISM m{CKM_HKDF_DERIVE, &p, sizeof p};
        o = derive(s, m, ikm, t.at("size").get<CK_ULONG>(), hex_field(t, "okm"));
      }
      s.destroy(ikm);
      record(tally, g, t, o, limits);
    }
  }
  return tally;
}

Tally run_pbkdf2(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE prf =
      file.at("algorithm") == "PBKDF2-HMACSHA256" ? CKP_PKCS5_PBKD2_HMAC_SHA256
      : file.at("algorithm") == "PBKDF2-HMACSHA1" ? CKP_PKCS5_PBKD2_HMAC_SHA1 : CKP_PKCS5_PBKD2_HMAC_SHA512;
  for (const Json& g : file.at("testGroups")) {
    for (const Json& t : g.at("tests")) {
      Bytes password = hex_field(t, "password"), salt = hex_field(t, "salt");
      CK_PKCS5_PBKD2_PARAMS2 p{CKZ_SALT_SPECIFIED, salt.empty() ? nullptr : salt.data(), salt.size(),
                               as_ulong(t.at("iterationCount")), prf, nullptr, 0,
                               password.empty() ? nullptr : password.data(), password.size()};
      CK_MECHANISM m{CKM_PKCS5_PBKD2, &p, sizeof p};
      OutTemplate tmpl(as_ulong(t.at("dkLen")));
      CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
      CK_RV rv = s.f->C_GenerateKey(s.h, &m, tmpl.data(), tmpl.size(), &k);
      Outcome o = rv != CKR_OK ? Outcome{rv, false, "C_GenerateKey"} : check_value(s, k, hex_field(t, "dk"), "C_GenerateKey");
      record(tally, g, t, o, limits);
    }
  }
  return tally;
}

Tally run_key_wrap(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  const CK_MECHANISM_TYPE mech = file.at("algorithm") == "AES-KWP" ? CKM_AES_KEY_WRAP_KWP : CKM_AES_KEY_WRAP;
  for (const Json& g : file.at("testGroups")) {
    for (const Json& t : g.at("tests")) {
      CK_OBJECT_HANDLE kek = CK_INVALID_HANDLE, inner = CK_INVALID_HANDLE;
      const Bytes msg = hex_field(t, "msg"), ct = hex_field(t, "ct");
      CK_RV rv = import_secret(s, CKK_AES, hex_field(t, "key"), kek);
      Outcome o{rv, false, "C_CreateObject"};
      CK_MECHANISM m{mech, nullptr, 0};
      if (rv == CKR_OK && t.at("result") == "valid") {  // wrap: the message as a key's value
        if ((rv = import_secret(s, CKK_GENERIC_SECRET, msg, inner)) != CKR_OK) {
          o = {rv, false, "C_CreateObject (key to wrap)"};
        } else {
          Bytes out(msg.size() + 16);
          CK_ULONG n = out.size();
          rv = s.f->C_WrapKey(s.h, &m, kek, inner, out.data(), &n);
          out.resize(rv == CKR_OK ? n : 0);
          o = {rv, rv == CKR_OK && out != ct, "C_WrapKey"};
        }
      }
      if (rv == CKR_OK && !o.mismatch) {  // unwrap
        OutTemplate tmpl(0);
        Bytes wrapped = ct;
        CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
        rv = s.f->C_UnwrapKey(s.h, &m, kek, wrapped.data(), wrapped.size(), tmpl.data(), tmpl.size(), &k);
        o = rv != CKR_OK ? Outcome{rv, false, "C_UnwrapKey"} : check_value(s, k, msg, "C_UnwrapKey");
      }
      s.destroy(inner);
      s.destroy(kek);
      record(tally, g, t, o, limits);
    }
  }
  return tally;
}

}  // namespace wycheproof
