// AES key wrap (RFC 3394 KW, RFC 5649 KWP, KW over PKCS #7 padding) and the AES MACs
// (CMAC, CBC-MAC and their _GENERAL forms) through the C ABI. The wraps are checked
// against the RFCs' published vectors and OpenSSL's AES-WRAP ciphers, the MACs
// against OpenSSL's CMAC and AES-CBC.
#include "roundtrip/cases.h"
#include "roundtrip/ossl.h"

namespace ferrohsm::abi::roundtrip {
namespace {

struct WrapVector {
  CK_MECHANISM_TYPE mech;
  const char* kek;
  const char* key;
  const char* wrapped;
  const char* source;
};
const WrapVector kVectors[] = {
    {CKM_AES_KEY_WRAP, "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
     "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5", "RFC 3394 §4.1"},
    {CKM_AES_KEY_WRAP_KWP, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
     "c37b7e6492584340bed12207808941155068f738",
     "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a", "RFC 5649 §6, 20 octets"},
    {CKM_AES_KEY_WRAP_KWP, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "466f7250617369",
     "afbeb0f07dfbf5419200f2ccb50bb24f", "RFC 5649 §6, 7 octets"},
};

Bytes Pkcs7(Bytes data, size_t block) {
  const size_t n = block - data.size() % block;
  data.insert(data.end(), n, static_cast<uint8_t>(n));
  return data;
}

// OpenSSL's wrapping of `data` under `kek` for mechanism `m`.
Bytes Reference(CK_MECHANISM_TYPE m, const Bytes& kek, const Bytes& data) {
  switch (m) {
    case CKM_AES_KEY_WRAP: return KeyWrap(Aes(kek.size(), "WRAP"), kek, data);
    case CKM_AES_KEY_WRAP_KWP: return KeyWrap(Aes(kek.size(), "WRAP-PAD"), kek, data);
    default: return KeyWrap(Aes(kek.size(), "WRAP"), kek, Pkcs7(data, 16));  // CKM_AES_KEY_WRAP_PAD
  }
}

// C_WrapKey of a generic secret holding the vector's key, compared with the vector,
// and C_UnwrapKey of the vector's wrapping.
void VectorCheck(Ctx& c, const WrapVector& v) {
  SCOPED_TRACE(v.source);
  CK_OBJECT_HANDLE kek = c.Secret(CKK_AES, Hex(v.kek));
  CK_OBJECT_HANDLE key = c.Secret(CKK_GENERIC_SECRET, Hex(v.key));
  CK_MECHANISM mech{v.mech, nullptr, 0};
  Out wrapped = c.Wrap(&mech, kek, key);
  EXPECT_CKR_OK(wrapped.rv) << "C_WrapKey";
  EXPECT_EQ(HexOf(wrapped.bytes), HexOf(Hex(v.wrapped))) << "the published wrapping";
  Template t = Ctx::UsableSecret(CKK_GENERIC_SECRET);
  Created un = c.Unwrap(&mech, kek, Hex(v.wrapped), t);
  EXPECT_CKR_OK(un.rv) << "C_UnwrapKey of the published wrapping";
  if (un.rv == CKR_OK) {
    EXPECT_EQ(HexOf(c.Value(un.handle)), HexOf(Hex(v.key)));
  }
}

}  // namespace

void RunAesKeyWrap(Ctx& c, CK_MECHANISM_TYPE m) {
  const Bytes kek = Random(16);
  CK_OBJECT_HANDLE key = c.Secret(CKK_AES, kek);
  CK_MECHANISM mech{m, nullptr, 0};
  if (c.Has(CKF_ENCRYPT | CKF_DECRYPT)) {
    SCOPED_TRACE("encrypt/decrypt");
    const Bytes plain = Random(m == CKM_AES_KEY_WRAP ? 40 : 21);
    const Bytes expected = Reference(m, kek, plain);
    ASSERT_FALSE(expected.empty()) << "OpenSSL could not wrap";
    Bytes ct = c.EncryptDecrypt(&mech, key, plain, expected);
    EXPECT_CKR(CKR_ENCRYPTED_DATA_INVALID, c.Decrypt(&mech, key, Tampered(ct, 3)).rv)
        << "the integrity check must catch a change";
  }
  if (c.Has(CKF_WRAP | CKF_UNWRAP)) {
    SCOPED_TRACE("wrap/unwrap");
    const Bytes target = Random(24);
    c.WrapUnwrap(&mech, key, key, target, Reference(m, kek, target), Reference(m, kek, target), true);
    for (const WrapVector& v : kVectors)
      if (v.mech == m) VectorCheck(c, v);
  }
}

void RunAesMac(Ctx& c, CK_MECHANISM_TYPE m) {
  const bool cmac = m == CKM_AES_CMAC || m == CKM_AES_CMAC_GENERAL;
  const bool general = m == CKM_AES_CMAC_GENERAL || m == CKM_AES_MAC_GENERAL;
  const Bytes key = Random(cmac ? 32 : 24), msg = Random(37);
  CK_OBJECT_HANDLE k = c.Secret(CKK_AES, key);
  Bytes full;
  size_t len = 16;
  if (cmac) {
    full = Cmac(key, msg);
  } else {
    // CBC-MAC: AES-CBC with a zero IV over the data zero-padded to whole blocks; the
    // MAC is the start of the last block (8 bytes for CKM_AES_MAC, PKCS #11 §2.10).
    Bytes padded = msg;
    padded.resize((msg.size() + 15) / 16 * 16, 0);
    Bytes cbc = Cipher(nullptr, Aes(key.size(), "CBC"), true, key, Bytes(16, 0), padded, false);
    ASSERT_GE(cbc.size(), 16u);
    full.assign(cbc.end() - 16, cbc.end());
    len = 8;
  }
  ASSERT_EQ(full.size(), 16u) << "OpenSSL could not compute the MAC";
  CK_MAC_GENERAL_PARAMS general_len = 12;
  if (general) len = general_len;
  CK_MECHANISM mech{m, general ? &general_len : nullptr, general ? sizeof general_len : 0};
  Bytes tag = c.SignVerify(&mech, k, k, msg);
  EXPECT_EQ(HexOf(tag), HexOf(Bytes(full.begin(), full.begin() + static_cast<long>(len)))) << "MAC differs from OpenSSL's";
}

}  // namespace ferrohsm::abi::roundtrip
