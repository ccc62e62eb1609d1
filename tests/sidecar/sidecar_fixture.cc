#include "sidecar_fixture.h"

#include "wire/protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace ferrohsm::sidecar_test {

using server::testing::eventually;
using server::testing::read_file;
using server::testing::write_file;

std::string module_path() { return FERROHSM_MODULE_PATH; }
std::string app_path() { return FERROHSM_SIDECAR_APP; }
CK_FUNCTION_LIST_3_0* module() { return load_module(module_path()); }

// ---- ServerProcess

ServerProcess::ServerProcess(ServerOptions o) : o_(std::move(o)) {
  config_ = o_.dir + "/" + o_.name + ".toml";
  log_ = o_.dir + "/" + o_.name + ".log";
  socket_ = o_.dir + "/" + o_.name + ".sock";
  if (o_.store.empty()) o_.store = o_.dir + "/store.db";
  if (o_.tcp) tcp_ = "tcp:127.0.0.1:0";
  EXPECT_TRUE(start()) << read_file(log_);
}

ServerProcess::~ServerProcess() {
  if (proc_) stop(SIGKILL);
}

pid_t ServerProcess::pid() const { return proc_ ? proc_->pid() : -1; }

bool ServerProcess::start() {
  const server::testing::Pki& p = test_pki();
  std::ostringstream t;
  t << "[server]\nlisten = [\"unix:" << socket_ << "\"" << (tcp_.empty() ? "" : ", \"" + tcp_ + "\"") << "]\n";
  t << "tls_cert = \"" << p.server_cert << "\"\ntls_key = \"" << p.server_key << "\"\nclient_ca = \"" << p.ca << "\"\n";
  t << "workers = 2\nblocking_workers = 2\n";
  if (!o_.socket_mode.empty()) t << "socket_mode = \"" << o_.socket_mode << "\"\n";
  for (const std::string& a : o_.access) {
    const bool admin = a.starts_with("!");
    std::string peer = admin ? a.substr(1) : a, tokens;
    if (const size_t bar = peer.find('|'); bar != std::string::npos) {
      tokens = peer.substr(bar + 1);
      peer.resize(bar);
    }
    t << "[[access]]\npeer = \"" << peer << "\"\n" << (admin ? "admin = true\n" : "");
    if (!tokens.empty()) t << "tokens = [\"" << tokens << "\"]\n";
  }
  if (o_.store_toml.empty()) t << "[store]\npath = \"" << o_.store << "\"\n";
  else t << o_.store_toml;
  t << "[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n";
  t << "[log]\nlevel = \"debug\"\ndestination = \"" << log_ << "\"\n";
  write_file(config_, t.str());
  const size_t from = read_file(log_).size();
  proc_ = std::make_unique<server::testing::Process>(
      std::vector<std::string>{FERROHSM_SERVER, "--config", config_}, o_.env);
  // Serving once it has logged so; the port it took for tcp:…:0 is kept for restarts.
  bool up = eventually(
      [&] {
        std::string text = read_file(log_).substr(from);
        if (text.find("serving with") == std::string::npos) return false;
        std::smatch m;
        if (tcp_.ends_with(":0") && std::regex_search(text, m, std::regex("listening on (tcp:127\\.0\\.0\\.1:[0-9]+)")))
          tcp_ = m[1];
        return true;
      },
      std::chrono::seconds(20));
  if (!up) stop(SIGKILL);
  return up;
}

int ServerProcess::stop(int sig, std::chrono::milliseconds limit) {
  if (!proc_) return -1;
  proc_->signal(sig);
  int status = proc_->wait(limit);
  if (status != -1) proc_.reset();
  return status;
}

std::string ServerProcess::wait_for_log(const std::vector<std::string>& parts, std::chrono::milliseconds limit) const {
  return server::testing::wait_for_log(log_, parts, limit);
}

// ---- the library

void write_lib_toml(const std::string& path, const std::vector<std::string>& endpoints, const ClientCert* cert) {
  std::ostringstream t;
  t << "mode = \"sidecar\"\n[sidecar]\nendpoints = [";
  for (size_t i = 0; i < endpoints.size(); ++i) t << (i ? ", " : "") << '"' << endpoints[i] << '"';
  t << "]\n";
  if (cert != nullptr)
    t << "cert = \"" << cert->cert << "\"\nkey = \"" << cert->key << "\"\nca = \"" << test_pki().ca << "\"\n";
  t << "[log]\nlevel = \"debug\"\ndestination = \"" << path << ".log\"\n";
  write_file(path, t.str());
}

Library::Library(const std::string& conf) : f_(module()), init_rv_(initialize(f_, conf)) {}

Library::~Library() {
  if (init_rv_ == CKR_OK) {
    EXPECT_EQ(f_->C_Finalize(nullptr), static_cast<CK_RV>(CKR_OK));
  }
}

// ---- App

App::App(const std::vector<std::string>& args, const std::vector<std::string>& prefix) {
  int out[2], in[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) return;
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> av;
  for (auto& a : argv) av.push_back(a.data());
  av.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  if (::posix_spawn(&pid_, av[0], &fa, nullptr, av.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(in[0]);
  out_ = out[0];
  in_ = in[1];
}

App::~App() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  if (out_ >= 0) ::close(out_);
  if (in_ >= 0) ::close(in_);
}

std::optional<std::string> App::line(std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (size_t nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string l = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return l;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0 || out_ < 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[512];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

void App::go() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

void App::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int App::wait(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return -1;
  int status = -1;
  // Polled every millisecond: the kill cycles wait for a thousand of these.
  const auto end = std::chrono::steady_clock::now() + limit;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pid_ = -1;
  return status;
}

// ---- status

Status server_status(const std::string& unix_endpoint) {
  Status s;
  auto c = server::testing::connect(unix_endpoint);
  if (!c.ok()) return s;
  wire::Call call;
  call.set_function(wire::kServerStatusFunction);
  auto r = (*c)->call(call);
  if (!r.ok() || r->rv() != CKR_OK) return s;
  s.ok = true;
  s.connections = r->server_status().connections() - 1;  // not this one
  s.sessions = r->server_status().sessions();
  return s;
}

bool wait_for_status(const std::string& unix_endpoint, uint64_t connections, uint64_t sessions,
                     std::chrono::milliseconds limit) {
  Status last;
  bool ok = eventually(
      [&] {
        last = server_status(unix_endpoint);
        return last.ok && last.connections == connections && last.sessions == sessions;
      },
      limit);
  if (!ok)
    ADD_FAILURE() << "server status: " << (last.ok ? "" : "(no answer) ") << last.connections << " connections, "
                  << last.sessions << " sessions; waited for " << connections << " and " << sessions;
  return ok;
}

// ---- SidecarTest

void SidecarTest::SetUp() {
  ::signal(SIGPIPE, SIG_IGN);
  dir_ = server::testing::make_temp_dir();
}

void SidecarTest::TearDown() { server::testing::remove_tree(dir_); }

std::string SidecarTest::lib_conf(const std::string& name, const std::vector<std::string>& endpoints,
                                  const ClientCert* cert) {
  std::string path = dir_ + "/" + name;
  write_lib_toml(path, endpoints, cert);
  return path;
}

}  // namespace ferrohsm::sidecar_test
