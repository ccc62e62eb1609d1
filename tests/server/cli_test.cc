// The ferrohsm CLI's server-side commands against a real server: `tls init` makes
// certificates that a server and the sidecar transport accept as they are, and
// `server status` shows an admin what the server is doing.
#include "server_fixture.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/wait.h>

namespace ferrohsm::server::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { remove_tree(dir_); }

  // Runs the CLI; its exit code, with stdout in `out`.
  int cli(std::vector<std::string> args, std::string& out) {
    args.insert(args.begin(), FERROHSM_CLI);
    std::string file = dir_ + "/cli.out";
    Process p(args, {}, {}, false, file);
    int status = p.wait(std::chrono::seconds(60));
    out = read_file(file);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string dir_;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

TEST_F(CliTest, TlsInitMakesCertificatesTheServerAndClientsAccept) {
  std::string pki = dir_ + "/pki";
  std::string out;
  ASSERT_EQ(cli({"tls", "init", pki}, out), 0) << out;
  EXPECT_NE(out.find("for development only"), std::string::npos) << out;
  for (const char* f : {"ca.pem", "server.pem", "client.pem"}) EXPECT_EQ(mode_of(pki + "/" + f), 0644u) << f;
  for (const char* f : {"server.key", "client.key"}) EXPECT_EQ(mode_of(pki + "/" + f), 0600u) << f;
  // Never over what is there.
  std::string before = read_file(pki + "/client.key");
  EXPECT_NE(cli({"tls", "init", pki}, out), 0);
  EXPECT_EQ(read_file(pki + "/client.key"), before);

  InProcessServer s({.dir = dir_,
                     .access = {"cert:CN=ferrohsm-dev-client"},
                     .tls_cert = pki + "/server.pem",
                     .tls_key = pki + "/server.key",
                     .client_ca = pki + "/ca.pem"});
  ASSERT_TRUE(s.started());
  sidecar::ConnectOptions o;
  o.tls = sidecar::TlsFiles{pki + "/client.pem", pki + "/client.key", pki + "/ca.pem", {}};
  std::string port = s.tcp_endpoint().substr(s.tcp_endpoint().rfind(':') + 1);
  for (const std::string& ep : {s.tcp_endpoint(), "tcp:localhost:" + port}) {
    auto c = connect(ep, o);
    ASSERT_TRUE(c.ok()) << ep << ": " << c.error().message;
    EXPECT_EQ((*c)->hello().identity(), "cert:CN=ferrohsm-dev-client,O=FerroHSM development");
    EXPECT_TRUE(echo_ok(**c));
  }
}

TEST_F(CliTest, ServerStatusForAnAdmin) {
  InProcessServer s({.dir = dir_, .access = {"!" + my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  auto app = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
  ASSERT_TRUE(app.ok());
  std::string out;
  ASSERT_EQ(cli({"server", "status", "--endpoint", s.unix_endpoint(), "--json"}, out), 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["connections"], 2);  // the CLI's own and app1's
  EXPECT_EQ(j["sessions"], 2);
  EXPECT_EQ(j["logged_in_tokens"], nlohmann::json::array({"test-token"}));
  EXPECT_EQ(j["listen"].size(), 2u);
  ASSERT_EQ(cli({"server", "status", "--endpoint", s.unix_endpoint()}, out), 0) << out;
  EXPECT_NE(out.find("cert:CN=app1,O=Test: 1"), std::string::npos) << out;
  // app1 is no admin.
  const Pki& p = test_pki();
  EXPECT_NE(cli({"server", "status", "--endpoint", s.tcp_endpoint(), "--cert", p.app1.cert, "--key", p.app1.key, "--ca",
                 p.ca},
                out),
            0);
}

}  // namespace
}  // namespace ferrohsm::server::testing
