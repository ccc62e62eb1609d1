// Signature verification files: ECDSA (P1363 r || s), EdDSA, RSA PKCS #1 v1.5 and
// RSA-PSS. Each group's public key is imported with C_CreateObject; every case runs
// C_VerifyInit + C_Verify.
#include "harness.h"

namespace wycheproof {
namespace {

Outcome verify(const Session& s, CK_MECHANISM& m, CK_OBJECT_HANDLE key, const Bytes& msg, const Bytes& sig) {
  CK_RV rv = s.f->C_VerifyInit(s.h, &m, key);
  if (rv != CKR_OK) return {rv, false, "C_VerifyInit"};
  Bytes data = msg, sg = sig;  // non-const buffers for the C API
  rv = s.f->C_Verify(s.h, data.data(), data.size(), sg.data(), sg.size());
  return {rv, false, "C_Verify"};
}

CK_MECHANISM_TYPE hash_of(const std::string& sha) {
  if (sha == "SHA-1") return CKM_SHA_1;
  if (sha == "SHA-224") return CKM_SHA224;
  if (sha == "SHA-256") return CKM_SHA256;
  if (sha == "SHA-384") return CKM_SHA384;
  if (sha == "SHA-512") return CKM_SHA512;
  if (sha == "SHA3-256") return CKM_SHA3_256;
  return 0;
}

CK_RSA_PKCS_MGF_TYPE mgf_of(const std::string& sha) {
  if (sha == "SHA-1") return CKG_MGF1_SHA1;
  if (sha == "SHA-224") return CKG_MGF1_SHA224;
  if (sha == "SHA-256") return CKG_MGF1_SHA256;
  if (sha == "SHA-384") return CKG_MGF1_SHA384;
  if (sha == "SHA-512") return CKG_MGF1_SHA512;
  return 0;
}

CK_MECHANISM_TYPE ecdsa_mech(const std::string& sha) {
  switch (hash_of(sha)) {
    case CKM_SHA_1: return CKM_ECDSA_SHA1;
    case CKM_SHA224: return CKM_ECDSA_SHA224;
    case CKM_SHA256: return CKM_ECDSA_SHA256;
    case CKM_SHA384: return CKM_ECDSA_SHA384;
    case CKM_SHA512: return CKM_ECDSA_SHA512;
    default: return 0;
  }
}

CK_MECHANISM_TYPE rsa_mech(const std::string& sha, bool pss) {
  switch (hash_of(sha)) {
    case CKM_SHA_1: return pss ? CKM_SHA1_RSA_PKCS_PSS : CKM_SHA1_RSA_PKCS;
    case CKM_SHA224: return pss ? CKM_SHA224_RSA_PKCS_PSS : CKM_SHA224_RSA_PKCS;
    case CKM_SHA256: return pss ? CKM_SHA256_RSA_PKCS_PSS : CKM_SHA256_RSA_PKCS;
    case CKM_SHA384: return pss ? CKM_SHA384_RSA_PKCS_PSS : CKM_SHA384_RSA_PKCS;
    case CKM_SHA512: return pss ? CKM_SHA512_RSA_PKCS_PSS : CKM_SHA512_RSA_PKCS;
    default: return 0;
  }
}

CK_RV import_ec_public(const Session& s, CK_KEY_TYPE kt, const Bytes& params, const Bytes& point, CK_OBJECT_HANDLE& out) {
  Bytes wrapped = der_octet(point);
  std::vector<CK_ATTRIBUTE> t = {attr(CKA_CLASS, &kPublicClass, sizeof kPublicClass), attr(CKA_KEY_TYPE, &kt, sizeof kt),
                                 attr(CKA_EC_PARAMS, params), attr(CKA_EC_POINT, wrapped),
                                 attr(CKA_VERIFY, &kTrue, 1)};
  return s.create(std::move(t), out);
}

CK_RV import_rsa_public(const Session& s, const Json& pub, CK_OBJECT_HANDLE& out) {
  CK_KEY_TYPE kt = CKK_RSA;
  Bytes n = hex_field(pub, "modulus"), e = hex_field(pub, "publicExponent");
  std::vector<CK_ATTRIBUTE> t = {attr(CKA_CLASS, &kPublicClass, sizeof kPublicClass), attr(CKA_KEY_TYPE, &kt, sizeof kt),
                                 attr(CKA_MODULUS, n), attr(CKA_PUBLIC_EXPONENT, e), attr(CKA_VERIFY, &kTrue, 1)};
  return s.create(std::move(t), out);
}

// Runs every test of `group` against `key` (or records the import error for all).
template <typename Fn>
void run_group(Tally& tally, const Json& group, CK_RV import_rv, const std::vector<const Limit*>& limits, Fn fn) {
  for (const Json& t : group.at("tests")) {
    Outcome o = import_rv == CKR_OK ? fn(t) : Outcome{import_rv, false, "C_CreateObject"};
    record(tally, group, t, o, limits);
  }
}

}  // namespace

Tally run_ecdsa_p1363(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    const Json& pub = g.at("publicKey");
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = import_ec_public(s, CKK_EC, curve_oid(pub.at("curve")), hex_field(pub, "uncompressed"), key);
    CK_MECHANISM m{ecdsa_mech(g.at("sha")), nullptr, 0};
    run_group(tally, g, rv, limits, [&](const Json& t) { return verify(s, m, key, hex_field(t, "msg"), hex_field(t, "sig")); });
    s.destroy(key);
  }
  return tally;
}

Tally run_eddsa(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    const Json& pub = g.at("publicKey");
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = import_ec_public(s, CKK_EC_EDWARDS, curve_oid(pub.at("curve")), hex_field(pub, "pk"), key);
    CK_MECHANISM m{CKM_EDDSA, nullptr, 0};
    run_group(tally, g, rv, limits, [&](const Json& t) { return verify(s, m, key, hex_field(t, "msg"), hex_field(t, "sig")); });
    s.destroy(key);
  }
  return tally;
}

Tally run_rsa_pkcs1_sig(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = import_rsa_public(s, g.at("publicKey"), key);
    CK_MECHANISM m{rsa_mech(g.at("sha"), false), nullptr, 0};
    run_group(tally, g, rv, limits, [&](const Json& t) { return verify(s, m, key, hex_field(t, "msg"), hex_field(t, "sig")); });
    s.destroy(key);
  }
  return tally;
}

Tally run_rsa_pss(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = import_rsa_public(s, g.at("publicKey"), key);
    CK_RSA_PKCS_PSS_PARAMS p{hash_of(g.at("sha")), mgf_of(g.at("mgfSha")), g.at("sLen").get<CK_ULONG>()};
    CK_MECHANISM m{rsa_mech(g.at("sha"), true), &p, sizeof p};
    run_group(tally, g, rv, limits, [&](const Json& t) { return verify(s, m, key, hex_field(t, "msg"), hex_field(t, "sig")); });
    s.destroy(key);
  }
  return tally;
}

}  // namespace wycheproof
