// Seeds for fuzz_mech_params: every kind of operation the harness drives, with the
// parameters the module takes, and — where the operation checks its input — the
// module's own signatures, ciphertexts and wrapped keys under the fixed keys.
#include <functional>
#include <tuple>

#include "common/fixed_keys.h"
#include "common/input.h"
#include "common/mech_params.h"
#include "common/templates.h"
#include "harnesses.h"
#include "seeds/seeds.h"

namespace ferrohsm::fuzz::seeds {
namespace {

// One input of the mechanism harness, written in the order the harness reads it:
// op, mechanism, parameter, key, then what the operation reads.
class MechSeed {
 public:
  MechSeed(Op op, CK_MECHANISM_TYPE mech) : op_(op), mech_(mech) {}
  MechSeed& no_param() { return write_null_param(param_), *this; }
  MechSeed& raw(const Bytes& b) { return write_raw_param(param_, b), *this; }
  MechSeed& param(LayoutId id, const std::vector<SeedField>& f) { return write_struct_param(param_, id, f), *this; }
  MechSeed& key(KeyId k) { return key_ = k, *this; }
  // A per-message parameter (C_EncryptMessage …), read after the key.
  MechSeed& message_param(LayoutId id, const std::vector<SeedField>& f) {
    return write_struct_param(body_, id, f), *this;
  }
  MechSeed& blob(const Bytes& b) { return body_.blob(b), *this; }
  MechSeed& u8(uint8_t v) { return body_.u8(v), *this; }
  MechSeed& tmpl(const std::vector<SeedAttr>& t) { return write_template(body_, t), *this; }
  MechSeed& out() { return body_.u8(0), *this; }  // a length query, then a buffer of that length
  // After a successful *Init: one call with `data` (a verification then reads the signature) …
  MechSeed& single(const Bytes& data) {
    body_.u8(1).blob(data);
    return op_ == kVerify ? *this : out();
  }
  // … or updates, then a final.
  MechSeed& parts(const std::vector<Bytes>& p) {
    body_.u8(0).u8(static_cast<uint8_t>(p.size()));
    for (const Bytes& b : p) {
      if (op_ == kDigest) body_.u8(1);  // an update, not C_DigestKey
      body_.blob(b);
      if (op_ == kEncrypt || op_ == kDecrypt) out();
    }
    return op_ == kVerify ? *this : out();
  }
  void save(const std::string& name) const {
    Writer w;
    w.u8(op_).ulong(mech_).raw(param_.bytes().data(), param_.bytes().size()).u8(key_);
    w.raw(body_.bytes().data(), body_.bytes().size());
    seeds::save("mech_params", name, w.bytes());
  }
  // The mechanism the harness will decode (valid while `arena` lives).
  CK_MECHANISM mechanism(Arena& arena, bool message = false) const {
    Reader r(param_.bytes().data(), param_.bytes().size());
    ParamOutputs unused;
    Param p = read_param(r, arena, unused, mech_, message);
    return CK_MECHANISM{mech_, p.p, p.len};
  }
  KeyId key() const { return key_; }

 private:
  Op op_;
  CK_MECHANISM_TYPE mech_;
  KeyId key_ = kInvalidHandle;
  Writer param_, body_;
};

// Real outputs of the module for the seeds (signatures, ciphertexts, wrapped keys): the
// keys are fixed, so these stay valid in every fuzzing run.
class Produce {
 public:
  explicit Produce(Module& m) : m_(m), f_(m.f) {}

  Bytes sign(const MechSeed& seed, const Bytes& data) {
    return run(seed, [&](auto s, auto& mech) { return f_->C_SignInit(s, &mech, m_.key(seed.key())); },
               [&](auto s, auto o, auto l) { return f_->C_Sign(s, ptr(data), data.size(), o, l); });
  }
  Bytes sign_recover(const MechSeed& seed, const Bytes& data) {
    return run(seed, [&](auto s, auto& mech) { return f_->C_SignRecoverInit(s, &mech, m_.key(seed.key())); },
               [&](auto s, auto o, auto l) { return f_->C_SignRecover(s, ptr(data), data.size(), o, l); });
  }
  Bytes encrypt(const MechSeed& seed, const Bytes& data) {
    return run(seed, [&](auto s, auto& mech) { return f_->C_EncryptInit(s, &mech, m_.key(seed.key())); },
               [&](auto s, auto o, auto l) { return f_->C_Encrypt(s, ptr(data), data.size(), o, l); });
  }
  Bytes wrap(const MechSeed& seed, KeyId target) {
    return run(seed, [](auto, auto&) { return CKR_OK; },
               [&](auto s, auto o, auto l) {
                 Arena a;
                 CK_MECHANISM mech = seed.mechanism(a);
                 return f_->C_WrapKey(s, &mech, m_.key(seed.key()), m_.key(target), o, l);
               });
  }
  // C_EncryptMessage with the seed's per-message parameter `msg` (its tag buffer is
  // filled in); returns the ciphertext.
  Bytes encrypt_message(const MechSeed& seed, const MechSeed& msg, const Bytes& aad, const Bytes& data,
                        Bytes& tag) {
    Arena a;
    CK_MECHANISM p = msg.mechanism(a, true);
    Bytes ct = run(seed, [&](auto s, auto& mech) { return f_->C_MessageEncryptInit(s, &mech, m_.key(seed.key())); },
                   [&](auto s, auto o, auto l) {
                     return f_->C_EncryptMessage(s, p.pParameter, p.ulParameterLen, ptr(aad), aad.size(), ptr(data),
                                                 data.size(), o, l);
                   });
    if (p.ulParameterLen == sizeof(CK_GCM_MESSAGE_PARAMS)) {
      auto* g = static_cast<CK_GCM_MESSAGE_PARAMS*>(p.pParameter);
      tag.assign(g->pTag, g->pTag + g->ulTagBits / 8);
    } else if (p.ulParameterLen == sizeof(CK_CCM_MESSAGE_PARAMS)) {
      auto* c = static_cast<CK_CCM_MESSAGE_PARAMS*>(p.pParameter);
      tag.assign(c->pMAC, c->pMAC + c->ulMACLen);
    } else {
      auto* c = static_cast<CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS*>(p.pParameter);
      tag.assign(c->pTag, c->pTag + 16);
    }
    return ct;
  }

 private:
  static CK_BYTE_PTR ptr(const Bytes& b) { return const_cast<CK_BYTE_PTR>(b.data()); }

  template <typename Init, typename Call>
  Bytes run(const MechSeed& seed, Init init, Call call) {
    Arena a;
    CK_MECHANISM mech = seed.mechanism(a);
    const CK_SESSION_HANDLE s = m_.open_session();
    CK_RV rv = init(s, mech);
    if (rv != CKR_OK) fail("a seed's *Init", rv);
    CK_ULONG len = 0;
    rv = call(s, nullptr, &len);
    Bytes out(len);
    if (rv == CKR_OK) rv = call(s, out.data(), &len);
    if (rv != CKR_OK) fail("a seed's operation", rv);
    out.resize(len);
    m_.end_iteration(s, {});
    return out;
  }

  Module& m_;
  CK_FUNCTION_LIST_3_0* f_;
};

}  // namespace

void mech_seeds(Module& m) {
  Produce produce(m);
  const FixedKeys& fk = fixed_keys();
  const Bytes msg = str("The quick brown fox jumps over the lazy dog");
  const Bytes block = counting(32, 0x61);

  // Signatures and MACs: sign in one part and in parts; verify a real signature.
  struct Signer {
    const char* name;
    CK_MECHANISM_TYPE mech;
    KeyId sign, verify;
    bool multipart;
  };
  for (const Signer& x : {Signer{"rsa-sha256", CKM_SHA256_RSA_PKCS, kRsaPrivate, kRsaPublic, true},
                          Signer{"rsa-pkcs", CKM_RSA_PKCS, kRsaPrivate, kRsaPublic, false},
                          Signer{"ecdsa-sha256", CKM_ECDSA_SHA256, kP256Private, kP256Public, true},
                          Signer{"ecdsa-sha3-256", CKM_ECDSA_SHA3_256, kP256Private, kP256Public, true},
                          Signer{"ecdsa", CKM_ECDSA, kP256Private, kP256Public, false},
                          Signer{"eddsa", CKM_EDDSA, kEd25519Private, kEd25519Public, false},
                          Signer{"hmac-sha256", CKM_SHA256_HMAC, kGenericSecret, kGenericSecret, true},
                          Signer{"hmac-sha3-512", CKM_SHA3_512_HMAC, kGenericSecret, kGenericSecret, true},
                          Signer{"aes-cmac", CKM_AES_CMAC, kAes128, kAes128, true},
                          Signer{"aes-mac", CKM_AES_MAC, kAes256, kAes256, true}}) {
    const Bytes data = x.mech == CKM_RSA_PKCS || x.mech == CKM_ECDSA ? counting(32) : msg;
    MechSeed sign(kSign, x.mech);
    sign.no_param().key(x.sign).single(data).save(std::string("sign-") + x.name);
    if (x.multipart)
      MechSeed(kSign, x.mech).no_param().key(x.sign).parts({msg, block}).save(std::string("sign-") + x.name + "-parts");
    const Bytes sig = produce.sign(sign, data);
    MechSeed(kVerify, x.mech).no_param().key(x.verify).single(data).blob(sig).save(std::string("verify-") + x.name);
    if (x.multipart)
      MechSeed(kVerify, x.mech).no_param().key(x.verify).parts({data}).blob(sig).save(std::string("verify-") + x.name +
                                                                                        "-parts");
  }
  struct WithParam {
    const char* name;
    CK_MECHANISM_TYPE mech;
    LayoutId layout;
    std::vector<SeedField> fields;
    KeyId sign, verify;
    Bytes data;
  };
  for (const WithParam& x :
       {WithParam{"rsa-pss", CKM_SHA256_RSA_PKCS_PSS, kRsaPss, {num(CKM_SHA256), num(CKG_MGF1_SHA256), num(32)},
                  kRsaPrivate, kRsaPublic, msg},
        WithParam{"rsa-pss-raw", CKM_RSA_PKCS_PSS, kRsaPss, {num(CKM_SHA384), num(CKG_MGF1_SHA384), num(48)},
                  kRsaPrivate, kRsaPublic, counting(48)},
        WithParam{"eddsa-params", CKM_EDDSA, kEdDsa, {num(CK_FALSE), bytes({})}, kEd25519Private, kEd25519Public, msg},
        WithParam{"hmac-general", CKM_SHA256_HMAC_GENERAL, kMacGeneral, {num(16)}, kGenericSecret, kGenericSecret, msg},
        WithParam{"cmac-general", CKM_AES_CMAC_GENERAL, kMacGeneral, {num(8)}, kAes128, kAes128, msg}}) {
    MechSeed sign(kSign, x.mech);
    sign.param(x.layout, x.fields).key(x.sign).single(x.data).save(std::string("sign-") + x.name);
    const Bytes sig = produce.sign(sign, x.data);
    MechSeed(kVerify, x.mech).param(x.layout, x.fields).key(x.verify).single(x.data).blob(sig)
        .save(std::string("verify-") + x.name);
  }
  MechSeed recover(kSignRecover, CKM_RSA_PKCS);
  recover.no_param().key(kRsaPrivate).blob(counting(20)).out().save("sign-recover-rsa");
  MechSeed(kVerifyRecover, CKM_RSA_PKCS).no_param().key(kRsaPublic).blob(produce.sign_recover(recover, counting(20)))
      .out().save("verify-recover-rsa");

  // Ciphers: encrypt, and decrypt what was encrypted.
  struct Cipher {
    const char* name;
    CK_MECHANISM_TYPE mech;
    int layout;  // -1: a raw parameter (`raw`), -2: none
    std::vector<SeedField> fields;
    Bytes raw;
    KeyId enc, dec;
    Bytes data;
  };
  const Bytes iv16 = counting(16, 0xa0), iv8 = counting(8, 0xb0);
  const std::vector<Cipher> ciphers = {
      {"aes-cbc-pad", CKM_AES_CBC_PAD, -1, {}, iv16, kAes128, kAes128, msg},
      {"aes-cbc", CKM_AES_CBC, -1, {}, iv16, kAes256, kAes256, block},
      {"aes-ecb", CKM_AES_ECB, -2, {}, {}, kAes128, kAes128, block},
      {"aes-cts", CKM_AES_CTS, -1, {}, iv16, kAes128, kAes128, msg},
      {"aes-ctr", CKM_AES_CTR, kAesCtr, {num(128), bytes(iv16)}, {}, kAes128, kAes128, msg},
      {"aes-gcm", CKM_AES_GCM, kGcm, {bytes(counting(12)), num(96), bytes(str("aad")), num(128)}, {}, kAes256, kAes256,
       msg},
      {"aes-gcm-96", CKM_AES_GCM, kGcm, {bytes(counting(12)), num(96), bytes({}), num(96)}, {}, kAes128, kAes128,
       block},
      {"aes-ccm", CKM_AES_CCM, kCcm, {num(msg.size()), bytes(counting(13)), bytes(str("aad")), num(16)}, {}, kAes128,
       kAes128, msg},
      {"chacha20-poly1305", CKM_CHACHA20_POLY1305, kChaCha20Poly1305, {bytes(counting(12)), bytes(str("aad"))}, {},
       kChaCha20, kChaCha20, msg},
      {"des3-cbc-pad", CKM_DES3_CBC_PAD, -1, {}, iv8, kDes3, kDes3, msg},
      {"des3-ecb", CKM_DES3_ECB, -2, {}, {}, kDes3, kDes3, counting(16)},
      {"rsa-oaep", CKM_RSA_PKCS_OAEP, kRsaOaep,
       {num(CKM_SHA256), num(CKG_MGF1_SHA256), num(CKZ_DATA_SPECIFIED), bytes(str("label"))}, {}, kRsaPublic,
       kRsaPrivate, msg},
      {"rsa-oaep-sha1", CKM_RSA_PKCS_OAEP, kRsaOaep,
       {num(CKM_SHA_1), num(CKG_MGF1_SHA1), num(CKZ_DATA_SPECIFIED), bytes({})},
       {}, kRsaPublic, kRsaPrivate, block},
      {"rsa-pkcs", CKM_RSA_PKCS, -2, {}, {}, kRsaPublic, kRsaPrivate, msg},
      {"rsa-x509", CKM_RSA_X_509, -2, {}, {}, kRsaPublic, kRsaPrivate, counting(256, 0)},
  };
  for (const Cipher& c : ciphers) {
    auto seed = [&](Op op) {
      MechSeed s(op, c.mech);
      if (c.layout >= 0) {
        s.param(static_cast<LayoutId>(c.layout), c.fields);
      } else if (c.layout == -1) {
        s.raw(c.raw);
      } else {
        s.no_param();
      }
      return s.key(op == kEncrypt ? c.enc : c.dec);
    };
    MechSeed enc = seed(kEncrypt);
    const std::string name = c.name;
    seed(kEncrypt).single(c.data).save("encrypt-" + name);
    const Bytes ct = produce.encrypt(enc, c.data);
    seed(kDecrypt).single(ct).save("decrypt-" + name);
    if (c.enc == c.dec && c.mech != CKM_AES_CCM) {
      seed(kEncrypt).parts({c.data, block}).save("encrypt-" + name + "-parts");
      const size_t half = ct.size() / 2;
      seed(kDecrypt).parts({Bytes(ct.begin(), ct.begin() + half), Bytes(ct.begin() + half, ct.end())})
          .save("decrypt-" + name + "-parts");
    }
  }

  // Digests.
  for (auto [name, mech] : {std::pair{"digest-sha256", CKM_SHA256}, std::pair{"digest-sha3-512", CKM_SHA3_512},
                            std::pair{"digest-sha1", CKM_SHA_1}, std::pair{"digest-md5", CKM_MD5},
                            std::pair{"digest-sha512-256", CKM_SHA512_256}}) {
    MechSeed(kDigest, mech).no_param().key(kInvalidHandle).single(msg).save(name);
    MechSeed(kDigest, mech).no_param().key(kInvalidHandle).parts({msg, block}).save(std::string(name) + "-parts");
  }
  MechSeed(kDigest, CKM_SHA256).no_param().key(kInvalidHandle)  // updates around C_DigestKey
      .u8(0).u8(3).u8(1).blob(msg).u8(0).u8(kAes128).u8(1).blob(block).out().save("digest-key");

  // Message-based AEAD: two messages each way, one in one call and one in two parts.
  struct Aead {
    const char* name;
    CK_MECHANISM_TYPE mech;
    KeyId key;
    LayoutId layout;
    std::function<std::vector<SeedField>(const Bytes& tag)> fields;
    bool multipart;
  };
  const Bytes aad = str("aad");
  const std::vector<Aead> aeads = {
      {"aes-gcm", CKM_AES_GCM, kAes256, kGcmMessage,
       [](const Bytes& tag) {
         return std::vector<SeedField>{bytes(counting(12)), num(0), num(CKG_NO_GENERATE), tag_bits(128, tag)};
       },
       true},
      {"aes-gcm-96", CKM_AES_GCM, kAes128, kGcmMessage,
       [](const Bytes& tag) {
         return std::vector<SeedField>{bytes(counting(12)), num(0), num(CKG_NO_GENERATE), tag_bits(96, tag)};
       },
       true},
      {"aes-ccm", CKM_AES_CCM, kAes128, kCcmMessage,
       [&](const Bytes& tag) {
         return std::vector<SeedField>{num(msg.size()), bytes(counting(13)), num(0), num(CKG_NO_GENERATE),
                                       bytes(tag.empty() ? Bytes(16) : tag)};
       },
       false},
      {"chacha20-poly1305", CKM_CHACHA20_POLY1305, kChaCha20, kChaCha20Poly1305Message,
       [](const Bytes& tag) {
         return std::vector<SeedField>{bytes(counting(12)), bytes(tag.empty() ? Bytes(16) : tag)};
       },
       true},
  };
  for (const Aead& x : aeads) {
    auto seed = [&](Op op, const Bytes& data, const Bytes& tag) {
      MechSeed s(op, x.mech);
      s.no_param().key(x.key).u8(2);
      s.message_param(x.layout, x.fields(tag)).blob(aad).u8(1).blob(data).out();  // one call
      if (x.multipart) {  // begin, then two parts, the second one ending the message
        const size_t half = data.size() / 2;
        s.message_param(x.layout, x.fields(tag)).blob(aad).u8(0).u8(2);
        s.blob(Bytes(data.begin(), data.begin() + half)).u8(0).out();
        s.blob(Bytes(data.begin() + half, data.end())).u8(1).out();
      } else {
        s.message_param(x.layout, x.fields(tag)).blob(aad).u8(1).blob(data).out();
      }
      return s;
    };
    seed(kMessageEncrypt, msg, {}).save(std::string("message-encrypt-") + x.name);
    MechSeed init(kMessageEncrypt, x.mech);
    init.no_param().key(x.key);
    MechSeed one(kMessageEncrypt, x.mech);
    one.param(x.layout, x.fields({}));
    Bytes tag;
    const Bytes ct = produce.encrypt_message(init, one, aad, msg, tag);
    seed(kMessageDecrypt, ct, tag).save(std::string("message-decrypt-") + x.name);
  }
  MechSeed(kMessageEncrypt, CKM_AES_GCM).no_param().key(kAes128).u8(1)
      .message_param(kGcmMessage, {bytes(Bytes(12)), num(32), num(CKG_GENERATE_COUNTER), num(128)})
      .blob(aad).u8(1).blob(msg).out().save("message-encrypt-aes-gcm-counter");
  MechSeed(kMessageEncrypt, CKM_AES_GCM).no_param().key(kAes128).u8(1)
      .message_param(kGcmMessage, {bytes(Bytes(12)), num(0), num(CKG_GENERATE_RANDOM), num(128)})
      .blob(aad).u8(1).blob(msg).out().save("message-encrypt-aes-gcm-random");

  // Key derivation.
  auto derive = [](const std::string& name, CK_MECHANISM_TYPE mech, KeyId base, LayoutId layout,
                   const std::vector<SeedField>& f, const std::vector<SeedAttr>& t) {
    MechSeed(kDerive, mech).param(layout, f).key(base).tmpl(t).save(name);
  };
  auto secret = [](CK_KEY_TYPE type, CK_ULONG len) {
    return std::vector<SeedAttr>{ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, type),
                                 ck_ulong(CKA_VALUE_LEN, len), ck_bool(CKA_ENCRYPT, true)};
  };
  derive("derive-ecdh-p256", CKM_ECDH1_DERIVE, kP256Private, kEcdh1Derive,
         {num(CKD_NULL), bytes({}), bytes(fk.p256_point)}, secret(CKK_GENERIC_SECRET, 32));
  derive("derive-ecdh-p256-raw-point", CKM_ECDH1_DERIVE, kP256Private, kEcdh1Derive,
         {num(CKD_NULL), bytes({}), bytes(Bytes(fk.p256_point.begin() + 2, fk.p256_point.end()))},
         secret(CKK_AES, 16));
  derive("derive-ecdh-p256-x963", CKM_ECDH1_COFACTOR_DERIVE, kP256Private, kEcdh1Derive,
         {num(CKD_SHA256_KDF), bytes(str("shared")), bytes(fk.p256_point)}, secret(CKK_AES, 16));
  derive("derive-ecdh-x25519", CKM_ECDH1_DERIVE, kX25519Private, kEcdh1Derive,
         {num(CKD_NULL), bytes({}), bytes(fk.x25519_point)}, secret(CKK_GENERIC_SECRET, 32));
  derive("derive-hkdf", CKM_HKDF_DERIVE, kGenericSecret, kHkdf,
         {num(CK_TRUE), num(CK_TRUE), num(CKM_SHA256), num(CKF_HKDF_SALT_DATA), bytes(str("salt")),
          num(kInvalidHandle), bytes(str("info"))},
         secret(CKK_AES, 16));
  derive("derive-hkdf-salt-key", CKM_HKDF_DERIVE, kGenericSecret, kHkdf,
         {num(CK_TRUE), num(CK_FALSE), num(CKM_SHA384), num(CKF_HKDF_SALT_KEY), null_ptr(), num(kGenericSecret),
          null_ptr()},
         secret(CKK_GENERIC_SECRET, 48));
  derive("derive-hkdf-data", CKM_HKDF_DATA, kGenericSecret, kHkdf,
         {num(CK_FALSE), num(CK_TRUE), num(CKM_SHA256), num(CKF_HKDF_SALT_NULL), null_ptr(), num(kInvalidHandle),
          bytes(str("info"))},
         {ck_ulong(CKA_CLASS, CKO_DATA), ck_ulong(CKA_VALUE_LEN, 20)});
  CK_SP800_108_COUNTER_FORMAT counter{CK_FALSE, 32};
  CK_SP800_108_DKM_LENGTH_FORMAT dkm{CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS, CK_FALSE, 32};
  auto prf = [](CK_PRF_DATA_TYPE t, SeedField v) { return std::vector<SeedField>{num(t), std::move(v)}; };
  SeedField counter_layout = num(0);
  counter_layout.elements = {prf(CK_SP800_108_ITERATION_VARIABLE, bytes(raw_struct(counter))),
                             prf(CK_SP800_108_BYTE_ARRAY, bytes(str("label"))),
                             prf(CK_SP800_108_BYTE_ARRAY, bytes({0})),
                             prf(CK_SP800_108_DKM_LENGTH, bytes(raw_struct(dkm)))};
  derive("derive-sp800-108-counter", CKM_SP800_108_COUNTER_KDF, kGenericSecret, kSp800108,
         {num(CKM_SHA256_HMAC), counter_layout, num(0)}, secret(CKK_AES, 16));
  derive("derive-sp800-108-counter-cmac", CKM_SP800_108_COUNTER_KDF, kAes128, kSp800108,
         {num(CKM_AES_CMAC), counter_layout, num(0)}, secret(CKK_GENERIC_SECRET, 40));
  SeedField chained_layout = num(0);
  chained_layout.elements = {prf(CK_SP800_108_ITERATION_VARIABLE, null_ptr()),
                             prf(CK_SP800_108_OPTIONAL_COUNTER, bytes(raw_struct(counter))),
                             prf(CK_SP800_108_BYTE_ARRAY, bytes(str("context"))),
                             prf(CK_SP800_108_DKM_LENGTH, bytes(raw_struct(dkm)))};
  derive("derive-sp800-108-feedback", CKM_SP800_108_FEEDBACK_KDF, kGenericSecret, kSp800108Feedback,
         {num(CKM_SHA512_HMAC), chained_layout, bytes(counting(16)), num(0)}, secret(CKK_GENERIC_SECRET, 100));
  derive("derive-sp800-108-pipeline", CKM_SP800_108_DOUBLE_PIPELINE_KDF, kGenericSecret, kSp800108,
         {num(CKM_SHA3_256_HMAC), chained_layout, num(0)}, secret(CKK_AES, 32));
  derive("derive-concatenate", CKM_CONCATENATE_BASE_AND_KEY, kGenericSecret, kObjectHandle, {num(kAes128)},
         secret(CKK_GENERIC_SECRET, 48));
  derive("derive-aes-ecb-data", CKM_AES_ECB_ENCRYPT_DATA, kAes128, kKeyDerivationString, {bytes(counting(32))},
         secret(CKK_AES, 32));
  derive("derive-aes-cbc-data", CKM_AES_CBC_ENCRYPT_DATA, kAes256, kAesCbcEncryptData,
         {bytes(iv16), bytes(counting(32))}, secret(CKK_GENERIC_SECRET, 32));

  // Wrapping, and unwrapping what was wrapped.
  struct Wrap {
    const char* name;
    CK_MECHANISM_TYPE mech;
    int layout;  // as in Cipher
    std::vector<SeedField> fields;
    Bytes raw;
    KeyId wrapping, unwrapping, target;
    std::vector<SeedAttr> tmpl;
  };
  const std::vector<SeedAttr> as_aes = {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_AES),
                                        ck_bool(CKA_DECRYPT, true)};
  const std::vector<SeedAttr> as_generic = {ck_ulong(CKA_CLASS, CKO_SECRET_KEY),
                                            ck_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET), ck_bool(CKA_SIGN, true)};
  const std::vector<Wrap> wraps = {
      {"aes-kw", CKM_AES_KEY_WRAP, -2, {}, {}, kAes256, kAes256, kAes128, as_aes},
      {"aes-kwp", CKM_AES_KEY_WRAP_KWP, -2, {}, {}, kAes128, kAes128, kGenericSecret, as_generic},
      {"aes-kw-pad", CKM_AES_KEY_WRAP_PAD, -2, {}, {}, kAes256, kAes256, kAes128, as_aes},
      {"aes-cbc-pad-ec", CKM_AES_CBC_PAD, -1, {}, iv16, kAes128, kAes128, kP256Private,
       {ck_ulong(CKA_CLASS, CKO_PRIVATE_KEY), ck_ulong(CKA_KEY_TYPE, CKK_EC), ck_bool(CKA_SIGN, true)}},
      {"aes-cbc-pad-rsa", CKM_AES_CBC_PAD, -1, {}, iv16, kAes256, kAes256, kRsaPrivate,
       {ck_ulong(CKA_CLASS, CKO_PRIVATE_KEY), ck_ulong(CKA_KEY_TYPE, CKK_RSA), ck_bool(CKA_DECRYPT, true)}},
      {"aes-gcm", CKM_AES_GCM, kGcm, {bytes(counting(12)), num(96), bytes({}), num(128)}, {}, kAes128, kAes128,
       kChaCha20, {ck_ulong(CKA_CLASS, CKO_SECRET_KEY), ck_ulong(CKA_KEY_TYPE, CKK_CHACHA20)}},
      {"rsa-oaep", CKM_RSA_PKCS_OAEP, kRsaOaep,
       {num(CKM_SHA_1), num(CKG_MGF1_SHA1), num(CKZ_DATA_SPECIFIED), bytes({})},
       {}, kRsaPublic, kRsaPrivate, kAes256, as_aes},
      {"rsa-pkcs", CKM_RSA_PKCS, -2, {}, {}, kRsaPublic, kRsaPrivate, kGenericSecret, as_generic},
  };
  for (const Wrap& x : wraps) {
    auto seed = [&](Op op) {
      MechSeed s(op, x.mech);
      if (x.layout >= 0) {
        s.param(static_cast<LayoutId>(x.layout), x.fields);
      } else if (x.layout == -1) {
        s.raw(x.raw);
      } else {
        s.no_param();
      }
      return s.key(op == kWrap ? x.wrapping : x.unwrapping);
    };
    MechSeed wrap = seed(kWrap);
    seed(kWrap).u8(x.target).out().save(std::string("wrap-") + x.name);
    seed(kUnwrap).blob(produce.wrap(wrap, x.target)).tmpl(x.tmpl).save(std::string("unwrap-") + x.name);
  }

  // Generation with a parameter: PBKDF2.
  MechSeed(kGenerate, CKM_PKCS5_PBKD2)
      .param(kPbkdf2, {num(CKZ_SALT_SPECIFIED), bytes(str("salt")), num(1000), num(CKP_PKCS5_PBKD2_HMAC_SHA256),
                       null_ptr(), bytes(str("password"))})
      .key(kInvalidHandle).tmpl({ck_ulong(CKA_KEY_TYPE, CKK_AES), ck_ulong(CKA_VALUE_LEN, 32)})
      .save("generate-pbkdf2");
}

}  // namespace ferrohsm::fuzz::seeds
