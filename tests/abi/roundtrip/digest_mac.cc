// Digests (single-part, multi-part and C_DigestKey) and HMACs (full and _GENERAL
// truncated tags) through the C ABI, each compared with OpenSSL's result.
#include "roundtrip/cases.h"
#include "roundtrip/ossl.h"

namespace ferrohsm::abi::roundtrip {
namespace {

struct DigestSpec {
  CK_MECHANISM_TYPE mech;
  const char* md;
};
constexpr DigestSpec kDigests[] = {
    {CKM_MD5, "MD5"},           {CKM_SHA_1, "SHA1"},         {CKM_SHA224, "SHA224"},
    {CKM_SHA256, "SHA256"},     {CKM_SHA384, "SHA384"},      {CKM_SHA512, "SHA512"},
    {CKM_SHA512_224, "SHA512-224"}, {CKM_SHA512_256, "SHA512-256"}, {CKM_SHA3_224, "SHA3-224"},
    {CKM_SHA3_256, "SHA3-256"}, {CKM_SHA3_384, "SHA3-384"},  {CKM_SHA3_512, "SHA3-512"},
};

struct HmacSpec {
  CK_MECHANISM_TYPE mech;
  const char* md;
  bool general;
};
constexpr HmacSpec kHmacs[] = {
    {CKM_SHA_1_HMAC, "SHA1", false},           {CKM_SHA_1_HMAC_GENERAL, "SHA1", true},
    {CKM_SHA224_HMAC, "SHA224", false},        {CKM_SHA224_HMAC_GENERAL, "SHA224", true},
    {CKM_SHA256_HMAC, "SHA256", false},        {CKM_SHA256_HMAC_GENERAL, "SHA256", true},
    {CKM_SHA384_HMAC, "SHA384", false},        {CKM_SHA384_HMAC_GENERAL, "SHA384", true},
    {CKM_SHA512_HMAC, "SHA512", false},        {CKM_SHA512_HMAC_GENERAL, "SHA512", true},
    {CKM_SHA3_224_HMAC, "SHA3-224", false},    {CKM_SHA3_224_HMAC_GENERAL, "SHA3-224", true},
    {CKM_SHA3_256_HMAC, "SHA3-256", false},    {CKM_SHA3_256_HMAC_GENERAL, "SHA3-256", true},
    {CKM_SHA3_384_HMAC, "SHA3-384", false},    {CKM_SHA3_384_HMAC_GENERAL, "SHA3-384", true},
    {CKM_SHA3_512_HMAC, "SHA3-512", false},    {CKM_SHA3_512_HMAC_GENERAL, "SHA3-512", true},
    {CKM_MD5_HMAC, "MD5", false},              {CKM_MD5_HMAC_GENERAL, "MD5", true},  // legacy
};

}  // namespace

void RunDigest(Ctx& c, CK_MECHANISM_TYPE m) {
  const DigestSpec* spec = nullptr;
  for (const DigestSpec& d : kDigests)
    if (d.mech == m) spec = &d;
  ASSERT_NE(spec, nullptr) << "no digest case for this mechanism";
  c.Did(CKF_DIGEST);
  CK_MECHANISM mech{m, nullptr, 0};
  Bytes msg = Random(100);
  const Bytes expected = OsslDigest(spec->md, msg);
  ASSERT_FALSE(expected.empty()) << "OpenSSL has no " << spec->md;
  Out one = c.Digest(&mech, msg);
  EXPECT_CKR_OK(one.rv) << "C_Digest";
  EXPECT_EQ(HexOf(one.bytes), HexOf(expected)) << "single-part digest";

  // Multi-part, with a secret key's value digested in the middle (C_DigestKey).
  const Bytes secret = Random(24);
  CK_OBJECT_HANDLE key = c.Secret(CKK_GENERIC_SECRET, secret);
  ASSERT_CKR_OK(c.f->C_DigestInit(c.s, &mech));
  EXPECT_CKR_OK(c.f->C_DigestUpdate(c.s, msg.data(), 30));
  EXPECT_CKR_OK(c.f->C_DigestKey(c.s, key));
  EXPECT_CKR_OK(c.f->C_DigestUpdate(c.s, msg.data() + 30, msg.size() - 30));
  Bytes out(64);
  CK_ULONG len = out.size();
  EXPECT_CKR_OK(c.f->C_DigestFinal(c.s, out.data(), &len));
  out.resize(len);
  // Made in its final size (inserting into a growing vector drew a false -Warray-bounds
  // from GCC 12 in the release build).
  Bytes joined(msg.size() + secret.size());
  auto at = std::copy(msg.begin(), msg.begin() + 30, joined.begin());
  at = std::copy(secret.begin(), secret.end(), at);
  std::copy(msg.begin() + 30, msg.end(), at);
  EXPECT_EQ(HexOf(out), HexOf(OsslDigest(spec->md, joined))) << "multi-part digest with C_DigestKey";
}

void RunHmac(Ctx& c, CK_MECHANISM_TYPE m) {
  const HmacSpec* spec = nullptr;
  for (const HmacSpec& h : kHmacs)
    if (h.mech == m) spec = &h;
  ASSERT_NE(spec, nullptr) << "no HMAC case for this mechanism";
  const Bytes key = Random(32), msg = Random(90);
  CK_OBJECT_HANDLE k = c.Secret(CKK_GENERIC_SECRET, key);
  CK_MAC_GENERAL_PARAMS tag_len = 10;
  CK_MECHANISM mech{m, spec->general ? &tag_len : nullptr, spec->general ? sizeof tag_len : 0};
  Bytes expected = OsslHmac(spec->md, key, msg);
  ASSERT_FALSE(expected.empty()) << "OpenSSL has no HMAC-" << spec->md;
  if (spec->general) expected.resize(tag_len);
  Bytes tag = c.SignVerify(&mech, k, k, msg);
  EXPECT_EQ(HexOf(tag), HexOf(expected)) << "HMAC differs from OpenSSL's";
}

}  // namespace ferrohsm::abi::roundtrip
