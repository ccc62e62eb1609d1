// import-p12 as a library: PKCS#12 files made in-process with OpenSSL, imported into the
// module under test, then used by a slot server; bad inputs leave the token unchanged.
#include <ferrohsm/client/import_p12.h>
#include <ferrohsm/client/module.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>

#include "support/fixtures.h"

using namespace fhc_test;

namespace {

// A self-signed certificate for a fresh key of `type` ("RSA", "EC", "ED25519"), in a PKCS#12 file.
std::string make_p12(const std::string& type, const std::string& password, const std::string& name) {
  EVP_PKEY* key = type == "RSA"  ? EVP_RSA_gen(2048)
                  : type == "EC" ? EVP_EC_gen("P-256")
                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ferrohsm test"), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  X509_sign(cert, key, type == "ED25519" ? nullptr : EVP_sha256());
  PKCS12* p12 = PKCS12_create(password.c_str(), "test", key, cert, nullptr, 0, 0, 0, 0, 0);
  std::string path = store_dir() + "/" + name + ".p12";
  FILE* f = std::fopen(path.c_str(), "wb");
  i2d_PKCS12_fp(f, p12);
  std::fclose(f);
  PKCS12_free(p12);
  X509_free(cert);
  EVP_PKEY_free(key);
  return path;
}

class ImportP12Test : public ::testing::Test {
 protected:
  void SetUp() override {
    init_token(module_path(), "client-test");
    auto m = fc::Module::load(module_path());
    ASSERT_TRUE(m.ok());
    module = *m;
    auto slot = module->find_token("client-test");
    ASSERT_TRUE(slot.ok());
    auto s = module->open_session(*slot, true);
    ASSERT_TRUE(s.ok());
    session.emplace(std::move(s).value());
    ASSERT_TRUE(session->login(CKU_USER, fc::Secret(kUserPin)).ok());
  }
  std::size_t object_count() {
    auto all = session->find({}, 64);
    EXPECT_TRUE(all.ok());
    return all.ok() ? all->size() : 0;
  }
  CK_BBOOL bool_attr(const std::string& label, CK_OBJECT_CLASS klass, CK_ATTRIBUTE_TYPE type) {
    CK_ATTRIBUTE templ[] = {{CKA_CLASS, &klass, sizeof klass}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    auto found = session->find(templ, 2);
    EXPECT_TRUE(found.ok() && found->size() == 1);
    auto v = session->attribute(found->front(), type);
    EXPECT_TRUE(v.ok() && v->size() == 1);
    return (*v)[0];
  }
  std::shared_ptr<fc::Module> module;
  std::optional<fc::Session> session;
};


TEST_F(ImportP12Test, ImportsRsaAndEcAndTheKeysSign) {
  for (std::string type : {"RSA", "EC"}) {
    std::string label = "imported-" + type;
    auto contents = fc::read_p12(make_p12(type, "pw-" + type, type), fc::Secret("pw-" + type));
    ASSERT_TRUE(contents.ok()) << contents.error().message;
    auto r = fc::import_p12(*session, *contents, fc::ImportRequest{label, "", {0x01, 0x02}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(bool_attr(label, CKO_PRIVATE_KEY, CKA_SENSITIVE), CK_TRUE);
    EXPECT_EQ(bool_attr(label, CKO_PRIVATE_KEY, CKA_EXTRACTABLE), CK_FALSE);
    EXPECT_EQ(bool_attr(label, CKO_CERTIFICATE, CKA_TOKEN), CK_TRUE);  // cert label defaults to the key label
  }
  auto c = slot_config("imported", module_path());
  c.keys = {{"rsa", "imported-RSA"}, {"ec", "imported-EC"}};
  fc::SlotServer server(std::make_shared<const fc::SlotConfig>(c), 1, nullptr);
  ASSERT_TRUE(server.start().ok());
  auto rsa = server.sign("rsa", kData, mech(CKM_SHA256_RSA_PKCS), fc::Secret(kUserPin));
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_TRUE(*server.verify("rsa", kData, *rsa, mech(CKM_SHA256_RSA_PKCS)));
  auto ec = server.sign("ec", kDigest, mech(CKM_ECDSA));
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_TRUE(*server.verify("ec", kDigest, *ec, mech(CKM_ECDSA)));
}

TEST_F(ImportP12Test, WrongPasswordIsClearAndChangesNothing) {
  std::size_t before = object_count();
  auto contents = fc::read_p12(make_p12("RSA", "right", "wrongpw"), fc::Secret("wrong"));
  ASSERT_FALSE(contents.ok());
  EXPECT_NE(contents.error().message.find("wrong password"), std::string::npos) << contents.error().message;
  EXPECT_EQ(contents.error().message.find("right"), std::string::npos);
  EXPECT_EQ(object_count(), before);
}

TEST_F(ImportP12Test, UnsupportedKeyTypeIsClear) {
  auto contents = fc::read_p12(make_p12("ED25519", "pw", "ed"), fc::Secret("pw"));
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.error().kind, fc::ErrorKind::invalid_argument);
  EXPECT_NE(contents.error().message.find("unsupported key type ED25519"), std::string::npos) << contents.error().message;
}

TEST_F(ImportP12Test, LabelInUseIsRefusedAndChangesNothing) {
  auto contents = fc::read_p12(make_p12("EC", "pw", "dup"), fc::Secret("pw"));
  ASSERT_TRUE(contents.ok());
  ASSERT_TRUE(fc::import_p12(*session, *contents, fc::ImportRequest{"taken", "", {}}).ok());
  std::size_t before = object_count();
  EXPECT_EQ(before, 3u);  // private key, public key, certificate
  auto again = fc::import_p12(*session, *contents, fc::ImportRequest{"other", "taken", {}});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("label 'taken' is already in use"), std::string::npos);
  EXPECT_EQ(object_count(), before);
}
}  // namespace
