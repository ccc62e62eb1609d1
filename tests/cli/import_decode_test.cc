#include "core/key_import.h"

#include "core/mech/curves.h"
#include "core/mech/key.h"
#include "test_keys.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>

namespace ferrohsm::cli {
namespace {

using test::make_key;

ByteView view(const std::string& s) { return as_bytes(s); }

// The imported attributes rebuild exactly the original key (private and public).
void expect_same_key(EVP_PKEY* original, CK_OBJECT_CLASS cls, const AttrMap& attrs) {
  auto rebuilt = mech::key_from_attributes(cls, attrs);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message;
  EXPECT_EQ(EVP_PKEY_eq(original, (*rebuilt)->pkey), 1);
}

struct Case {
  const char* kind;
  CK_KEY_TYPE key_type;
  const char* curve;  // nullptr for RSA
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.kind; }

class ImportKey : public ::testing::TestWithParam<Case> {};

TEST_P(ImportKey, Pkcs8PemAndDerGivePrivateAndPublicObjects) {
  const Case& c = GetParam();
  auto key = make_key(c.kind);
  for (const std::string& encoded : {test::pkcs8_pem(key.get()), test::pkcs8_der(key.get())}) {
    auto r = decode_import(view(encoded), "test");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->objects.size(), 2u);
    const AttrMap& priv = r->objects[0];
    const AttrMap& pub = r->objects[1];
    EXPECT_EQ(priv.get_ulong(CKA_CLASS), CKO_PRIVATE_KEY);
    EXPECT_EQ(pub.get_ulong(CKA_CLASS), CKO_PUBLIC_KEY);
    EXPECT_EQ(priv.get_ulong(CKA_KEY_TYPE), c.key_type);
    // Usages and sensitivity are the caller's (key import, the REST keys:import).
    EXPECT_FALSE(priv.has(CKA_SIGN));
    EXPECT_FALSE(priv.has(CKA_SENSITIVE));
    EXPECT_FALSE(pub.has(CKA_VERIFY));
    EXPECT_EQ(r->default_id.size(), 20u);
    expect_same_key(key.get(), CKO_PRIVATE_KEY, priv);
    expect_same_key(key.get(), CKO_PUBLIC_KEY, pub);
    if (c.curve != nullptr) {
      const mech::Curve* curve = mech::curve_by_ossl_name(c.curve);
      ASSERT_NE(curve, nullptr);
      EXPECT_TRUE(std::ranges::equal(priv.view(CKA_EC_PARAMS), curve->oid_der));
      EXPECT_EQ(priv.view(CKA_VALUE).size(), curve->field_bytes);
      ByteView point = pub.view(CKA_EC_POINT);
      ASSERT_GT(point.size(), 2u);
      EXPECT_EQ(point[0], 0x04);  // DER OCTET STRING
      size_t raw = c.key_type == CKK_EC ? 1 + 2 * curve->field_bytes : curve->field_bytes;
      EXPECT_EQ(point.size(), raw + (raw < 0x80 ? 2 : 3));
      if (c.key_type == CKK_EC) {
        EXPECT_EQ(point[point.size() - raw], 0x04);  // uncompressed point
      }
    } else {
      for (CK_ATTRIBUTE_TYPE t : {CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT})
        EXPECT_FALSE(priv.view(t).empty()) << t;
    }
  }
}

TEST_P(ImportKey, PublicKeyPemAndDerGiveOnePublicObject) {
  const Case& c = GetParam();
  auto key = make_key(c.kind);
  for (const std::string& encoded : {test::spki_pem(key.get()), test::spki_der(key.get())}) {
    auto r = decode_import(view(encoded), "test");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->objects.size(), 1u);
    EXPECT_EQ(r->objects[0].get_ulong(CKA_CLASS), CKO_PUBLIC_KEY);
    expect_same_key(key.get(), CKO_PUBLIC_KEY, r->objects[0]);
  }
}

TEST_P(ImportKey, CertificateGetsSubjectIssuerSerialValueAndTheKeysId) {
  const Case& c = GetParam();
  auto key = make_key(c.kind);
  auto from_key = decode_import(view(test::pkcs8_pem(key.get())), "key");
  ASSERT_TRUE(from_key.ok());
  const test::CertEncodings cert = test::self_signed_cert(key.get(), "cli test");
  const std::string& der = cert.der;
  for (const std::string& encoded : {cert.pem, cert.der}) {
    auto r = decode_import(view(encoded), "cert");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->objects.size(), 1u);
    const AttrMap& a = r->objects[0];
    EXPECT_EQ(a.get_ulong(CKA_CLASS), CKO_CERTIFICATE);
    EXPECT_EQ(a.get_ulong(CKA_CERTIFICATE_TYPE), CKC_X_509);
    EXPECT_EQ(a.view(CKA_SUBJECT).size(), a.view(CKA_ISSUER).size());
    EXPECT_TRUE(std::ranges::equal(a.view(CKA_SUBJECT), a.view(CKA_ISSUER)));  // self-signed
    const uint8_t serial[] = {0x02, 0x04, 0x01, 0x23, 0x45, 0x67};              // DER INTEGER 0x1234567
    EXPECT_TRUE(std::ranges::equal(a.view(CKA_SERIAL_NUMBER), ByteView(serial)));
    EXPECT_TRUE(std::ranges::equal(a.view(CKA_VALUE), view(der)));
    EXPECT_EQ(r->default_id, from_key->default_id);  // key and certificate share the id
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, ImportKey,
                         ::testing::Values(Case{"rsa", CKK_RSA, nullptr}, Case{"p256", CKK_EC, "prime256v1"},
                                           Case{"p384", CKK_EC, "secp384r1"}, Case{"p521", CKK_EC, "secp521r1"},
                                           Case{"ed25519", CKK_EC_EDWARDS, "ED25519"},
                                           Case{"ed448", CKK_EC_EDWARDS, "ED448"}),
                         [](const auto& info) { return std::string(info.param.kind); });

TEST(ImportFile, GarbageIsRefusedWithAReason) {
  auto r = decode_import(view("hello, world\n"), "junk.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rv, CKR_ARGUMENTS_BAD);
  EXPECT_NE(r.error().message.find("junk.txt"), std::string::npos);
}

TEST(ImportFile, TruncatedDerIsRefused) {
  auto key = make_key("p256");
  std::string der = test::pkcs8_der(key.get());
  der.resize(der.size() - 5);
  EXPECT_FALSE(decode_import(view(der), "t").ok());
}

TEST(ImportFile, EncryptedPkcs8IsRefusedWithAHint) {
  auto key = make_key("p256");
  auto r = decode_import(view(test::encrypted_pkcs8_pem(key.get())), "enc.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("encrypted"), std::string::npos) << r.error().message;
}

TEST(ImportFile, UnsupportedKeyTypeIsNamed) {
  auto key = make_key("x25519");
  auto r = decode_import(view(test::pkcs8_pem(key.get())), "x.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not supported"), std::string::npos) << r.error().message;
}

TEST(ImportFile, MissingFileIsAUsageError) {
  auto r = read_import_file("/nonexistent/ferrohsm/key.pem");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rv, CKR_ARGUMENTS_BAD);
  EXPECT_NE(r.error().message.find("cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace ferrohsm::cli
