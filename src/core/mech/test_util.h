// Helpers shared by the mechanism unit tests (header-only: a .cc here would join
// the core library). Builds keys from attributes, drives the registry's factories,
// and caches the few generated keys the tests share.
#pragma once

#include "core/mech/registry.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>
#include <utility>

namespace ferrohsm::mech::test {

inline Bytes hex(std::string_view h) {
  Bytes out;
  EXPECT_TRUE(from_hex(h, out)) << "bad hex in test: " << h;
  return out;
}

inline ByteView text(std::string_view s) { return as_bytes(s); }

// DER OCTET STRING of a short value (< 128 bytes), written out independently of curves.cc.
inline Bytes der_octet(ByteView raw) {
  Bytes b(2 + raw.size());
  b[0] = 0x04;
  b[1] = static_cast<uint8_t>(raw.size());
  std::copy(raw.begin(), raw.end(), b.begin() + 2);
  return b;
}

struct Attr {
  CK_ATTRIBUTE_TYPE type;
  Bytes value;
};

inline Bytes ulong_bytes(CK_ULONG v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  return Bytes(p, p + sizeof v);
}

inline AttrMap attrs(std::initializer_list<Attr> list) {
  AttrMap m;
  for (const Attr& a : list) m.set(a.type, ByteView(a.value));
  return m;
}

inline const Entry& entry(CK_MECHANISM_TYPE t) {
  const Entry* e = Registry::global().find(t);
  if (e == nullptr) {
    ADD_FAILURE() << "mechanism 0x" << std::hex << t << " is not registered";
    static const Entry kEmpty;
    return kEmpty;
  }
  return *e;
}

inline CK_MECHANISM mech(CK_MECHANISM_TYPE t) { return CK_MECHANISM{t, nullptr, 0}; }
template <typename P>
CK_MECHANISM mech(CK_MECHANISM_TYPE t, P& param) {
  return CK_MECHANISM{t, &param, sizeof(P)};
}

inline KeyPtr must_key(Result<KeyPtr> r) {
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(r).value() : nullptr;
}

// Key pair built back from what a generator returned (as the object layer would).
struct Pair {
  KeyPtr pub, priv;
};

inline Pair pair_from(const Result<GeneratedKeyPair>& g) {
  EXPECT_TRUE(g.ok()) << g.error().message;
  if (!g.ok()) return {};
  return {must_key(key_from_attributes(CKO_PUBLIC_KEY, g->public_attrs)),
          must_key(key_from_attributes(CKO_PRIVATE_KEY, g->private_attrs))};
}

inline Result<GeneratedKeyPair> generate_pair(CK_MECHANISM_TYPE gen, const AttrMap& pub, const AttrMap& priv = {}) {
  return entry(gen).generate_key_pair(mech(gen), pub, priv);
}

inline Bytes ec_params_of(std::string_view oid_hex) { return hex(oid_hex); }
inline constexpr std::string_view kP256 = "06082a8648ce3d030107";
inline constexpr std::string_view kP384 = "06052b81040022";
inline constexpr std::string_view kP521 = "06052b81040023";
inline constexpr std::string_view kEd25519 = "06032b6570";
inline constexpr std::string_view kEd448 = "06032b6571";

// Generated once per test binary: RSA keygen is slow.
inline const Pair& rsa2048() {
  static const Pair p = pair_from(generate_pair(CKM_RSA_PKCS_KEY_PAIR_GEN, attrs({{CKA_MODULUS_BITS, ulong_bytes(2048)}})));
  return p;
}

inline const Pair& ec_pair(std::string_view oid_hex) {
  static const Pair p256 = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP256)}})));
  static const Pair p384 = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP384)}})));
  static const Pair p521 = pair_from(generate_pair(CKM_EC_KEY_PAIR_GEN, attrs({{CKA_EC_PARAMS, hex(kP521)}})));
  return oid_hex == kP256 ? p256 : oid_hex == kP384 ? p384 : p521;
}

inline KeyPtr secret_key(CK_KEY_TYPE kt, ByteView value) {
  return must_key(key_from_attributes(CKO_SECRET_KEY, attrs({{CKA_KEY_TYPE, ulong_bytes(kt)}, {CKA_VALUE, to_bytes(value)}})));
}

// Sign / verify through the registry entry, one-shot.
inline Result<Bytes> sign(const CK_MECHANISM& m, const KeyPtr& key, ByteView data) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<SignOp> op, entry(m.mechanism).sign(m, key));
  Bytes sig(op->signature_size());
  FH_ASSIGN_OR_RETURN(size_t n, op->sign(data, sig));
  EXPECT_EQ(n, sig.size());
  sig.resize(n);
  return sig;
}

inline Status verify(const CK_MECHANISM& m, const KeyPtr& key, ByteView data, ByteView sig) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<VerifyOp> op, entry(m.mechanism).verify(m, key));
  return op->verify(data, sig);
}

// Multi-part: data fed in `chunk`-byte pieces.
inline Result<Bytes> sign_parts(const CK_MECHANISM& m, const KeyPtr& key, ByteView data, size_t chunk) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<SignOp> op, entry(m.mechanism).sign(m, key));
  for (size_t i = 0; i < data.size(); i += chunk) FH_TRY(op->update(data.subspan(i, std::min(chunk, data.size() - i))));
  Bytes sig(op->signature_size());
  FH_ASSIGN_OR_RETURN(size_t n, op->final(sig));
  sig.resize(n);
  return sig;
}

inline Status verify_parts(const CK_MECHANISM& m, const KeyPtr& key, ByteView data, size_t chunk, ByteView sig) {
  FH_ASSIGN_OR_RETURN(std::unique_ptr<VerifyOp> op, entry(m.mechanism).verify(m, key));
  for (size_t i = 0; i < data.size(); i += chunk) FH_TRY(op->update(data.subspan(i, std::min(chunk, data.size() - i))));
  return op->final(sig);
}

}  // namespace ferrohsm::mech::test
