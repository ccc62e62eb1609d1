// The daemon end to end: the built ferrohsm-signer with no configuration, driven by
// curl over loopback; every signature is checked with the openssl CLI against the
// published PEM.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "ferrohsm/signer/encoding.h"
#include "support/process.h"
#include "support/reference.h"

namespace ferrohsm::signer::testing {
namespace {

using nlohmann::json;

class Daemon {
 public:
  Daemon(const TempDir& dir, std::vector<std::string> extra_args = {}, std::map<std::string, std::string> env = {},
         const std::string& scheme = "http")
      : dir_(dir) {
    std::remove(dir.file("port").c_str());
    std::vector<std::string> argv = {FERROHSM_SIGNER_BIN, "--listen", "127.0.0.1:0", "--port-file", dir.file("port")};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    env["XDG_DATA_HOME"] = dir.file("xdg");
    child_ = std::make_unique<ChildProcess>(argv, env, dir.file("daemon.log"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline && child_->running()) {
      std::string port = read_text_file(dir.file("port"));
      if (!port.empty()) {
        base_ = scheme + "://127.0.0.1:" + port.substr(0, port.find('\n'));
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Daemon() { stop(); }
  int stop() { return child_ ? child_->stop() : -1; }
  bool up() const { return !base_.empty(); }
  std::string log() const { return read_text_file(dir_.file("daemon.log")); }
  const std::string& base() const { return base_; }

  // curl: returns (HTTP status, body).
  std::pair<int, std::string> curl(const std::string& method, const std::string& path, const std::string& body = "") {
    std::vector<std::string> argv = {"curl", "-sS", "-X", method, "-o", dir_.file("curl.out"), "-w", "%{http_code}",
                                     "--max-time", "10", base_ + path};
    if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "-d", body});
    auto r = run_command(argv);
    if (r.exit_code != 0) return {0, r.err};
    return {std::stoi(r.out), read_text_file(dir_.file("curl.out"))};
  }
  json curl_json(const std::string& method, const std::string& path, int expect, const std::string& body = "{}") {
    auto [status, text] = curl(method, path, body);
    EXPECT_EQ(status, expect) << method << " " << path << ": " << text;
    return json::parse(text, nullptr, false);
  }

 private:
  const TempDir& dir_;
  std::unique_ptr<ChildProcess> child_;
  std::string base_;
};

// Signs `message`'s SHA-512 through the daemon and verifies it with `openssl pkeyutl`
// against the PEM the daemon publishes for the key id it reports. Returns the key id.
std::string sign_and_verify_with_openssl(Daemon& daemon, const TempDir& dir, const std::string& scope,
                                         const std::string& message) {
  Digest d = sha512_of(message);
  auto sig = daemon.curl_json("POST", "/v1/scopes/" + scope + "/sign", 200, json{{"digest", to_base64(d)}}.dump());
  std::string key_id = sig.value("key_id", "");
  auto sig_bytes = from_base64(sig.value("signature", ""));
  EXPECT_TRUE(sig_bytes && sig_bytes->size() == 64);
  if (!sig_bytes) return key_id;
  auto [pem_status, pem] = daemon.curl("GET", "/v1/scopes/" + scope + "/keys/" + key_id + ".pem");
  EXPECT_EQ(pem_status, 200);
  write_file(dir.file("pub.pem"), std::span(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()));
  write_file(dir.file("digest.bin"), d);
  write_file(dir.file("sig.bin"), *sig_bytes);
  auto ok = run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.file("pub.pem"), "-rawin", "-in",
                         dir.file("digest.bin"), "-sigfile", dir.file("sig.bin")});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("Signature Verified Successfully"), std::string::npos) << ok.out;
  // The same signature must not verify for another digest.
  write_file(dir.file("digest.bin"), sha512_of(message + "!"));
  auto bad = run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir.file("pub.pem"), "-rawin", "-in",
                          dir.file("digest.bin"), "-sigfile", dir.file("sig.bin")});
  EXPECT_NE(bad.exit_code, 0);
  return key_id;
}

TEST(Daemon, NoConfigurationSoftwareProviderRotatesAndVerifiesWithOpenssl) {
  TempDir dir;
  Daemon daemon(dir);
  ASSERT_TRUE(daemon.up()) << daemon.log();

  auto live = daemon.curl_json("GET", "/livez", 200, "");
  EXPECT_EQ(live["dev_only"], true);
  EXPECT_NE(live.value("warning", "").find("dev-only"), std::string::npos);
  EXPECT_EQ(daemon.curl_json("GET", "/readyz", 200, "")["ready"], true);

  auto gen = daemon.curl_json("POST", "/v1/scopes/payments/keys", 201);
  std::string first = gen.value("key_id", "");
  EXPECT_EQ(gen["handle_id"], "software:payments|" + first);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "one"), first);

  auto opened = daemon.curl_json("POST", "/v1/scopes/payments/rotation/open", 201);
  std::string second = opened.value("key_id", "");
  EXPECT_NE(second, first);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "two"), first);
  daemon.curl_json("POST", "/v1/scopes/payments/rotation/activate", 200);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "three"), second);
  auto closed = daemon.curl_json("POST", "/v1/scopes/payments/rotation/close", 200);
  EXPECT_EQ(closed["key_id"], first);
  EXPECT_EQ(closed["state"], "retired");
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "four"), second);

  auto retired = daemon.curl_json("POST", "/v1/scopes/payments/sign", 409,
                                  json{{"digest", to_base64(sha512_of("x"))}, {"key_id", first}}.dump());
  EXPECT_EQ(retired["error"]["kind"], "key_retired");
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
  Daemon again(dir);
  ASSERT_TRUE(again.up()) << again.log();
  EXPECT_EQ(sign_and_verify_with_openssl(again, dir, "payments", "after restart"), second);
  auto keys = again.curl_json("GET", "/v1/scopes/payments/keys", 200, "");
  ASSERT_EQ(keys["keys"].size(), 2u);
  EXPECT_EQ(keys["keys"][0]["state"], "retired");
  EXPECT_EQ(keys["keys"][1]["state"], "active");
}

// Rotation with curl, verified with openssl: the same commands on whichever provider.
// Returns the first (now retired) and the second (active) key id.
std::pair<std::string, std::string> rotate_and_verify(Daemon& daemon, const TempDir& dir, const std::string& handle_prefix) {
  auto gen = daemon.curl_json("POST", "/v1/scopes/payments/keys", 201);
  std::string first = gen.value("key_id", "");
  EXPECT_EQ(gen.value("handle_id", ""), handle_prefix + first);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "one"), first);
  auto opened = daemon.curl_json("POST", "/v1/scopes/payments/rotation/open", 201);
  std::string second = opened.value("key_id", "");
  daemon.curl_json("POST", "/v1/scopes/payments/rotation/activate", 200);
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "two"), second);
  auto closed = daemon.curl_json("POST", "/v1/scopes/payments/rotation/close", 200);
  EXPECT_EQ(closed["state"], "retired");
  EXPECT_EQ(sign_and_verify_with_openssl(daemon, dir, "payments", "three"), second);
  EXPECT_EQ(daemon.curl_json("GET", "/readyz", 200, "")["ready"], true);
  return {first, second};
}

TEST(Daemon, Pkcs11ProviderOnSoftHsm) {
  if (std::string(FERROHSM_SIGNER_PKCS11) != "1") GTEST_SKIP() << "this build has no pkcs11 provider";
  if (access("/usr/lib/softhsm/libsofthsm2.so", R_OK) != 0) GTEST_SKIP() << "SoftHSMv2 is not installed";
  TempDir dir;
  std::filesystem::create_directories(dir.file("tokens"));
  std::string conf = dir.file("softhsm2.conf");
  std::string conf_text = "directories.tokendir = " + dir.file("tokens") + "\nobjectstore.backend = file\n";
  write_file(conf, std::span(reinterpret_cast<const std::uint8_t*>(conf_text.data()), conf_text.size()));
  std::map<std::string, std::string> env = {{"SOFTHSM2_CONF", conf}};
  auto init = run_command({"softhsm2-util", "--init-token", "--free", "--label", "signer-e2e", "--so-pin", "12345678",
                           "--pin", "4321"},
                          std::chrono::seconds(20), env);
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  auto at = init.out.find("reassigned to slot ");
  ASSERT_NE(at, std::string::npos) << init.out;
  std::string slot = std::to_string(std::stoul(init.out.substr(at + 19)));
  std::string pin_text = "4321\n";
  write_file(dir.file("pin"), std::span(reinterpret_cast<const std::uint8_t*>(pin_text.data()), pin_text.size()));

  Daemon daemon(dir,
                {"--key-provider=pkcs11", "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so", "--pkcs11-slot", slot,
                 "--pkcs11-pin-file", dir.file("pin"), "--pkcs11-label", "e2e"},
                env);
  ASSERT_TRUE(daemon.up()) << daemon.log();
  auto live = daemon.curl_json("GET", "/livez", 200, "");
  EXPECT_EQ(live["dev_only"], false);
  auto [first_key, second_key] = rotate_and_verify(daemon, dir, "pkcs11:e2e:payments:");
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(daemon.log().find("dev-only"), std::string::npos) << daemon.log();
  EXPECT_EQ(daemon.log().find("4321"), std::string::npos);  // the PIN never reaches the log

  // The token holds both halves under <label>:<scope>:<key_id>, and the retired key's
  // private half is gone.
  auto objects = run_command({"pkcs11-tool", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--slot", slot, "--login",
                              "--pin", "4321", "--list-objects"},
                             std::chrono::seconds(20), env);
  ASSERT_EQ(objects.exit_code, 0) << objects.err;
  for (const std::string& id : {first_key, second_key})
    EXPECT_NE(objects.out.find("label:      e2e:payments:" + id), std::string::npos) << objects.out;
  std::size_t private_keys = 0;
  for (auto at = objects.out.find("Private Key Object"); at != std::string::npos;
       at = objects.out.find("Private Key Object", at + 1))
    private_keys++;
  EXPECT_EQ(private_keys, 2u) << objects.out;  // the probe key and the active key; the retired one is gone
}

// openssl CLI: a CA, a server certificate for 127.0.0.1 and a client certificate.
void make_pki(const TempDir& dir) {
  auto run = [](std::vector<std::string> argv) {
    auto r = run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
  };
  std::string ext = "subjectAltName=IP:127.0.0.1\n";
  write_file(dir.file("ext.cnf"), std::span(reinterpret_cast<const std::uint8_t*>(ext.data()), ext.size()));
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
  Daemon daemon(dir,
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

TEST(Daemon, MissingProvidersRefuseToStart) {
  TempDir dir;
  struct Case {
    std::string provider, needle;
  } cases[] = {{"aws-kms", "-DFERROHSM_SIGNER_AWS_KMS=ON"},
               {"gcp-kms", "-DFERROHSM_SIGNER_GCP_KMS=ON"},
               {"azure-kv", "-DFERROHSM_SIGNER_AZURE_KV=ON"},
               {"hsm9000", "unknown key provider"}};
  for (const auto& c : cases) {
    auto r = run_command({FERROHSM_SIGNER_BIN, "--key-provider=" + c.provider, "--listen", "127.0.0.1:0"},
                         std::chrono::seconds(10), {{"XDG_DATA_HOME", dir.file("xdg")}});
    EXPECT_EQ(r.exit_code, 2) << c.provider;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("dev-only"), std::string::npos) << "fell back to the software provider: " << r.err;
  }
  auto list = run_command({FERROHSM_SIGNER_BIN, "--list-providers"});
  EXPECT_EQ(list.exit_code, 0);
  for (auto name : {"software", "pkcs11", "aws-kms", "gcp-kms", "azure-kv"})
    EXPECT_NE(list.out.find(name), std::string::npos) << list.out;
}

}  // namespace
}  // namespace ferrohsm::signer::testing
