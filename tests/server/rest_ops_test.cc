// The REST listener in operation: its TLS files are read again on reload (in process,
// and through a real ferrohsm-server's SIGHUP) — new connections get the new certificate,
// files that do not load keep the old one; and with [audit] on, REST calls are in the
// audit trail under the client certificate's identity, and `ferrohsm audit verify`
// passes on the file.
#include "rest_fixture.h"

#include "server/dev_pki.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace ferrohsm::server::rest::testing {
namespace {

using server::testing::Process;
using server::testing::read_file;
using server::testing::wait_for_log;
using server::testing::write_file;

// The subject CN of the certificate the listener on `port` presents to a new
// connection (made with CN=app1's client certificate; the server's is not verified:
// it is what is looked at).
std::string presented_cn(int port) {
  int fd = server::testing::raw_tcp("tcp:127.0.0.1:" + std::to_string(port));
  if (fd < 0) return "(no connection)";
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_use_certificate_chain_file(ctx, test_pki().app1.cert.c_str());
  SSL_CTX_use_PrivateKey_file(ctx, test_pki().app1.key.c_str(), SSL_FILETYPE_PEM);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string cn = "(no handshake)";
  if (SSL_connect(ssl) == 1) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    char buf[256] = {};
    if (cert != nullptr) X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    cn = buf;
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return cn;
}

// A self-signed server certificate with this CN, written over `cert` and `key`.
void write_server_cert(const std::string& cn, const std::string& cert, const std::string& key) {
  auto issued = issue_certificate({.common_name = cn, .dns = {"localhost"}, .ips = {"127.0.0.1"}, .server = true}, nullptr);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(write_certificate(cert, issued->cert.get()).ok());
  ASSERT_TRUE(write_private_key(key, issued->key.get()).ok());
}

TEST(RestTlsReload, NewConnectionsGetTheNewFilesAndBadFilesKeepTheOld) {
  auto t = RestUnderTest::start("", [](ServerConfig& c, const std::string& dir) {
    write_file(dir + "/tls.pem", read_file(c.tls_cert));
    write_file(dir + "/tls.key", read_file(c.tls_key));
    c.tls_cert = dir + "/tls.pem";
    c.tls_key = dir + "/tls.key";
  });
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(presented_cn(t->port), "localhost");
  // A connection open across the reload keeps its TLS session: a new one would meet a
  // certificate its client (which verifies against the test CA) refuses.
  auto kept = t->client(test_pki().app1);
  kept->set_keep_alive(true);
  ASSERT_EQ(kept->Get("/livez")->status, 200);

  write_server_cert("reloaded-1", t->config.tls_cert, t->config.tls_key);
  ASSERT_TRUE(t->rest->reload_tls(t->config).ok());
  EXPECT_EQ(presented_cn(t->port), "reloaded-1");
  EXPECT_EQ(kept->Get("/livez")->status, 200);

  // A certificate that does not load, then a key that does not match: both refused,
  // the error names the file, and reloaded-1 stays.
  write_file(t->config.tls_cert, "not a certificate\n");
  auto bad = t->rest->reload_tls(t->config);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(t->config.tls_cert), std::string::npos) << bad.error().message;
  EXPECT_EQ(presented_cn(t->port), "reloaded-1");
  write_server_cert("reloaded-2", t->config.tls_cert, t->dir + "/other.key");
  EXPECT_FALSE(t->rest->reload_tls(t->config).ok());
  EXPECT_EQ(presented_cn(t->port), "reloaded-1");
  // The test PKI's files again: clients that verify against its CA connect anew.
  write_file(t->config.tls_cert, read_file(test_pki().server_cert));
  write_file(t->config.tls_key, read_file(test_pki().server_key));
  ASSERT_TRUE(t->rest->reload_tls(t->config).ok());
  EXPECT_EQ(presented_cn(t->port), "localhost");
  still_serving(*t);
}

// Through the process: SIGHUP reloads the REST listener's files as it does the PKCS#11
// endpoints'.
TEST(RestTlsReload, SighupPresentsTheNewCertificate) {
  const std::string dir = server::testing::make_temp_dir();
  const auto& p = test_pki();
  write_file(dir + "/tls.pem", read_file(p.server_cert));
  write_file(dir + "/tls.key", read_file(p.server_key));
  const std::string log = dir + "/server.log";
  write_file(dir + "/server.toml", "[server]\nlisten = [\"unix:" + dir + "/s.sock\"]\ntls_cert = \"" + dir +
                                       "/tls.pem\"\ntls_key = \"" + dir + "/tls.key\"\nclient_ca = \"" + p.ca + "\"\n" +
                                       "[rest]\nlisten = \"127.0.0.1:0\"\n" +
                                       "[[access]]\npeer = \"cert:CN=app1\"\n[store]\npath = \"" + dir +
                                       "/store.db\"\n[log]\nlevel = \"info\"\ndestination = \"" + log + "\"\n");
  {
    Process server({FERROHSM_SERVER, "--config", dir + "/server.toml"});
    const std::string listening = wait_for_log(log, {"listening on rest:127.0.0.1:"});
    ASSERT_FALSE(listening.empty()) << read_file(log);
    std::smatch m;
    const std::string line = listening;
    ASSERT_TRUE(std::regex_search(line, m, std::regex("rest:127\\.0\\.0\\.1:([0-9]+)")));
    const int port = std::stoi(m[1]);
    EXPECT_EQ(presented_cn(port), "localhost");

    write_server_cert("after-sighup", dir + "/tls.pem", dir + "/tls.key");
    server.signal(SIGHUP);
    ASSERT_FALSE(wait_for_log(log, {"REST: TLS files reloaded"}).empty()) << read_file(log);
    EXPECT_EQ(presented_cn(port), "after-sighup");

    write_file(dir + "/tls.key", "garbage\n");
    server.signal(SIGHUP);
    // Refused (by the server's own TLS check or the REST listener's), the log names the file.
    ASSERT_FALSE(wait_for_log(log, {"stay", "tls.key"}).empty()) << read_file(log);
    EXPECT_EQ(presented_cn(port), "after-sighup");

    server.signal(SIGTERM);
    int status = server.wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << read_file(log);
  }
  server::testing::remove_tree(dir);
}

std::vector<json> audit_records(const std::string& file) {
  std::vector<json> out;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(RestAudit, ASignAndAFailedLoginAreRecordedUnderTheCertificate) {
  ::setenv("FH_REST_AUDIT_PIN", kPin, 1);
  std::string file;
  auto t = RestUnderTest::start("", [&file](ServerConfig& c, const std::string& dir) {
    file = dir + "/audit.jsonl";
    c.core.audit.file = file;
    c.core.audit.token = "rest";
    c.core.audit.pin = "env:FH_REST_AUDIT_PIN";
  });
  ASSERT_NE(t, nullptr);
  auto c = t->client(test_pki().app1);
  problem(c->Post("/v1/tokens/rest/login", json{{"pin", "wrong-pin"}}.dump(), "application/json"), 401,
          "CKR_PIN_INCORRECT");
  const std::string b = login(*c);
  ASSERT_FALSE(b.empty());
  const std::string id = generate(*c, b, {{"type", "ec"}, {"label", "audited"}});
  ASSERT_FALSE(id.empty());
  auto sig = c->Post("/v1/tokens/rest/keys/" + id + "/sign", bearer(b),
                     json{{"mechanism", "ECDSA_SHA256"}, {"data", "c2lnbiBtZQ"}}.dump(), "application/json");
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->status, 200);
  c->Post("/v1/tokens/rest/logout", bearer(b), "", "application/json");
  // Stop: the closing checkpoint is written.
  t->rest.reset();
  t->core.reset();

  bool failed_login = false, sign_init = false;
  for (const json& r : audit_records(file)) {
    const std::string identity = r.value("identity", "");
    if (r.value("function", "") == "C_Login" && r.value("rv", "") == "CKR_PIN_INCORRECT") {
      failed_login = true;
      EXPECT_EQ(identity.rfind("cert:", 0), 0u) << r.dump();
      EXPECT_NE(identity.find("CN=app1"), std::string::npos) << r.dump();
    }
    if (r.value("function", "") == "C_SignInit" && r.contains("object") && r["object"].value("id", "") == id) {
      sign_init = true;
      EXPECT_NE(identity.find("CN=app1"), std::string::npos) << r.dump();
      EXPECT_EQ(r.value("mechanism", ""), "CKM_ECDSA_SHA256");
      EXPECT_EQ(r.value("rv", ""), "CKR_OK");
      EXPECT_EQ(r["object"].value("label", ""), "audited");
    }
  }
  EXPECT_TRUE(failed_login) << read_file(file);
  EXPECT_TRUE(sign_init) << read_file(file);
  EXPECT_EQ(read_file(file).find(kPin), std::string::npos);
  EXPECT_EQ(read_file(file).find("wrong-pin"), std::string::npos);

  const std::string out = t->dir + "/verify.out";
  Process verify({FERROHSM_CLI, "audit", "verify", "--require-signed", file}, {}, {}, false, out);
  int status = verify.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << ": " << read_file(out);
}

}  // namespace
}  // namespace ferrohsm::server::rest::testing
