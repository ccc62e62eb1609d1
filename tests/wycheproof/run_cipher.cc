// Cipher files: AES-CBC with PKCS #7 padding, the AEADs (AES-GCM, AES-CCM,
// ChaCha20-Poly1305; ciphertext || tag), and RSA decryption (OAEP, PKCS #1 v1.5).
// A valid case must encrypt to the expected ciphertext (symmetric) and decrypt back;
// an invalid case must fail to decrypt.
#include "harness.h"

#include <functional>

namespace wycheproof {
namespace {

// One-shot C_EncryptInit/C_Encrypt or C_DecryptInit/C_Decrypt with a length query.
Outcome crypt(const Session& s, bool enc, CK_MECHANISM& m, CK_OBJECT_HANDLE key, const Bytes& in, const Bytes& want) {
  CK_RV rv = enc ? s.f->C_EncryptInit(s.h, &m, key) : s.f->C_DecryptInit(s.h, &m, key);
  if (rv != CKR_OK) return {rv, false, enc ? "C_EncryptInit" : "C_DecryptInit"};
  Bytes data = in;
  CK_ULONG n = 0;
  auto call = [&](CK_BYTE_PTR out) {
    return enc ? s.f->C_Encrypt(s.h, data.data(), data.size(), out, &n) : s.f->C_Decrypt(s.h, data.data(), data.size(), out, &n);
  };
  if ((rv = call(nullptr)) != CKR_OK) return {rv, false, enc ? "C_Encrypt" : "C_Decrypt"};
  Bytes out(n + 1);
  rv = call(out.data());
  if (rv != CKR_OK) return {rv, false, enc ? "C_Encrypt" : "C_Decrypt"};
  out.resize(n);
  return {CKR_OK, out != want, enc ? "C_Encrypt" : "C_Decrypt"};
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A symmetric case: valid ones encrypt then decrypt; others only decrypt.
Outcome sym_case(const Session& s, CK_KEY_TYPE kt, const Json& t, const std::function<CK_MECHANISM()>& mech,
                 const Bytes& ct) {
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_RV rv = import_secret(s, kt, hex_field(t, "key"), key);
  if (rv != CKR_OK) return {rv, false, "C_CreateObject"};
  const Bytes msg = hex_field(t, "msg");
  Outcome o;
  CK_MECHANISM m = mech();
  if (t.at("result") == "valid") o = crypt(s, true, m, key, msg, ct);
  if (o.rv == CKR_OK && !o.mismatch) {
    m = mech();
    o = crypt(s, false, m, key, ct, msg);
  }
  s.destroy(key);
  return o;
}

}  // namespace

Tally run_aes_cbc_pad(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    for (const Json& t : g.at("tests")) {
      Bytes iv = hex_field(t, "iv");
      auto mech = [&] { return CK_MECHANISM{CKM_AES_CBC_PAD, iv.data(), static_cast<CK_ULONG>(iv.size())}; };
      record(tally, g, t, sym_case(s, CKK_AES, t, mech, hex_field(t, "ct")), limits);
    }
  }
  return tally;
}

Tally run_aead(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  Tally tally;
  const std::string alg = file.at("algorithm");
  for (const Json& g : file.at("testGroups")) {
    const CK_ULONG tag_bits = g.at("tagSize").get<CK_ULONG>();
    for (const Json& t : g.at("tests")) {
      Bytes iv = hex_field(t, "iv"), aad = hex_field(t, "aad"), msg = hex_field(t, "msg");
      CK_GCM_PARAMS gcm{iv.data(), iv.size(), iv.size() * 8, aad.data(), aad.size(), tag_bits};
      CK_CCM_PARAMS ccm{msg.size(), iv.data(), iv.size(), aad.data(), aad.size(), tag_bits / 8};
      CK_SALSA20_CHACHA20_POLY1305_PARAMS chacha{iv.data(), iv.size(), aad.data(), aad.size()};
      CK_KEY_TYPE kt = CKK_AES;
      std::function<CK_MECHANISM()> mech;
      if (alg == "AES-GCM") {
        mech = [&] { return CK_MECHANISM{CKM_AES_GCM, &gcm, sizeof gcm}; };
      } else if (alg == "AES-CCM") {
        mech = [&] { return CK_MECHANISM{CKM_AES_CCM, &ccm, sizeof ccm}; };
      } else {
        kt = CKK_CHACHA20;
        mech = [&] { return CK_MECHANISM{CKM_CHACHA20_POLY1305, &chacha, sizeof chacha}; };
      }
      record(tally, g, t, sym_case(s, kt, t, mech, concat(hex_field(t, "ct"), hex_field(t, "tag"))), limits);
    }
  }
  return tally;
}

namespace {

CK_RV import_rsa_private(const Session& s, const Json& k, CK_OBJECT_HANDLE& out) {
  CK_KEY_TYPE kt = CKK_RSA;
  Bytes n = hex_field(k, "modulus"), e = hex_field(k, "publicExponent"), d = hex_field(k, "privateExponent"),
        p = hex_field(k, "prime1"), q = hex_field(k, "prime2"), dp = hex_field(k, "exponent1"),
        dq = hex_field(k, "exponent2"), qi = hex_field(k, "coefficient");
  std::vector<CK_ATTRIBUTE> t = {attr(CKA_CLASS, &kPrivateClass, sizeof kPrivateClass), attr(CKA_KEY_TYPE, &kt, sizeof kt),
                                 attr(CKA_MODULUS, n), attr(CKA_PUBLIC_EXPONENT, e), attr(CKA_PRIVATE_EXPONENT, d),
                                 attr(CKA_PRIME_1, p), attr(CKA_PRIME_2, q), attr(CKA_EXPONENT_1, dp),
                                 attr(CKA_EXPONENT_2, dq), attr(CKA_COEFFICIENT, qi), attr(CKA_DECRYPT, &kTrue, 1)};
  return s.create(std::move(t), out);
}

CK_MECHANISM_TYPE hash_mech(const std::string& sha) {
  return sha == "SHA-1" ? CKM_SHA_1 : sha == "SHA-224" ? CKM_SHA224 : sha == "SHA-256" ? CKM_SHA256
         : sha == "SHA-384" ? CKM_SHA384 : sha == "SHA-512" ? CKM_SHA512 : 0;
}

CK_RSA_PKCS_MGF_TYPE mgf(const std::string& sha) {
  return sha == "SHA-1" ? CKG_MGF1_SHA1 : sha == "SHA-224" ? CKG_MGF1_SHA224 : sha == "SHA-256" ? CKG_MGF1_SHA256
         : sha == "SHA-384" ? CKG_MGF1_SHA384 : sha == "SHA-512" ? CKG_MGF1_SHA512 : 0;
}

Tally run_rsa_dec(const Session& s, const Json& file, const std::vector<const Limit*>& limits, bool oaep) {
  Tally tally;
  for (const Json& g : file.at("testGroups")) {
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = import_rsa_private(s, g.at("privateKey"), key);
    for (const Json& t : g.at("tests")) {
      Bytes label = hex_field(t, "label");
      CK_RSA_PKCS_OAEP_PARAMS p{};
      CK_MECHANISM m{CKM_RSA_PKCS, nullptr, 0};
      if (oaep) {
        p = {hash_mech(g.at("sha")), mgf(g.at("mgfSha")), CKZ_DATA_SPECIFIED, label.empty() ? nullptr : label.data(),
             label.size()};
        m = {CKM_RSA_PKCS_OAEP, &p, sizeof p};
      }
      Outcome o = rv != CKR_OK ? Outcome{rv, false, "C_CreateObject"}
                               : crypt(s, false, m, key, hex_field(t, "ct"), hex_field(t, "msg"));
      record(tally, g, t, o, limits);
    }
    s.destroy(key);
  }
  return tally;
}

}  // namespace

Tally run_rsa_oaep(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  return run_rsa_dec(s, file, limits, true);
}
Tally run_rsa_pkcs1_dec(const Session& s, const Json& file, const std::vector<const Limit*>& limits) {
  return run_rsa_dec(s, file, limits, false);
}

}  // namespace wycheproof
