// A real server process (ferrohsm-test-server: server_main serving the test service):
// SIGHUP reloads the access rules, SIGTERM lets a call in flight finish and exits 0,
// sockets handed over the systemd way (LISTEN_FDS) are served, and 1,000 connect/kill
// cycles leave its descriptors and memory where they were.
#include "server_fixture.h"
#include "wire/frame.h"
#include "wire/protocol.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <regex>
#include <thread>

namespace ferrohsm::server::testing {
namespace {

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    dir_ = make_temp_dir();
    config_ = dir_ + "/server.toml";
    log_ = dir_ + "/server.log";
  }
  void TearDown() override { remove_tree(dir_); }

  std::unique_ptr<Process> start(const TomlOptions& o, std::vector<int> fds = {}, std::vector<std::string> env = {}) {
    write_file(config_, server_toml(o));
    auto p = std::make_unique<Process>(std::vector<std::string>{test_server_path(), "--config", config_}, env, fds,
                                       !fds.empty());
    // Ready once it has logged where it serves.
    EXPECT_FALSE(wait_for_log(log_, {"serving with"}, std::chrono::seconds(20)).empty()) << read_file(log_);
    return p;
  }

  // The tcp: endpoint the server logged (it listens on port 0).
  std::string logged_tcp_endpoint() {
    std::smatch m;
    std::string text = read_file(log_);
    if (std::regex_search(text, m, std::regex("listening on (tcp:127\\.0\\.0\\.1:[0-9]+)"))) return m[1];
    return {};
  }

  std::string dir_, config_, log_;
};

TEST_F(ProcessTest, SighupReloadsAccessRules) {
  TomlOptions o{.dir = dir_, .access = {other_uid_rule(), "cert:CN=app1"}};
  auto server = start(o);
  std::string unix_ep = "unix:" + dir_ + "/s.sock";
  ASSERT_FALSE(connect(unix_ep).ok());
  std::string tcp = logged_tcp_endpoint();
  auto app1 = connect(tcp, tls_options(test_pki().app1));
  ASSERT_TRUE(app1.ok()) << app1.error().message;

  o.access = {my_uid_rule()};
  write_file(config_, server_toml(o));
  server->signal(SIGHUP);
  ASSERT_FALSE(wait_for_log(log_, {"reloaded", "1 access rules"}).empty());
  auto u = connect(unix_ep);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(echo_ok(**u));
  // app1 was admitted before and is not now: its open connection is closed too.
  EXPECT_TRUE(eventually([&] { return !echo_ok(**app1); }));
  EXPECT_FALSE(connect(tcp, tls_options(test_pki().app1)).ok());

  // A broken file keeps the running configuration.
  write_file(config_, "[server]\nlisten = 7\n");
  server->signal(SIGHUP);
  ASSERT_FALSE(wait_for_log(log_, {"reload refused, the running configuration stays"}).empty());
  EXPECT_TRUE(echo_ok(**u));

  server->signal(SIGTERM);
  int status = server->wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ProcessTest, SigtermFinishesTheCallInFlight) {
  auto server = start({.dir = dir_, .access = {my_uid_rule()}});
  std::string unix_ep = "unix:" + dir_ + "/s.sock";
  auto c = connect(unix_ep);
  ASSERT_TRUE(c.ok()) << c.error().message;
  Result<wire::Return> result = make_error(CKR_GENERAL_ERROR, "not run");
  std::thread t([&] {
    wire::Call call;
    call.set_function(kSlowSleep);
    call.add_args()->set_u(1500);
    result = (*c)->call(call);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the call is on its way
  server->signal(SIGTERM);
  t.join();
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->rv(), CKR_OK);
  int status = server->wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(wait_for_log(log_, {"SIGTERM: stopping"}).empty());
  EXPECT_FALSE(wait_for_log(log_, {"stopped"}).empty());
  EXPECT_NE(::access((dir_ + "/s.sock").c_str(), F_OK), 0);
  EXPECT_FALSE(echo_ok(**c));
}

TEST_F(ProcessTest, SocketActivationServesTheSocketsSystemdPassed) {
  // What systemd does for a .socket unit: bind and listen, then pass the descriptors.
  std::string path = dir_ + "/s.sock";
  int u = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un ua{};
  ua.sun_family = AF_UNIX;
  std::strncpy(ua.sun_path, path.c_str(), sizeof ua.sun_path - 1);
  ASSERT_EQ(::bind(u, reinterpret_cast<sockaddr*>(&ua), sizeof ua), 0);
  ASSERT_EQ(::listen(u, 16), 0);
  int t = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in ta{};
  ta.sin_family = AF_INET;
  ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(t, reinterpret_cast<sockaddr*>(&ta), sizeof ta), 0);
  ASSERT_EQ(::listen(t, 16), 0);
  socklen_t len = sizeof ta;
  ::getsockname(t, reinterpret_cast<sockaddr*>(&ta), &len);
  std::string tcp = "tcp:127.0.0.1:" + std::to_string(ntohs(ta.sin_port));

  // Passed in the other order than the configuration lists them: matched by address.
  auto server = start({.dir = dir_, .tcp = tcp, .access = {my_uid_rule(), "cert:CN=app1"}}, {t, u});
  ::close(u);
  ::close(t);
  EXPECT_FALSE(wait_for_log(log_, {"listening on unix:" + path, "socket from systemd"}).empty());
  EXPECT_FALSE(wait_for_log(log_, {"listening on " + tcp, "socket from systemd"}).empty());
  auto a = connect("unix:" + path);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(echo_ok(**a));
  auto b = connect(tcp, tls_options(test_pki().app1));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(echo_ok(**b));
  server->signal(SIGTERM);
  int status = server->wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "the socket file belongs to systemd";
}

TEST_F(ProcessTest, SocketActivationRefusesASocketNoEntryNames) {
  int t = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in ta{};
  ta.sin_family = AF_INET;
  ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(t, reinterpret_cast<sockaddr*>(&ta), sizeof ta), 0);
  ASSERT_EQ(::listen(t, 16), 0);
  write_file(config_, server_toml({.dir = dir_, .tcp = "", .access = {my_uid_rule()}}));
  Process server({test_server_path(), "--config", config_}, {}, {t}, true);
  ::close(t);
  int status = server.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_FALSE(wait_for_log(log_, {"matches no [server] listen entry"}).empty());
}

// A client that dies in the middle of a call: the kernel closes its socket with the
// call unanswered. (Raw sockets make 1,000 of them quick; a few real processes are
// killed with SIGKILL too.)
void connect_call_and_die(const std::string& path) {
  int fd = raw_unix(path);
  ASSERT_GE(fd, 0);
  wire::Call c;
  c.set_id(1);
  c.set_function(kSlowSleep);
  c.add_args()->set_u(2);
  ASSERT_TRUE(send_all(fd, frame(wire::make_hello(1 << 20)) + frame(c)));
  ::close(fd);
}

TEST_F(ProcessTest, ConnectKillCyclesLeaveDescriptorsAndMemoryWhereTheyWere) {
  // ASan keeps freed memory in quarantine; a small one keeps resident memory honest.
  auto server = start({.dir = dir_, .access = {my_uid_rule(), "!cert:CN=admin", "cert:CN=app1"}}, {},
                      {"ASAN_OPTIONS=quarantine_size_mb=4:detect_leaks=1:abort_on_error=1"});
  pid_t pid = server->pid();
  std::string path = dir_ + "/s.sock";
  std::string tcp = logged_tcp_endpoint();
  auto admin = connect(tcp, tls_options(test_pki().admin));
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  auto connections = [&]() -> uint64_t {
    wire::Call c;
    c.set_function(wire::kServerStatusFunction);
    auto r = (*admin)->call(c);
    return r.ok() ? r->server_status().connections() : 999999;
  };
  auto cycles = [&](int n) {
    for (int i = 0; i < n; ++i) connect_call_and_die(path);
    ASSERT_TRUE(eventually([&] { return connections() == 1; }, std::chrono::seconds(30)));
  };
  cycles(200);  // warm up: allocator caches, thread stacks, protobuf defaults
  int fds_before = open_fd_count(pid);
  long rss_before = resident_kb(pid);
  cycles(1000);
  // A few real client processes over TLS, killed mid-call.
  const Pki& p = test_pki();
  for (int i = 0; i < 5; ++i) {
    std::string out = dir_ + "/client.out";
    Process client({test_client_path(), tcp, std::to_string(kSlowSleep), "5000", p.app1.cert, p.app1.key, p.ca}, {}, {},
                   false, out);
    ASSERT_TRUE(eventually([&] { return read_file(out).find("connected") != std::string::npos; }));
    client.signal(SIGKILL);
    client.wait();
  }
  ASSERT_TRUE(eventually([&] { return connections() == 1; }, std::chrono::seconds(30)));
  ASSERT_TRUE(eventually([&] { return open_fd_count(pid) <= fds_before; }, std::chrono::seconds(10)))
      << open_fd_count(pid) << " descriptors, " << fds_before << " before";
  long rss_after = resident_kb(pid);
  std::printf("server after 1,005 connect/kill cycles: %d descriptors (%d before), %ld kB resident (%ld kB before)\n",
              open_fd_count(pid), fds_before, rss_after, rss_before);
  EXPECT_LE(rss_after, rss_before + 8 * 1024) << "resident " << rss_before << " kB before, " << rss_after << " kB after";
  EXPECT_TRUE(echo_ok(**admin));

  server->signal(SIGTERM);
  int status = server->wait(std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);  // and LeakSanitizer found nothing at exit
}

TEST_F(ProcessTest, CheckValidatesTheConfiguration) {
  write_file(config_, server_toml({.dir = dir_, .access = {my_uid_rule()}}));
  std::string out = dir_ + "/check.out";
  Process ok({test_server_path(), "--config", config_, "--check"}, {}, {}, false, out);
  int status = ok.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(read_file(out).find("is valid"), std::string::npos);
  write_file(config_, "[server]\nlisten = [\"tcp:127.0.0.1:5696\"]\n");
  Process bad({test_server_path(), "--config", config_, "--check"});
  status = bad.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace ferrohsm::server::testing
