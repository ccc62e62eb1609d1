#include "roundtrip/ossl.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <memory>

namespace ferrohsm::abi::roundtrip {
namespace {

struct Free {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_CIPHER* p) const { EVP_CIPHER_free(p); }
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <typename T>
using Own = std::unique_ptr<T, Free>;

Pkey FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  Own<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Own<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return Pkey(key);
}

}  // namespace

std::string Aes(size_t key_bytes, const char* mode) { return "AES-" + std::to_string(key_bytes * 8) + "-" + mode; }

Pkey PublicOf(Ctx& c, CK_OBJECT_HANDLE pub) {
  auto type = GetUlong(c.f, c.s, pub, CKA_KEY_TYPE);
  if (!type) {
    ADD_FAILURE() << "no CKA_KEY_TYPE on the public key";
    return nullptr;
  }
  if (*type == CKK_RSA) {
    auto n = GetBytes(c.f, c.s, pub, CKA_MODULUS);
    auto e = GetBytes(c.f, c.s, pub, CKA_PUBLIC_EXPONENT);
    if (!n || !e) return nullptr;
    Own<BIGNUM> bn(BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr));
    Own<BIGNUM> be(BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr));
    Own<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get());
    return FromParams("RSA", bld.get());
  }
  auto params = GetBytes(c.f, c.s, pub, CKA_EC_PARAMS);
  auto point = GetBytes(c.f, c.s, pub, CKA_EC_POINT);
  if (!params || !point) {
    ADD_FAILURE() << "no CKA_EC_PARAMS / CKA_EC_POINT on the public key";
    return nullptr;
  }
  const CurveInfo* curve = nullptr;
  for (const char* name : {"P-256", "P-384", "P-521", "secp256k1", "brainpoolP256r1", "brainpoolP384r1",
                           "brainpoolP512r1", "Ed25519", "Ed448", "X25519", "X448"}) {
    if (FindCurve(name)->params == *params) curve = FindCurve(name);
  }
  if (curve == nullptr) {
    ADD_FAILURE() << "unknown CKA_EC_PARAMS " << HexOf(*params);
    return nullptr;
  }
  Bytes raw = UnwrapOctetString(*point);
  if (curve->family != CurveFamily::kWeierstrass) {
    Pkey k(EVP_PKEY_new_raw_public_key_ex(nullptr, curve->ossl_name, nullptr, raw.data(), raw.size()));
    if (!k) ADD_FAILURE() << "OpenSSL refuses the " << curve->name << " public value";
    return k;
  }
  Own<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->ossl_name, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, raw.data(), raw.size());
  Pkey k = FromParams("EC", bld.get());
  if (!k) ADD_FAILURE() << "OpenSSL refuses the " << curve->name << " point";
  return k;
}

Pkey OsslKey(const CurveInfo& curve) {
  if (curve.family == CurveFamily::kWeierstrass)
    return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve.ossl_name));
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, curve.ossl_name));
}

Bytes RawPublic(EVP_PKEY* key) {
  Bytes out(200);
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out.data(), out.size(), &len) != 1) return {};
  out.resize(len);
  return out;
}

Bytes OsslDerive(EVP_PKEY* priv, EVP_PKEY* peer) {
  Own<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    return {};
  Bytes out(len);
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) return {};
  out.resize(len);
  return out;
}

bool VerifyPkcs1(EVP_PKEY* key, const char* md, const Bytes& data, const Bytes& sig) {
  Own<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, key, nullptr) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

bool VerifyPss(EVP_PKEY* key, const char* md, const char* mgf_md, int salt_len, bool prehashed, const Bytes& data,
               const Bytes& sig) {
  if (prehashed) {
    Own<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    EVP_MD* m = EVP_MD_fetch(nullptr, md, nullptr);
    EVP_MD* mg = EVP_MD_fetch(nullptr, mgf_md, nullptr);
    bool ok = ctx && m && mg && EVP_PKEY_verify_init(ctx.get()) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx.get(), m) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), mg) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), salt_len) == 1 &&
              EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
    EVP_MD_free(m);
    EVP_MD_free(mg);
    return ok;
  }
  Own<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  return EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, key, nullptr) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf_md, nullptr) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

bool VerifyEcdsa(EVP_PKEY* key, const Bytes& digest, const Bytes& raw_sig) {
  if (raw_sig.empty() || raw_sig.size() % 2 != 0) return false;
  const int half = static_cast<int>(raw_sig.size() / 2);
  ECDSA_SIG* es = ECDSA_SIG_new();
  ECDSA_SIG_set0(es, BN_bin2bn(raw_sig.data(), half, nullptr), BN_bin2bn(raw_sig.data() + half, half, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  Own<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  bool ok = der_len > 0 && ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
            EVP_PKEY_verify(ctx.get(), der, static_cast<size_t>(der_len), digest.data(), digest.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

bool VerifyEddsa(EVP_PKEY* key, const Bytes& data, const Bytes& sig) {
  Own<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key, nullptr) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

Bytes RsaVerifyRecover(EVP_PKEY* key, int padding, const Bytes& sig) {
  Own<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  Bytes out(static_cast<size_t>(EVP_PKEY_get_size(key)));
  size_t len = out.size();
  if (!ctx || EVP_PKEY_verify_recover_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) != 1 ||
      EVP_PKEY_verify_recover(ctx.get(), out.data(), &len, sig.data(), sig.size()) != 1)
    return {};
  out.resize(len);
  return out;
}

Bytes RsaEncrypt(EVP_PKEY* key, int padding, const Bytes& data, const char* oaep_md, const char* mgf_md,
                 const Bytes& label) {
  Own<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) != 1)
    return {};
  if (oaep_md != nullptr && (EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), oaep_md, nullptr) != 1 ||
                             EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), mgf_md, nullptr) != 1))
    return {};
  if (!label.empty()) {
    void* copy = OPENSSL_memdup(label.data(), label.size());  // the context takes ownership
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size())) != 1) {
      OPENSSL_free(copy);
      return {};
    }
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, data.data(), data.size()) != 1) return {};
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, data.data(), data.size()) != 1) return {};
  out.resize(len);
  return out;
}

Bytes Cipher(OSSL_LIB_CTX* libctx, const std::string& name, bool encrypt, const Bytes& key, const Bytes& iv,
             const Bytes& data, bool pad, const char* cts_mode) {
  Own<EVP_CIPHER> cipher(EVP_CIPHER_fetch(libctx, name.c_str(), nullptr));
  Own<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  OSSL_PARAM params[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
  if (cts_mode != nullptr)
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_CIPHER_PARAM_CTS_MODE, const_cast<char*>(cts_mode), 0);
  Bytes out(data.size() + 64);
  int n1 = 0, n2 = 0;
  bool ok = cipher && ctx &&
            EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), iv.empty() ? nullptr : iv.data(), encrypt ? 1 : 0,
                               params) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx.get(), pad ? 1 : 0) == 1 &&
            EVP_CipherUpdate(ctx.get(), out.data(), &n1, data.data(), static_cast<int>(data.size())) == 1 &&
            EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2) == 1;
  if (!ok) return {};
  out.resize(static_cast<size_t>(n1 + n2));
  return out;
}

Bytes AeadEncrypt(const std::string& name, const Bytes& key, const Bytes& nonce, const Bytes& aad, const Bytes& data,
                  size_t tag_len) {
  const bool ccm = name.find("CCM") != std::string::npos;
  Own<EVP_CIPHER> cipher(EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr));
  Own<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  Bytes out(data.size() + tag_len);
  int n = 0, tmp = 0;
  const int tl = static_cast<int>(tag_len);
  bool ok = cipher && ctx && EVP_EncryptInit_ex2(ctx.get(), cipher.get(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) == 1 &&
            (!ccm || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, tl, nullptr) == 1) &&
            EVP_EncryptInit_ex2(ctx.get(), nullptr, key.data(), nonce.data(), nullptr) == 1 &&
            (!ccm || EVP_EncryptUpdate(ctx.get(), nullptr, &tmp, nullptr, static_cast<int>(data.size())) == 1) &&
            (aad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &tmp, aad.data(), static_cast<int>(aad.size())) == 1) &&
            EVP_EncryptUpdate(ctx.get(), out.data(), &n, data.data(), static_cast<int>(data.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &tmp) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, tl, out.data() + data.size()) == 1;
  if (!ok) return {};
  return out;
}

Bytes KeyWrap(const std::string& name, const Bytes& kek, const Bytes& data) {
  Own<EVP_CIPHER> cipher(EVP_CIPHER_fetch(nullptr, name.c_str(), nullptr));
  Own<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (!cipher || !ctx) return {};
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes out(data.size() + 16);
  int n = 0, tmp = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), cipher.get(), kek.data(), nullptr, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &n, data.data(), static_cast<int>(data.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &tmp) != 1)
    return {};
  out.resize(static_cast<size_t>(n + tmp));
  return out;
}

Bytes Cmac(const Bytes& key, const Bytes& data) {
  Own<EVP_MAC> mac(EVP_MAC_fetch(nullptr, "CMAC", nullptr));
  Own<EVP_MAC_CTX> ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  std::string cipher = Aes(key.size(), "CBC");
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher.data(), 0),
                         OSSL_PARAM_construct_end()};
  Bytes out(16);
  size_t len = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1)
    return {};
  out.resize(len);
  return out;
}

Bytes Kdf(const char* name, std::vector<OSSL_PARAM> params, size_t out_len) {
  params.push_back(OSSL_PARAM_construct_end());
  Own<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  Own<EVP_KDF_CTX> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  Bytes out(out_len);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params.data()) != 1) return {};
  return out;
}

OSSL_LIB_CTX* LegacyContext() {
  static OSSL_LIB_CTX* const ctx = [] {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c != nullptr && OSSL_PROVIDER_load(c, "legacy") != nullptr && OSSL_PROVIDER_load(c, "default") != nullptr)
      return c;
    return static_cast<OSSL_LIB_CTX*>(nullptr);  // (a failed context is left to the process exit)
  }();
  return ctx;
}

}  // namespace ferrohsm::abi::roundtrip
