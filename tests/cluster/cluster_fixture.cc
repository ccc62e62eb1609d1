#include "cluster_fixture.h"

#include "base/names.h"
#include "support/pg_instance.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

namespace ferrohsm::cluster_test {
namespace {

using server::testing::my_uid_rule;

struct Cluster {
  std::string dir;
  testing::PgInstance pg;
  pid_t restarted_pg = -1;  // the postmaster restart_postgres() started (our child)
  std::vector<std::unique_ptr<ServerProcess>> servers;
};

// Stops the postmaster restart_postgres() started: fast shutdown, SIGKILL after 30 s.
void stop_restarted(Cluster& c) {
  if (c.restarted_pg <= 0) return;
  ::kill(c.restarted_pg, SIGINT);
  int status = 0;
  for (int i = 0; i < 3000 && ::waitpid(c.restarted_pg, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (::waitpid(c.restarted_pg, &status, WNOHANG) == 0) {
    ::kill(c.restarted_pg, SIGKILL);
    ::waitpid(c.restarted_pg, &status, 0);
  }
  c.restarted_pg = -1;
}
Cluster* g_cluster = nullptr;

const char* kNames[kServers] = {"a", "b", "c"};

class ClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    g_cluster = new Cluster();
    g_cluster->dir = server::testing::make_temp_dir();
    const std::string err = g_cluster->pg.start();
    ASSERT_EQ(err, "") << "the private PostgreSQL server did not start";
    ASSERT_EQ(g_cluster->pg.sql("CREATE DATABASE ferrohsm"), "");
    // The three servers start together: the schema is migrated once (an advisory lock).
    const std::string store = "[store]\nbackend = \"postgres\"\nurl = \"" + g_cluster->pg.conninfo("ferrohsm") +
                              "\"\npool_size = 4\n";
    for (const char* name : kNames)
      g_cluster->servers.push_back(std::make_unique<ServerProcess>(sidecar_test::ServerOptions{
          .dir = g_cluster->dir, .name = name, .store_toml = store, .tcp = false, .access = {"!" + my_uid_rule()}}));
    for (const auto& s : g_cluster->servers) ASSERT_TRUE(s->running()) << s->log_path();
    Library lib(lib_conf("setup.toml", {0}));
    ASSERT_EQ(lib.init_rv(), static_cast<CK_RV>(CKR_OK));
    const CK_RV rv = sidecar_test::make_token(lib.f(), kToken);
    ASSERT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << rv_name(rv);
  }
  void TearDown() override {
    for (auto& s : g_cluster->servers) s.reset();  // SIGKILL by pid if still running
    stop_restarted(*g_cluster);  // before the guardian removes the folder
    g_cluster->pg.stop();
    server::testing::remove_tree(g_cluster->dir);
    delete g_cluster;
    g_cluster = nullptr;
  }
};

[[maybe_unused]] ::testing::Environment* const g_env = ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);

}  // namespace

std::string app_path() { return FERROHSM_CLUSTER_APP; }
ServerProcess& server(int i) { return *g_cluster->servers.at(static_cast<size_t>(i)); }
std::string dir() { return g_cluster->dir; }

std::string restart_postgres() {
  Cluster& c = *g_cluster;
  const pid_t old = c.restarted_pg > 0 ? c.restarted_pg : c.pg.server_pid();
  // The same command line as the running postmaster (the arguments are NUL-separated).
  std::vector<std::string> argv;
  {
    const std::string cmdline = server::testing::read_file("/proc/" + std::to_string(old) + "/cmdline");
    for (size_t at = 0; at < cmdline.size();) {
      const size_t end = cmdline.find('\0', at);
      argv.push_back(cmdline.substr(at, end - at));
      at = end == std::string::npos ? cmdline.size() : end + 1;
    }
  }
  if (argv.size() < 3) return "cannot read the postmaster's command line";
  argv[0] = std::filesystem::read_symlink("/proc/" + std::to_string(old) + "/exe").string();
  struct stat data{};
  if (::stat((c.pg.dir() + "/data").c_str(), &data) != 0) return "no data folder";
  // Fast shutdown; it is over when the postmaster has removed its lock file.
  if (c.restarted_pg > 0) {
    stop_restarted(c);
  } else {
    ::kill(old, SIGINT);  // the guardian's child: the guardian reaps it at the end
    bool gone = server::testing::eventually(
        [&] { return !std::filesystem::exists(c.pg.dir() + "/data/postmaster.pid"); }, std::chrono::seconds(30));
    if (!gone) return "postgres did not shut down";
  }
  const std::string log = c.pg.dir() + "/postgres.log";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGINT);  // should this program die, so does the server
    const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND);
    if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(data.st_gid) != 0 || ::setuid(data.st_uid) != 0))
      ::_exit(126);
    if (::chdir(c.pg.dir().c_str()) != 0) ::_exit(126);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (pid < 0) return "fork failed";
  c.restarted_pg = pid;
  const std::string info = c.pg.conninfo("postgres");
  const bool up = server::testing::eventually([&] { return PQping(info.c_str()) == PQPING_OK; },
                                              std::chrono::seconds(30));
  return up ? "" : "postgres did not come back: " + server::testing::read_file(log);
}

std::string lib_conf(const std::string& name, const std::vector<int>& servers) {
  std::vector<std::string> endpoints;
  for (int i : servers) endpoints.push_back(server(i).unix_endpoint());
  const std::string path = dir() + "/" + name;
  sidecar_test::write_lib_toml(path, endpoints);
  return path;
}

CK_SESSION_HANDLE rw_session(CK_FUNCTION_LIST_3_0* f, const std::string& label) {
  CK_SLOT_ID slot = 0;
  CK_RV rv = sidecar_test::find_slot(f, label, slot);
  EXPECT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << "find_slot: " << rv_name(rv);
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (rv == CKR_OK) rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  EXPECT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << "C_OpenSession: " << rv_name(rv);
  if (rv != CKR_OK) return CK_INVALID_HANDLE;
  auto* pin = reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(sidecar_test::kUserPin));
  rv = f->C_Login(s, CKU_USER, pin, std::strlen(sidecar_test::kUserPin));
  if (rv == CKR_USER_ALREADY_LOGGED_IN) rv = CKR_OK;
  EXPECT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << "C_Login: " << rv_name(rv);
  return rv == CKR_OK ? s : CK_INVALID_HANDLE;
}

std::vector<std::string> labels_of(CK_FUNCTION_LIST_3_0* f, CK_SESSION_HANDLE s, const std::string& app) {
  std::vector<std::string> out;
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE t[] = {{CKA_TOKEN, &yes, sizeof yes}, {CKA_APPLICATION, const_cast<char*>(app.data()), app.size()}};
  CK_RV rv = f->C_FindObjectsInit(s, t, 2);
  EXPECT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << rv_name(rv);
  if (rv != CKR_OK) return out;
  std::vector<CK_OBJECT_HANDLE> hs;
  for (CK_OBJECT_HANDLE batch[256]; hs.size() < 100'000;) {
    CK_ULONG n = 0;
    rv = f->C_FindObjects(s, batch, 256, &n);
    EXPECT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << rv_name(rv);
    if (rv != CKR_OK || n == 0) break;
    hs.insert(hs.end(), batch, batch + n);
  }
  EXPECT_EQ(f->C_FindObjectsFinal(s), static_cast<CK_RV>(CKR_OK));
  for (CK_OBJECT_HANDLE h : hs) {
    char buf[128];
    CK_ATTRIBUTE a{CKA_LABEL, buf, sizeof buf};
    rv = f->C_GetAttributeValue(s, h, &a, 1);
    EXPECT_EQ(rv, static_cast<CK_RV>(CKR_OK)) << rv_name(rv);
    if (rv == CKR_OK) out.emplace_back(buf, a.ulValueLen);
  }
  return out;
}

}  // namespace ferrohsm::cluster_test
