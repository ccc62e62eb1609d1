// The daemon end to end: the built ferrohsm-signer with no configuration, driven by
// curl over loopback; every signature is checked with the openssl CLI against the
// published PEM. HTTPS with client certificates; providers this build lacks. The same
// flow on the pkcs11 provider is daemon_pkcs11_e2e_test.cc.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/base64.h"
#include "support/daemon_driver.h"

namespace ferrohsm::signer::testing {
namespace {

using nlohmann::json;

TEST(Daemon, NoConfigurationSoftwareProviderRotatesAndVerifiesWithOpenssl) {
  TempDir dir;
  Daemon daemon(FERROHSM_SIGNER_BIN, dir);
  ASSERT_TRUE(daemon.up()) << daemon.log();

  auto live = daemon.curl_json("GET", "/livez", 200, "");
  EXPECT_EQ(live["dev_only"], true);
  EXPECT_NE(live.value("warning", "").find("dev-only"), std::string::npos);
  EXPECT_EQ(daemon.curl_json("GET", "/readyz", 200, "")["ready"], true);

  // generate, sign, rotation open/activate/close, each signature verified by openssl.
  auto [first, second] = rotate_and_verify(daemon, dir, "software:payments|");
  auto jwks = daemon.curl_json("GET", "/v1/jwks", 200, "");
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["kid"], second);
  auto [mstatus, metrics] = daemon.curl("GET", "/metrics");
  EXPECT_EQ(mstatus, 200);
  EXPECT_NE(metrics.find("ferrohsm_signer_keys{state=\"retired\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("ferrohsm_signer_dev_only 1"), std::string::npos);

  EXPECT_EQ(daemon.stop(), 0);
  std::string log = daemon.log();
  std::size_t dev_only_lines = 0;
  for (std::size_t at = log.find("dev-only"); at != std::string::npos; at = log.find("dev-only", at + 1)) dev_only_lines++;
  EXPECT_EQ(dev_only_lines, 1u) << log;

  // Restart on the same state: the active key and its signatures carry over.
  Daemon again(FERROHSM_SIGNER_BIN, dir);
  ASSERT_TRUE(again.up()) << again.log();
  EXPECT_EQ(sign_and_verify_with_openssl(again, dir, "payments", "after restart"), second);
  auto keys = again.curl_json("GET", "/v1/scopes/payments/keys", 200, "");
  ASSERT_EQ(keys["keys"].size(), 2u);
  EXPECT_EQ(keys["keys"][0]["state"], "retired");
  EXPECT_EQ(keys["keys"][1]["state"], "active");
}

// openssl CLI: a CA, a server certificate for 127.0.0.1 and a client certificate.
void make_pki(const TempDir& dir) {
  auto run = [](std::vector<std::string> argv) {
    auto r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
  };
  std::string ext = "subjectAltName=IP:127.0.0.1\n";
  write_file(dir.file("ext.cnf"), as_bytes(ext));
  run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       dir.file("ca.key"), "-out", dir.file("ca.pem"), "-days", "1", "-subj", "/CN=signer-test-ca"});
  for (std::string who : {"server", "client"}) {
    run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         dir.file(who + ".key"), "-out", dir.file(who + ".csr"), "-subj", "/CN=" + who});
    run({"openssl", "x509", "-req", "-in", dir.file(who + ".csr"), "-CA", dir.file("ca.pem"), "-CAkey",
         dir.file("ca.key"), "-CAcreateserial", "-out", dir.file(who + ".pem"), "-days", "1", "-extfile",
         dir.file("ext.cnf")});
  }
}

TEST(Daemon, HttpsWithClientCertificates) {
  TempDir dir;
  make_pki(dir);
  if (HasFatalFailure()) return;
  // TLS lets the daemon leave loopback; the test still binds 127.0.0.1.
  Daemon daemon(FERROHSM_SIGNER_BIN, dir,
                {"--tls-cert", dir.file("server.pem"), "--tls-key", dir.file("server.key"), "--tls-client-ca",
                 dir.file("ca.pem")},
                {}, "https");
  ASSERT_TRUE(daemon.up()) << daemon.log();
  std::vector<std::string> base = {"curl", "-sS", "--max-time", "10", "--cacert", dir.file("ca.pem"), "-o",
                                   dir.file("out"), "-w", "%{http_code}"};
  auto with_cert = base;
  with_cert.insert(with_cert.end(),
                   {"--cert", dir.file("client.pem"), "--key", dir.file("client.key"), daemon.base() + "/livez"});
  auto ok = run_command(with_cert);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "200");
  EXPECT_NE(read_text_file(dir.file("out")).find("\"status\""), std::string::npos);
  auto without = base;
  without.push_back(daemon.base() + "/livez");
  auto refused = run_command(without);
  EXPECT_NE(refused.out, "200") << "a client without a certificate got through";
  auto plain = run_command({"curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                            "http" + daemon.base().substr(5) + "/livez"});
  EXPECT_NE(plain.out, "200");
}

// ferrohsm-signer-without-cloud is the daemon as a build without the three cloud options
// compiles it: selecting one stops the start with the option to rebuild with.
TEST(Daemon, MissingProvidersRefuseToStart) {
  TempDir dir;
  struct Case {
    std::string provider, needle;
  } cases[] = {{"aws-kms", "rebuild with -DFERROHSM_SIGNER_AWS_KMS=ON"},
               {"gcp-kms", "rebuild with -DFERROHSM_SIGNER_GCP_KMS=ON"},
               {"azure-kv", "rebuild with -DFERROHSM_SIGNER_AZURE_KV=ON"},
               {"hsm9000", "unknown key provider"}};
  for (const auto& c : cases) {
    auto r = run_command({FERROHSM_SIGNER_WITHOUT_CLOUD_BIN, "--key-provider=" + c.provider, "--listen", "127.0.0.1:0"},
                         std::chrono::seconds(10), {{"XDG_DATA_HOME", dir.file("xdg")}});
    EXPECT_EQ(r.exit_code, 2) << c.provider;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("dev-only"), std::string::npos) << "fell back to the software provider: " << r.err;
  }
  auto list = run_command({FERROHSM_SIGNER_WITHOUT_CLOUD_BIN, "--list-providers"});
  EXPECT_EQ(list.exit_code, 0);
  for (auto name : {"software", "pkcs11", "aws-kms", "gcp-kms", "azure-kv"})
    EXPECT_NE(list.out.find(name), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("aws-kms   not compiled in  (rebuild with -DFERROHSM_SIGNER_AWS_KMS=ON)"), std::string::npos)
      << list.out;
}

}  // namespace
}  // namespace ferrohsm::signer::testing
