#include "roundtrip/context.h"

#include <openssl/rand.h>

#include "roundtrip/curves.h"

namespace ferrohsm::abi::roundtrip {

Bytes Random(size_t n) {
  Bytes b(n);
  if (n != 0 && RAND_bytes(b.data(), static_cast<int>(n)) != 1) ADD_FAILURE() << "RAND_bytes failed";
  return b;
}

Bytes Hex(const char* hex) {
  Bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (const char* p = hex; *p != '\0'; ++p) {
    int v = nibble(*p);
    if (v < 0) continue;  // spaces between groups
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

std::string HexOf(const Bytes& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t v : b) s += {kDigits[v >> 4], kDigits[v & 15]};
  return s;
}

Bytes Concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes Tampered(Bytes b, size_t at) {
  if (b.empty()) return b;
  b[at < b.size() ? at : b.size() - 1] ^= 0x01;
  return b;
}

namespace {
std::map<std::string, KeyPair>& KeyCache() {
  static std::map<std::string, KeyPair> cache;
  return cache;
}
}  // namespace

void ResetKeyCache() { KeyCache().clear(); }
std::map<std::string, KeyPair>& Ctx::cache() { return KeyCache(); }

const KeyPair& Ctx::Rsa() {
  auto it = cache().find("RSA");
  if (it != cache().end()) return it->second;
  Template pub, priv;
  pub.Bool(CKA_TOKEN, false).Bool(CKA_VERIFY, true).Bool(CKA_ENCRYPT, true).Bool(CKA_WRAP, true)
      .Bool(CKA_VERIFY_RECOVER, true).Ulong(CKA_MODULUS_BITS, 2048).Bytes(CKA_PUBLIC_EXPONENT, {1, 0, 1});
  priv.Bool(CKA_TOKEN, false).Bool(CKA_PRIVATE, true).Bool(CKA_SENSITIVE, true).Bool(CKA_SIGN, true)
      .Bool(CKA_DECRYPT, true).Bool(CKA_UNWRAP, true).Bool(CKA_SIGN_RECOVER, true);
  KeyPair kp;
  CK_MECHANISM m{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  kp.rv = f->C_GenerateKeyPair(s, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub, &kp.priv);
  EXPECT_CKR_OK(kp.rv) << "RSA-2048 key pair generation";
  return cache()["RSA"] = kp;
}

KeyPair Ctx::NewPair(const std::string& curve) {
  const CurveInfo* c = FindCurve(curve);
  KeyPair kp;
  if (c == nullptr) {
    ADD_FAILURE() << "unknown curve " << curve;
    return kp;
  }
  Template pub, priv;
  pub.Bool(CKA_TOKEN, false).Bytes(CKA_EC_PARAMS, c->params);
  priv.Bool(CKA_TOKEN, false).Bool(CKA_PRIVATE, true).Bool(CKA_SENSITIVE, true);
  CK_MECHANISM_TYPE gen = CKM_EC_KEY_PAIR_GEN;
  if (c->family == CurveFamily::kWeierstrass) {
    pub.Bool(CKA_VERIFY, true);
    priv.Bool(CKA_SIGN, true).Bool(CKA_DERIVE, true);
  } else if (c->family == CurveFamily::kEdwards) {
    gen = CKM_EC_EDWARDS_KEY_PAIR_GEN;
    pub.Bool(CKA_VERIFY, true);
    priv.Bool(CKA_SIGN, true);
  } else {
    gen = CKM_EC_MONTGOMERY_KEY_PAIR_GEN;
    priv.Bool(CKA_DERIVE, true);
  }
  CK_MECHANISM m{gen, nullptr, 0};
  kp.rv = f->C_GenerateKeyPair(s, &m, pub.data(), pub.size(), priv.data(), priv.size(), &kp.pub, &kp.priv);
  EXPECT_CKR_OK(kp.rv) << curve << " key pair generation";
  return kp;
}

const KeyPair& Ctx::Pair(const std::string& curve) {
  auto it = cache().find(curve);
  if (it != cache().end()) return it->second;
  return cache()[curve] = NewPair(curve);
}

namespace {
// Usages a secret key of this type may carry.
void AddUsages(Template& t, CK_KEY_TYPE type) {
  t.Bool(CKA_SIGN, true).Bool(CKA_VERIFY, true).Bool(CKA_DERIVE, true);
  if (type != CKK_GENERIC_SECRET && type != CKK_HKDF) {
    t.Bool(CKA_ENCRYPT, true).Bool(CKA_DECRYPT, true).Bool(CKA_WRAP, true).Bool(CKA_UNWRAP, true);
  }
}
}  // namespace

Template Ctx::UsableSecret(CK_KEY_TYPE type, CK_ULONG value_len) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Bool(CKA_TOKEN, false)
      .Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true);
  AddUsages(t, type);
  if (value_len != 0) t.Ulong(CKA_VALUE_LEN, value_len);
  return t;
}

CK_OBJECT_HANDLE Ctx::Secret(CK_KEY_TYPE type, const Bytes& value) {
  Template t;
  t.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, type).Bytes(CKA_VALUE, value).Bool(CKA_TOKEN, false)
      .Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true);
  AddUsages(t, type);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  EXPECT_CKR_OK(f->C_CreateObject(s, t.data(), t.size(), &h)) << "importing a secret key of type 0x" << std::hex
                                                              << type;
  return h;
}

Bytes Ctx::Value(CK_OBJECT_HANDLE key) {
  AttrValue v = GetAttr(f, s, key, CKA_VALUE);
  EXPECT_CKR_OK(v.rv) << "reading CKA_VALUE";
  return v.rv == CKR_OK ? v.value : Bytes{};
}

namespace {
template <typename Run>
Out TwoCalls(CK_RV init_rv, Run run) {
  Out o;
  o.rv = init_rv;
  if (o.rv != CKR_OK) return o;
  CK_ULONG len = 0;
  o.rv = run(nullptr, &len);
  if (o.rv != CKR_OK) return o;
  o.bytes.resize(len);
  o.rv = run(o.bytes.data(), &len);
  o.bytes.resize(o.rv == CKR_OK ? len : 0);
  return o;
}
}  // namespace

Out Ctx::Sign(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data) {
  Bytes in = data;
  return TwoCalls(f->C_SignInit(s, m, key),
                  [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_Sign(s, in.data(), in.size(), o, l); });
}

CK_RV Ctx::Verify(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data, const Bytes& sig) {
  CK_RV rv = f->C_VerifyInit(s, m, key);
  if (rv != CKR_OK) return rv;
  Bytes in = data, sg = sig;
  return f->C_Verify(s, in.data(), in.size(), sg.data(), sg.size());
}

Out Ctx::Encrypt(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data) {
  Bytes in = data;
  return TwoCalls(f->C_EncryptInit(s, m, key),
                  [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_Encrypt(s, in.data(), in.size(), o, l); });
}

Out Ctx::Decrypt(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data) {
  Bytes in = data;
  return TwoCalls(f->C_DecryptInit(s, m, key),
                  [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_Decrypt(s, in.data(), in.size(), o, l); });
}

Out Ctx::Digest(CK_MECHANISM* m, const Bytes& data) {
  Bytes in = data;
  return TwoCalls(f->C_DigestInit(s, m),
                  [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_Digest(s, in.data(), in.size(), o, l); });
}

Out Ctx::SignRecover(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& data) {
  Bytes in = data;
  return TwoCalls(f->C_SignRecoverInit(s, m, key),
                  [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_SignRecover(s, in.data(), in.size(), o, l); });
}

Out Ctx::VerifyRecover(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& sig) {
  Bytes in = sig;
  return TwoCalls(f->C_VerifyRecoverInit(s, m, key),
                  [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_VerifyRecover(s, in.data(), in.size(), o, l); });
}

Out Ctx::Wrap(CK_MECHANISM* m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key) {
  return TwoCalls(CKR_OK, [&](CK_BYTE_PTR o, CK_ULONG_PTR l) { return f->C_WrapKey(s, m, wrapping, key, o, l); });
}

Created Ctx::Unwrap(CK_MECHANISM* m, CK_OBJECT_HANDLE unwrapping, const Bytes& wrapped, Template t) {
  Created c;
  Bytes in = wrapped;
  c.rv = f->C_UnwrapKey(s, m, unwrapping, in.data(), in.size(), t.data(), t.size(), &c.handle);
  return c;
}

Created Ctx::Derive(CK_MECHANISM* m, CK_OBJECT_HANDLE base, Template t) {
  Created c;
  c.rv = f->C_DeriveKey(s, m, base, t.data(), t.size(), &c.handle);
  return c;
}

Created Ctx::Generate(CK_MECHANISM* m, Template t) {
  Created c;
  c.rv = f->C_GenerateKey(s, m, t.data(), t.size(), &c.handle);
  return c;
}

Bytes Ctx::SignVerify(CK_MECHANISM* m, CK_OBJECT_HANDLE sign_key, CK_OBJECT_HANDLE verify_key, const Bytes& data) {
  Did(CKF_SIGN | CKF_VERIFY);
  Out sig = Sign(m, sign_key, data);
  EXPECT_CKR_OK(sig.rv) << "C_Sign";
  if (sig.rv != CKR_OK) return {};
  EXPECT_CKR_OK(Verify(m, verify_key, data, sig.bytes)) << "C_Verify of the module's own signature";
  EXPECT_CKR(CKR_SIGNATURE_INVALID, Verify(m, verify_key, data, Tampered(sig.bytes, sig.bytes.size() / 2)))
      << "a tampered signature must not verify";
  EXPECT_CKR(CKR_SIGNATURE_INVALID, Verify(m, verify_key, Tampered(data, 0), sig.bytes))
      << "a tampered message must not verify";
  if (Has(CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY)) MessageSignVerify(m, sign_key, verify_key, data, sig.bytes);
  return sig.bytes;
}

void Ctx::MessageSignVerify(CK_MECHANISM* m, CK_OBJECT_HANDLE sign_key, CK_OBJECT_HANDLE verify_key,
                            const Bytes& data, const Bytes& reference) {
  SCOPED_TRACE("message-based signatures");
  Did(CKF_MESSAGE_SIGN | CKF_MESSAGE_VERIFY);
  ASSERT_NE(f3, nullptr) << "no 3.0 function list";
  Bytes in = data;
  ASSERT_CKR_OK(f3->C_MessageSignInit(s, m, sign_key));
  CK_ULONG len = 0;
  EXPECT_CKR_OK(f3->C_SignMessage(s, nullptr, 0, in.data(), in.size(), nullptr, &len));
  Bytes one(len);
  EXPECT_CKR_OK(f3->C_SignMessage(s, nullptr, 0, in.data(), in.size(), one.data(), &len));
  one.resize(len);
  // Every mechanism takes a message given in one, last, part.
  EXPECT_CKR_OK(f3->C_SignMessageBegin(s, nullptr, 0));
  len = one.size();
  Bytes parts(len);
  EXPECT_CKR_OK(f3->C_SignMessageNext(s, nullptr, 0, in.data(), in.size(), parts.data(), &len));
  parts.resize(len);
  EXPECT_CKR_OK(f3->C_MessageSignFinal(s));
  EXPECT_CKR_OK(Verify(m, verify_key, data, one)) << "C_Verify of C_SignMessage's signature";
  EXPECT_CKR_OK(Verify(m, verify_key, data, parts)) << "C_Verify of C_SignMessageNext's signature";

  ASSERT_CKR_OK(f3->C_MessageVerifyInit(s, m, verify_key));
  Bytes sig = reference, bad = Tampered(reference, reference.size() / 2);
  EXPECT_CKR_OK(f3->C_VerifyMessage(s, nullptr, 0, in.data(), in.size(), sig.data(), sig.size()));
  EXPECT_CKR(CKR_SIGNATURE_INVALID, f3->C_VerifyMessage(s, nullptr, 0, in.data(), in.size(), bad.data(), bad.size()));
  EXPECT_CKR_OK(f3->C_VerifyMessageBegin(s, nullptr, 0));
  EXPECT_CKR_OK(f3->C_VerifyMessageNext(s, nullptr, 0, in.data(), in.size(), sig.data(), sig.size()));
  EXPECT_CKR_OK(f3->C_MessageVerifyFinal(s));
}

Bytes Ctx::EncryptDecrypt(CK_MECHANISM* m, CK_OBJECT_HANDLE key, const Bytes& plain, const Bytes& expected) {
  Did(CKF_ENCRYPT | CKF_DECRYPT);
  Out ct = Encrypt(m, key, plain);
  EXPECT_CKR_OK(ct.rv) << "C_Encrypt";
  if (!expected.empty()) {
    EXPECT_EQ(HexOf(ct.bytes), HexOf(expected)) << "ciphertext differs from OpenSSL's";
  }
  if (ct.rv == CKR_OK) {
    Out back = Decrypt(m, key, ct.bytes);
    EXPECT_CKR_OK(back.rv) << "C_Decrypt of the module's ciphertext";
    EXPECT_EQ(HexOf(back.bytes), HexOf(plain)) << "round trip";
  }
  if (!expected.empty()) {
    Out back = Decrypt(m, key, expected);
    EXPECT_CKR_OK(back.rv) << "C_Decrypt of OpenSSL's ciphertext";
    EXPECT_EQ(HexOf(back.bytes), HexOf(plain)) << "decrypting OpenSSL's ciphertext";
  }
  return ct.bytes;
}

void Ctx::WrapUnwrap(CK_MECHANISM* m, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE unwrapping,
                     const Bytes& target_value, const Bytes& expected, const Bytes& foreign,
                     bool tamper_detected) {
  Did(CKF_WRAP | CKF_UNWRAP);
  CK_OBJECT_HANDLE target = Secret(CKK_AES, target_value);
  Out wrapped = Wrap(m, wrapping, target);
  EXPECT_CKR_OK(wrapped.rv) << "C_WrapKey";
  if (wrapped.rv != CKR_OK) return;
  if (!expected.empty()) {
    EXPECT_EQ(HexOf(wrapped.bytes), HexOf(expected)) << "wrapped key differs from the reference";
  }
  Created un = Unwrap(m, unwrapping, wrapped.bytes, UsableSecret(CKK_AES));
  EXPECT_CKR_OK(un.rv) << "C_UnwrapKey of the module's wrapping";
  if (un.rv == CKR_OK) {
    EXPECT_EQ(HexOf(Value(un.handle)), HexOf(target_value)) << "unwrapped key value";
    CK_MECHANISM ecb{CKM_AES_ECB, nullptr, 0};
    Bytes plain = Random(32);
    Out ct = Encrypt(&ecb, target, plain);
    Out back = Decrypt(&ecb, un.handle, ct.bytes);
    EXPECT_CKR_OK(back.rv) << "the unwrapped key decrypts";
    EXPECT_EQ(HexOf(back.bytes), HexOf(plain)) << "the unwrapped key decrypts what the original encrypted";
  }
  if (!foreign.empty()) {
    Created ref = Unwrap(m, unwrapping, foreign, UsableSecret(CKK_AES));
    EXPECT_CKR_OK(ref.rv) << "C_UnwrapKey of the independently made wrapping";
    if (ref.rv == CKR_OK) {
      EXPECT_EQ(HexOf(Value(ref.handle)), HexOf(target_value));
    }
  }
  if (tamper_detected) {
    Created bad = Unwrap(m, unwrapping, Tampered(wrapped.bytes, wrapped.bytes.size() / 2), UsableSecret(CKK_AES));
    EXPECT_NE(bad.rv, CKR_OK) << "a tampered wrapping must not unwrap";
  }
}

}  // namespace ferrohsm::abi::roundtrip
