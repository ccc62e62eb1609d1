// Imports keys and certificates made by the `openssl` command (label interop).
#include "cli_fixture.h"

namespace ferrohsm::cli::test {
namespace {

class OpensslImport : public CliTest {
 protected:
  void openssl(const std::vector<std::string>& args) {
    RunResult r = run_program("/usr/bin/openssl", args, {}, 120);
    ASSERT_EQ(r.exit_code, 0) << "openssl " << args[0] << ": " << describe(r);
  }
};

TEST_F(OpensslImport, GenpkeyKeysAndReqCertificate) {
  init_token("ossl");
  struct KeyFile {
    std::string name;
    std::vector<std::string> genpkey;
    std::string key_type;
    unsigned bits;
  };
  const std::vector<KeyFile> keys = {
      {"rsa", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, "rsa", 2048},
      {"p256", {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, "ec", 256},
      {"p521", {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"}, "ec", 521},
      {"ed25519", {"-algorithm", "ED25519"}, "ec-edwards", 255},
      {"ed448", {"-algorithm", "ED448"}, "ec-edwards", 448},
  };
  for (const KeyFile& k : keys) {
    std::vector<std::string> args = {"genpkey"};
    args.insert(args.end(), k.genpkey.begin(), k.genpkey.end());
    std::string pem = dir_.file(k.name + ".pem");
    args.insert(args.end(), {"-out", pem});
    openssl(args);
    auto doc = json_ok({"key", "import", "--file", pem, "--label", "ossl-" + k.name});
    EXPECT_EQ(doc["objects"].size(), 2u) << k.name;
  }
  // DER PKCS#8 and a public key alone.
  std::string der = dir_.file("p256.der");
  openssl({"pkcs8", "-topk8", "-nocrypt", "-in", dir_.file("p256.pem"), "-outform", "DER", "-out", der});
  json_ok({"key", "import", "--file", der, "--label", "ossl-der"});
  std::string pub = dir_.file("rsa.pub.pem");
  openssl({"pkey", "-in", dir_.file("rsa.pem"), "-pubout", "-out", pub});
  auto pub_doc = json_ok({"key", "import", "--file", pub, "--label", "ossl-pub"});
  EXPECT_EQ(pub_doc["kind"], "public key (rsa)");
  // A self-signed certificate for the P-256 key.
  std::string cert = dir_.file("cert.pem");
  openssl({"req", "-x509", "-key", dir_.file("p256.pem"), "-subj", "/CN=ferrohsm cli test", "-days", "2", "-out", cert});
  auto cert_doc = json_ok({"key", "import", "--file", cert, "--label", "ossl-cert"});
  EXPECT_EQ(cert_doc["kind"], "certificate");

  auto list = json_ok({"key", "list"});
  std::map<std::string, nlohmann::json> by_label_class;
  for (const auto& o : list["objects"]) by_label_class[o["label"].get<std::string>() + "/" + o["class"].get<std::string>()] = o;
  for (const KeyFile& k : keys) {
    for (const char* cls : {"private-key", "public-key"}) {
      auto it = by_label_class.find("ossl-" + k.name + "/" + cls);
      ASSERT_NE(it, by_label_class.end()) << k.name << " " << cls;
      EXPECT_EQ(it->second["key_type"], k.key_type);
      EXPECT_EQ(it->second["bits"], k.bits);
    }
  }
  // The certificate, the P-256 key (PEM and DER) share the id: SHA-1 of the key's SubjectPublicKeyInfo.
  EXPECT_EQ(by_label_class["ossl-cert/certificate"]["id"], by_label_class["ossl-p256/private-key"]["id"]);
  EXPECT_EQ(by_label_class["ossl-der/private-key"]["id"], by_label_class["ossl-p256/private-key"]["id"]);
  EXPECT_EQ(by_label_class["ossl-pub/public-key"]["id"], by_label_class["ossl-rsa/public-key"]["id"]);
}

TEST_F(OpensslImport, EncryptedPkcs8IsRefused) {
  init_token("enc");
  std::string pem = dir_.file("enc.pem");
  std::string pass = dir_.write("pass", "secret-passphrase\n");
  openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass",
           "file:" + pass, "-out", pem});
  RunResult r = run_with_pins({"key", "import", "--file", pem, "--label", "enc"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("encrypted"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ferrohsm::cli::test
