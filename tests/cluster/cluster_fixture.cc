#include "cluster_fixture.h"

#include "base/names.h"
#include "support/pg_instance.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <cstring>
#include <memory>

namespace ferrohsm::cluster_test {
namespace {

using server::testing::my_uid_rule;

struct Cluster {
  std::string dir;
  testing::PgInstance pg;
  std::vector<std::unique_ptr<ServerProcess>> servers;
};
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
