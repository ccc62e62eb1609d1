// Peers the server refuses, each with one log line that names it, and the server still
// serving a good client afterwards: a certificate from another CA, an expired one, none
// at all, a uid or certificate no rule admits, garbage instead of a handshake, a wrong
// protocol major, an oversized frame, messages out of order.
#include "server_fixture.h"
#include "wire/frame.h"
#include "wire/protocol.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

namespace ferrohsm::server::testing {
namespace {

class RefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // raw clients write to sockets the server closed
    dir_ = make_temp_dir();
  }
  void TearDown() override { remove_tree(dir_); }

  // The good client the server must still serve.
  void still_serves(InProcessServer& s) {
    auto c = connect(s.tcp_endpoint(), tls_options(test_pki().app1));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(echo_ok(**c));
  }

  std::string dir_;
};

int count_lines(const std::string& path, const std::vector<std::string>& parts) {
  std::istringstream in(read_file(path));
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    n += all;
  }
  return n;
}

// Sends a Hello on a raw socket and reads the HelloReply.
bool raw_hello(int fd, wire::HelloReply& reply, uint32_t major = wire::kProtocolMajor) {
  wire::Hello h = wire::make_hello(wire::kDefaultMaxMessage);
  h.set_major(major);
  if (!send_all(fd, frame(h))) return false;
  std::string got;
  for (int i = 0; i < 200; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.size() >= 4 && got.size() >= 4 + wire::frame_length(reinterpret_cast<const uint8_t*>(got.data()))) break;
  }
  if (got.size() < 4) return false;
  return reply.ParseFromArray(got.data() + 4, static_cast<int>(got.size() - 4));
}

TEST_F(RefusalTest, CertificateFromAnotherCa) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.tcp_endpoint(), tls_options(test_pki().other_ca_app1));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().rv, CKR_DEVICE_ERROR);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused 127.0.0.1:", "TLS handshake failed",
                                           "client certificate CN=app1,O=Test", "unable to get local issuer"})
                   .empty());
  EXPECT_EQ(count_lines(s.log_path(), {"refused"}), 1);
  still_serves(s);
}

TEST_F(RefusalTest, ExpiredCertificate) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.tcp_endpoint(), tls_options(test_pki().expired_app1));
  ASSERT_FALSE(c.ok());
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused", "TLS handshake failed", "certificate has expired"}).empty());
  EXPECT_EQ(count_lines(s.log_path(), {"refused"}), 1);
  still_serves(s);
}

TEST_F(RefusalTest, NoClientCertificate) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  int fd = raw_tcp(s.tcp_endpoint());
  ASSERT_GE(fd, 0);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, test_pki().ca.c_str(), nullptr), 1);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  // In TLS 1.3 the client finishes its side before the server has looked at its
  // certificate; the refusal arrives as an alert on the first read.
  int hs = SSL_connect(ssl);
  std::string hello = frame(wire::make_hello(1 << 20));
  char buf[64];
  int n = hs == 1 ? (SSL_write(ssl, hello.data(), static_cast<int>(hello.size())), SSL_read(ssl, buf, sizeof buf)) : hs;
  EXPECT_LE(n, 0);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  ERR_clear_error();
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused", "TLS handshake failed", "certificate"}).empty());
  EXPECT_EQ(count_lines(s.log_path(), {"refused"}), 1);
  still_serves(s);
}

TEST_F(RefusalTest, UidNotOnTheList) {
  std::string other = other_uid_rule();
  InProcessServer s({.dir = dir_, .access = {other, "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.unix_endpoint());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().rv, CKR_DEVICE_ERROR);
  EXPECT_NE(c.error().message.find("this peer is not allowed to use this server"), std::string::npos);
  EXPECT_NE(c.error().message.find(my_uid_rule()), std::string::npos);
  std::string line = wait_for_log(s.log_path(), {"refused " + my_uid_rule(), "pid ", "no access rule admits it",
                                                 "access[0] " + other, "access[1] cert:CN=app1"});
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(count_lines(s.log_path(), {"refused"}), 1);
  still_serves(s);
}

TEST_F(RefusalTest, GroupRulesAdmitByGid) {
  InProcessServer s({.dir = dir_, .access = {"gid:" + std::to_string(::getgid())}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(echo_ok(**c));
}

TEST_F(RefusalTest, CertificateNotOnTheList) {
  InProcessServer s({.dir = dir_, .access = {"cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  auto c = connect(s.tcp_endpoint(), tls_options(test_pki().app2));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("not allowed"), std::string::npos);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused cert:CN=app2", "no access rule admits it"}).empty());
  EXPECT_EQ(count_lines(s.log_path(), {"refused"}), 1);
  still_serves(s);
}

TEST_F(RefusalTest, GarbageInsteadOfAHandshake) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  bool closed = false;
  // An HTTP request on the unix socket: its first bytes read as a 1.2 GB frame.
  int fd = raw_unix(s.socket_path());
  ASSERT_GE(fd, 0);
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(read_until_closed(fd, closed), "");
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {my_uid_rule(), "where a Hello belongs: not a FerroHSM client"}).empty());
  // A small frame of bytes that are not a Hello.
  fd = raw_unix(s.socket_path());
  send_all(fd, std::string("\0\0\0\5\xff\xff\xff\xff\xff", 9));
  EXPECT_EQ(read_until_closed(fd, closed), "");
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"sent something that is not a FerroHSM Hello"}).empty());
  // Plaintext on the TLS port.
  fd = raw_tcp(s.tcp_endpoint());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused 127.0.0.1:", "TLS handshake failed"}).empty());
  still_serves(s);
}

TEST_F(RefusalTest, WrongProtocolMajor) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  int fd = raw_unix(s.socket_path());
  wire::HelloReply reply;
  ASSERT_TRUE(raw_hello(fd, reply, 2));
  EXPECT_FALSE(reply.accepted());
  EXPECT_EQ(reply.refusal(), "protocol 2.0 is not supported by this server (1.x)");
  bool closed = false;
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"refused " + my_uid_rule(), "protocol 2.0 is not supported"}).empty());
  still_serves(s);
}

TEST_F(RefusalTest, OversizedFrame) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}, .limits = "max_message = 65536"});
  ASSERT_TRUE(s.started());
  int fd = raw_unix(s.socket_path());
  wire::HelloReply reply;
  ASSERT_TRUE(raw_hello(fd, reply));
  ASSERT_TRUE(reply.accepted());
  EXPECT_EQ(reply.max_message(), 65536u);
  auto header = wire::frame_header(65537);
  send_all(fd, std::string(header.begin(), header.end()) + std::string(1000, 'x'));
  bool closed = false;
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {my_uid_rule(), "frame of 65537 bytes, over max_message (65536)"}).empty());

  // The transport knows the server's limit: a call over it fails alone.
  auto c = connect(s.unix_endpoint());
  ASSERT_TRUE(c.ok());
  wire::Call big;
  big.set_function(kEcho);
  big.add_args()->set_data(std::string(70000, 'b'));
  auto r = (*c)->call(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rv, CKR_DEVICE_MEMORY);
  EXPECT_TRUE(echo_ok(**c));
  still_serves(s);
}

TEST_F(RefusalTest, MessagesOutOfOrderOrMalformed) {
  InProcessServer s({.dir = dir_, .access = {my_uid_rule(), "cert:CN=app1"}});
  ASSERT_TRUE(s.started());
  wire::HelloReply reply;
  bool closed = false;
  // A second Hello where a Call belongs.
  int fd = raw_unix(s.socket_path());
  ASSERT_TRUE(raw_hello(fd, reply));
  send_all(fd, frame(wire::make_hello(1 << 20)));
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"sent a Call without an id"}).empty());
  // A call id reused while in flight.
  fd = raw_unix(s.socket_path());
  ASSERT_TRUE(raw_hello(fd, reply));
  wire::Call c;
  c.set_id(5);
  c.set_function(kSlowSleep);
  c.add_args()->set_u(300);
  send_all(fd, frame(c) + frame(c));
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"reused call id 5 while it was in flight"}).empty());
  // Bytes that are not a Call.
  fd = raw_unix(s.socket_path());
  ASSERT_TRUE(raw_hello(fd, reply));
  send_all(fd, std::string("\0\0\0\3\xff\xff\xff", 7));
  read_until_closed(fd, closed);
  EXPECT_TRUE(closed);
  ::close(fd);
  EXPECT_FALSE(wait_for_log(s.log_path(), {"sent a malformed Call"}).empty());
  still_serves(s);
}

}  // namespace
}  // namespace ferrohsm::server::testing
