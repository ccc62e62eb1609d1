// Peers ferrohsm-server refuses, here with the PKCS#11 server and the library as the
// refused client (tests/server/refusal_test.cc covers each refusal of the network layer
// in detail, with the transport alone): a certificate from another CA, an expired one, a
// uid no [[access]] rule names (a real other uid, as root), and garbage instead of a
// handshake. Each is one log line naming the peer; the application sees no token
// (no slots); an application that is admitted keeps working meanwhile.
#include "base/names.h"
#include "sidecar_fixture.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ferrohsm::sidecar_test {
namespace {

using server::testing::my_uid_rule;
using server::testing::raw_tcp;
using server::testing::raw_unix;
using server::testing::read_until_closed;
using server::testing::send_all;

class SidecarRefusalTest : public SidecarTest {
 protected:
  void SetUp() override {
    SidecarTest::SetUp();
    ::chmod(dir_.c_str(), 0755);  // the unprivileged client reads its configuration here
    server_ = std::make_unique<ServerProcess>(
        ServerOptions{.dir = dir_, .access = {"!" + my_uid_rule(), "cert:CN=app2"}, .socket_mode = "0666"});
    ASSERT_TRUE(server_->running());
    good_ = std::make_unique<Library>(lib_conf("good.toml", {server_->unix_endpoint()}));
    ASSERT_EQ(good_->init_rv(), CKR_OK);
    ASSERT_STREQ(rv_name(make_token(good_->f(), "refusal")), "CKR_OK");
    ASSERT_STREQ(rv_name(open_and_login(good_->f(), "refusal", session_)), "CKR_OK");
  }
  void TearDown() override {
    good_.reset();
    server_.reset();
    SidecarTest::TearDown();
  }

  // The refused application's view: C_Initialize succeeds (no server is not an error),
  // the slot list is empty: no server admits it (C_GetSlotList may not answer
  // CKR_TOKEN_NOT_PRESENT; the slot calls do).
  void refused_app(const std::string& conf, const std::vector<std::string>& prefix = {}) {
    App app({app_path(), module_path(), conf, "slots"}, prefix);
    EXPECT_EQ(app.line(), "slots CKR_OK 0");
    EXPECT_NE(app.wait(), -1);
  }
  // The admitted application, on its connection made before, and a new one over TLS.
  void still_serves() {
    EXPECT_STREQ(rv_name(sign_and_verify(good_->f(), session_, "still served")), "CKR_OK");
    App app({app_path(), module_path(), lib_conf("app2.toml", {server_->tcp_endpoint()}, &test_pki().app2), "together",
             "refusal", "1"});
    EXPECT_EQ(app.line(), "ready");
    app.go();
    EXPECT_EQ(app.line(), "ok 1");
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Library> good_;
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
};

TEST_F(SidecarRefusalTest, CertificateFromAnotherCa) {
  refused_app(lib_conf("other.toml", {server_->tcp_endpoint()}, &test_pki().other_ca_app1));
  EXPECT_FALSE(server_->wait_for_log({"refused 127.0.0.1:", "TLS handshake failed", "client certificate CN=app1,O=Test",
                                      "unable to get local issuer"})
                   .empty());
  still_serves();
}

TEST_F(SidecarRefusalTest, ExpiredCertificate) {
  refused_app(lib_conf("expired.toml", {server_->tcp_endpoint()}, &test_pki().expired_app1));
  EXPECT_FALSE(server_->wait_for_log({"refused 127.0.0.1:", "TLS handshake failed", "client certificate CN=app1,O=Test",
                                      "certificate has expired"})
                   .empty());
  still_serves();
}

// A certificate the CA signed, for a peer no rule names.
TEST_F(SidecarRefusalTest, CertificateNotOnTheList) {
  refused_app(lib_conf("admin-cert.toml", {server_->tcp_endpoint()}, &test_pki().admin));
  EXPECT_FALSE(server_->wait_for_log({"refused cert:CN=admin", "no access rule admits it", "access[1] cert:CN=app2"})
                   .empty());
  still_serves();
}

TEST_F(SidecarRefusalTest, UidNotOnTheList) {
  if (::getuid() != 0) GTEST_SKIP() << "runs the client as another uid (setpriv), which needs root";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  std::string conf = lib_conf("nobody.toml", {server_->unix_endpoint()});
  ::chmod(conf.c_str(), 0644);
  server::testing::write_file(conf + ".log", "");
  ::chmod((conf + ".log").c_str(), 0666);
  refused_app(conf, {"/usr/bin/setpriv", "--reuid=" + std::to_string(nobody->pw_uid),
                     "--regid=" + std::to_string(nobody->pw_gid), "--clear-groups"});
  EXPECT_FALSE(server_->wait_for_log({"refused uid:" + std::to_string(nobody->pw_uid), "pid ",
                                      "no access rule admits it", "access[0] " + my_uid_rule()})
                   .empty());
  // The library's own log says who the server took it to be.
  EXPECT_FALSE(server::testing::wait_for_log(conf + ".log", {"this peer is not allowed to use this server",
                                                             "uid:" + std::to_string(nobody->pw_uid)})
                   .empty())
      << server::testing::read_file(conf + ".log");
  still_serves();
}

TEST_F(SidecarRefusalTest, GarbageInsteadOfAHandshake) {
  bool closed = false;
  int fd = raw_unix(dir_ + "/server.sock");
  ASSERT_GE(fd, 0);
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(read_until_closed(fd, closed), "");
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(server_->wait_for_log({my_uid_rule(), "where a Hello belongs: not a FerroHSM client"}).empty());
  fd = raw_tcp(server_->tcp_endpoint());
  ASSERT_GE(fd, 0);
  send_all(fd, std::string("\x16\x03\x01\x00\x05", 5) + "not a ClientHello");  // a TLS record header, then not TLS
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(server_->wait_for_log({"refused 127.0.0.1:", "TLS handshake failed"}).empty());
  still_serves();
}

}  // namespace
}  // namespace ferrohsm::sidecar_test
